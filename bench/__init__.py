"""Benchmark commands (not tests): ``python -m bench load``."""
