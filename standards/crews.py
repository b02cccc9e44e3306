"""How many technicians a job needs on site together, by default.

Enterprise circuit installs (SDH, MPLS VPN) put equipment into a customer's rack and test
both ends of the circuit at once: two technicians. Every other job takes one. Staff may set
the crew size of any order at intake or afterwards (workorders.crews).
"""

from __future__ import annotations

MAX_CREW_SIZE = 2
TWO_TECHNICIAN_INSTALLS = frozenset({"sdh", "mpls_vpn"})


def default_crew_size(kind: str, product: str) -> int:
    """1, or 2 for an install of an enterprise circuit product."""
    return 2 if kind == "install" and product in TWO_TECHNICIAN_INSTALLS else 1
