"""Technicians: skills, home base, shift and lunch break."""
