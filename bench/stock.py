"""Vans for the generated city day (``python -m bench city --stock``): each
technician carries a random van, each order its bill of materials
(standards/rules/materials.toml), and may restock at the district office.

The generated orders carry no kind, so it is read back from what citygen
draws: adsl skill -> an ADSL install; lan+iptv -> an IPTV-over-LAN install;
lan alone without a deadline -> a LAN install, with one -> a residential
repair; enterprise faults and follow-ups use nothing from the van.
"""

from __future__ import annotations

import random
from dataclasses import replace

from dispatch.routing.problem import Problem, VisitSpec
from standards.materials import bill_of_materials, load_materials


def _job(visit: VisitSpec) -> tuple[str, str] | None:
    skills = set(visit.skills)
    if skills == {"adsl"}:
        return "install", "adsl"
    if skills == {"lan", "iptv"}:
        return "install", "iptv_lan"
    if skills == {"lan"}:
        return ("install", "lan") if visit.deadline_s is None else ("repair", "lan")
    return None


def with_vans(problem: Problem, seed: int) -> Problem:
    """``problem`` with random vans (about a day's worth) and every order's materials."""
    rng = random.Random(seed + 16)
    van_max = {code: item.van_max for code, item in load_materials().items.items()}
    visits = []
    for visit in problem.visits:
        job = _job(visit)
        visits.append(replace(visit, materials=bill_of_materials(*job)) if job else visit)
    techs = []
    for tech in problem.technicians:
        stock = {
            "adsl_modem": rng.randint(0, 2),
            "lan_router": rng.randint(1, 4),
            "stb": rng.randint(0, 3),
            "cable_m": rng.randint(60, 240),
            "rj45": rng.randint(8, 40),
        }
        restock = {code: van_max[code] - qty for code, qty in stock.items() if van_max[code] > qty}
        techs.append(
            replace(tech, stock=stock, restock=restock, depot_lat=tech.start_lat, depot_lon=tech.start_lon)
        )
    return replace(problem, technicians=techs, visits=visits)
