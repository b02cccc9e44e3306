"""Benchmark command (not a test).

    python -m bench solomon --seconds 10 [--instances C101 R2 ...] [--peers]
        [--write-solutions DIR] [--dir ../shared/bench/solomon] [--settings JSON]
    python -m bench city --orders 1000 --technicians 100 --seconds 30 [--urgent] [--peers]
        [--settings JSON]

Solomon mode solves each instance with the dispatch solver, checks every
solution independently (bench.solomon.check_solution) and prints the gap to
the best-known solution; with --peers it runs VROOM (pyvroom) and PyVRP with
the same time limit in the same run. City mode plans a generated city day
and, with --peers, gives VROOM the same day (matrix, skills, windows, shifts,
lunch, priorities; not the soft restore deadlines) and prints its figures.
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import sys
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import asdict
from datetime import timedelta
from pathlib import Path

from bench.citygen import generate_city
from bench.solomon import (
    SolomonInstance,
    TenthsMatrix,
    check_solution,
    gap_pct,
    read_bks,
    read_instance,
    to_problem,
)
from dispatch.routing import SearchSettings, construction, solve
from dispatch.routing.insertion import insert_urgent
from dispatch.routing.problem import Plan, Problem
from dispatch.routing.settings import (
    ConstructionSettings,
    LocalSearchSettings,
    ModelSettings,
    RuinSettings,
)

# Settings used for Solomon: every customer mandatory; the plan is built by
# dispatch.routing.construction (compiled SISR ruin and recreate, one search per core: the
# published settings and one with larger removals) for 90% of the time, then
# read into the OR-Tools model and polished by a descent. All 56 instances at
# 10 s (two runs, ours / VROOM / PyVRP in the same run, median-mean-worst gap):
# single settings on both cores 0.00-0.56-4.95% / 0.91-1.64-10.57% /
# 0.00-0.24-1.55%; with the two settings 0.00-0.35-2.15% / 0.91-1.66-10.57% /
# 0.00-0.24-1.55%. Before it, OR-Tools' own iterated local search with the
# process portfolio below (construction="") reached 1.00-1.32% median, and
# plain cheapest insertion + guided local search 6.4% (at 5 s).
# The instances beside the checkout (../shared/bench/solomon), wherever the command runs from.
SOLOMON_DIR = Path(__file__).resolve().parents[2] / "shared" / "bench" / "solomon"

SOLOMON_SETTINGS = SearchSettings(
    model=ModelSettings(optional_visits=False, compact_days=False, fair_work_m_per_min=0),
    construction=ConstructionSettings(method="sisr"),
    local_search=LocalSearchSettings(
        iterated_local_search=True,
        metaheuristic="GREEDY_DESCENT",
        lean_operators=True,
        ruin=RuinSettings(avg_removed=20, max_sequence=15),
    ),
    decompose_above_visits=10**9,
)


def _solve_one(instance: SolomonInstance, seconds: float, settings: SearchSettings) -> list[list[int]]:
    plan = solve(to_problem(instance), seconds, matrix=TenthsMatrix(instance), settings=settings)
    if len(plan.unassigned) > 0:
        return []
    return [[int(s.visit_id) for s in r.stops] for r in plan.routes if r.stops]


# Without the construction (construction=""): two differently configured
# OR-Tools searches of the same model in two processes, the better checked
# solution wins. A descent after every ruin suits the long
# routes of the R2/RC2 classes; many quick ruins without it suit R1/RC1.
# Tried on R101 R105 R107 R110 RC101 RC103 RC105 RC107 C203 R205 at 10 s
# (median/mean/worst gap): this pair 1.52/1.52/3.38%; SISR 15 vs 30 removed,
# both with descent 1.54/1.70/3.52; parallel cheapest insertion vs savings,
# both with descent 1.59/1.60/5.28; random-walk ruin (10) mixed in
# 2.59/2.50/5.46; SA start temperature 30 1.83/2.08/5.19, 10 1.54/1.99/4.95;
# 30 removed on the no-descent side 2.06/1.64/3.25; no descent on both
# (20 and 30 removed) 1.53/1.71/3.10. Try others with --portfolio.
PORTFOLIO = (
    {"local_search": {"first_solution": "PARALLEL_CHEAPEST_INSERTION", "improve_after_ruin": True}},
    {"local_search": {"first_solution": "LOCAL_CHEAPEST_INSERTION", "improve_after_ruin": False}},
)


def solve_ours(
    instance: SolomonInstance,
    seconds: float,
    settings: SearchSettings,
    portfolio: Sequence[dict] = PORTFOLIO,
) -> list[list[int]]:
    """Dispatch solver on a Solomon instance: customer numbers per route."""
    if settings.workers < 2 or settings.construction.method:
        return _solve_one(instance, seconds, settings)
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    variants = [SearchSettings.from_dict(overrides, settings) for overrides in portfolio[: settings.workers]]
    context = multiprocessing.get_context("fork")
    with ProcessPoolExecutor(max_workers=len(variants), mp_context=context) as pool:
        results = list(pool.map(_solve_one, [instance] * len(variants), [seconds] * len(variants), variants))
    checked = [(check_solution(instance, r), r) for r in results if r]
    feasible = [(c.cost, r) for c, r in checked if c.feasible]
    if feasible:
        return min(feasible, key=lambda item: item[0])[1]
    return results[0]


def solve_vroom(instance: SolomonInstance, seconds: float) -> list[list[int]]:
    """VROOM (pyvroom) on the same tenths matrix, both cores."""
    import vroom

    problem = vroom.Input()
    problem.set_durations_matrix("car", instance.distance.astype("uint32"))
    depot_window = vroom.TimeWindow(instance.ready[0], instance.due[0])
    for k in range(instance.vehicles):
        problem.add_vehicle(
            vroom.Vehicle(k + 1, start=0, end=0, capacity=[instance.capacity], time_window=depot_window)
        )
    for c in range(1, instance.num_customers + 1):
        problem.add_job(
            vroom.Job(
                c,
                location=c,
                default_service=instance.service[c],
                delivery=[instance.demand[c]],
                time_windows=[vroom.TimeWindow(instance.ready[c], instance.due[c])],
            )
        )
    solution = problem.solve(exploration_level=5, nb_threads=2, timeout=timedelta(seconds=seconds))
    routes: dict[int, list[int]] = {}
    for row in solution.routes.itertuples():
        if row.type == "job":
            routes.setdefault(int(row.vehicle_id), []).append(int(row.id))
    return list(routes.values())


def solve_pyvrp(path: Path, seconds: float) -> list[list[int]]:
    """PyVRP on the instance file (DIMACS rounding), one core, seed 1."""
    import pyvrp
    from pyvrp.stop import MaxRuntime

    data = pyvrp.read(path, round_func="dimacs")
    result = pyvrp.solve(data, stop=MaxRuntime(seconds), seed=1, display=False)
    depots = data.num_depots  # activity idx counts clients from 0
    return [[int(a.idx) + depots for a in r if a.is_client()] for r in result.best.routes()]


def _summary(gaps: list[float]) -> str:
    if not gaps:
        return "n/a"
    return (
        f"median {statistics.median(gaps):6.2f}%  mean {statistics.mean(gaps):6.2f}%  worst {max(gaps):6.2f}%"
    )


def _select(directory: Path, wanted: list[str] | None) -> list[Path]:
    paths = sorted(directory.glob("*.vrp"))
    if not wanted:
        return paths
    return [p for p in paths if any(p.stem.upper().startswith(w.upper()) for w in wanted)]


def run_solomon(args: argparse.Namespace) -> int:
    directory = Path(args.dir)
    paths = _select(directory, args.instances)
    if not paths:
        print(f"no instances in {directory}", file=sys.stderr)
        return 2
    settings = SOLOMON_SETTINGS
    if args.settings:
        settings = SearchSettings.from_dict(json.loads(args.settings), SOLOMON_SETTINGS)
    portfolio = json.loads(args.portfolio) if args.portfolio else PORTFOLIO
    solvers = [("ours", lambda inst, path: solve_ours(inst, args.seconds, settings, portfolio))]
    if args.peers:
        solvers += [
            ("vroom", lambda inst, path: solve_vroom(inst, args.seconds)),
            ("pyvrp", lambda inst, path: solve_pyvrp(path, args.seconds)),
        ]
    gaps: dict[str, list[float]] = {name: [] for name, _ in solvers}
    feasible: Counter = Counter()
    header = f"{'instance':9s} {'BKS':>8s} " + " ".join(f"{n + ' cost':>11s} {'gap':>7s}" for n, _ in solvers)
    print(f"Solomon, {args.seconds:g} s per instance per solver, settings {json.dumps(asdict(settings))}")
    if settings.constructs:
        print(f"construction portfolio {json.dumps([asdict(p) for p in construction.PORTFOLIO])}")
    else:
        print(f"portfolio {json.dumps(list(portfolio))}")
    print(header, flush=True)
    out = Path(args.write_solutions) if args.write_solutions else None
    if out:
        out.mkdir(parents=True, exist_ok=True)
    for path in paths:
        instance = read_instance(path)
        bks = read_bks(path.with_suffix(".sol"))
        cells = []
        for name, run in solvers:
            started = time.monotonic()
            routes = run(instance, path)
            elapsed = time.monotonic() - started
            check = check_solution(instance, routes)
            gap = gap_pct(check.cost, bks)
            if check.feasible:
                feasible[name] += 1
                if gap is not None:
                    gaps[name].append(gap)
                cells.append(
                    f"{check.cost:11.1f} {gap:6.2f}%" if gap is not None else f"{check.cost:11.1f}     n/a"
                )
            else:
                cells.append(f"{'INFEASIBLE':>11s} {'':7s}")
                print(f"  {name} {path.stem}: {'; '.join(check.errors[:3])}", file=sys.stderr)
            if elapsed > args.seconds * 1.5 + 2:
                cells[-1] += "(slow)"
            if out and name == "ours" and check.feasible:
                import vrplib

                vrplib.write_solution(str(out / f"{path.stem}.sol"), routes, {"Cost": round(check.cost, 1)})
        print(f"{path.stem:9s} {bks or float('nan'):8.1f} " + " ".join(cells), flush=True)
    print()
    for name, _ in solvers:
        print(f"{name:6s} feasible {feasible[name]}/{len(paths)}  gap {_summary(gaps[name])}")
    return 0


def _fill_days(problem, plan, fault):
    """The day with every technician who could take ``fault`` held to their
    plan: each stop at its planned start, the last one stretched to the end of
    the shift (or of the working time), the qualified technicians without a
    route off today. Their stops become P3 work without a deadline today."""
    from dataclasses import replace as _replace

    techs = {t.id: t for t in problem.technicians}
    routed = {r.technician_id for r in plan.routes if r.stops}
    stretch: dict = {}
    held: dict = {}
    for route in plan.routes:
        tech = techs[route.technician_id]
        if not fault.skills <= tech.skills or not route.stops:
            continue
        spare = tech.shift_end_s - route.end_s
        if tech.max_work_s is not None:
            spare = min(spare, tech.max_work_s - route.work_s)
        stretch[route.stops[-1].visit_id] = max(0, spare - 120)
        held.update({s.visit_id: s.start_s for s in route.stops})
    visits = []
    for v in problem.visits:
        if v.id == fault.id:
            continue
        if v.id in held:
            v = _replace(
                v,
                duration_s=v.duration_s + stretch.get(v.id, 0),
                window_start_s=held[v.id],
                window_end_s=held[v.id],
                priority="P3",
                deadline_s=None,
            )
        visits.append(v)
    working = [t for t in problem.technicians if t.id in routed or not fault.skills <= t.skills]
    return _replace(problem, technicians=working, visits=visits)


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def _time_urgent(problem: Problem, plan: Plan) -> None:
    """One P1 fault into the planned day: as planned, then with every stop held to its time."""
    from dispatch.routing.problem import VisitSpec

    anchor = problem.visits[len(problem.visits) // 2]
    fault = VisitSpec(
        "URGENT-1",
        anchor.lat + 0.004,
        anchor.lon - 0.003,
        40 * 60,
        8 * 3600,
        17 * 3600,
        skills=frozenset({"lan"}),
        priority="P1",
        deadline_s=14 * 3600,
    )
    started = time.monotonic()
    updated = insert_urgent(problem, plan, fault, time_limit_s=2)
    where = next((r.technician_id for r in updated.routes for s in r.stops if s.visit_id == fault.id), None)
    stats = updated.stats
    print(
        f"urgent insertion: {time.monotonic() - started:.2f} s, placed with {where}, "
        f"start {stats.get('start_s')} s, +{stats.get('extra_travel_m', 0) / 1000:.1f} km, "
        f"technicians tried {stats.get('candidates')}, displaced {len(stats.get('displaced', []))}, "
        f"delayed {len(stats.get('delayed', []))}, travel {updated.travel_m / 1000:.1f} km"
    )
    # The same fault with every stop held to its planned time and each
    # qualified route stretched to the end of the shift: only the idle gaps
    # between stops are left, else lower-priority work is displaced.
    full = _fill_days(problem, updated, fault)
    started = time.monotonic()
    forced = insert_urgent(full, updated, fault, time_limit_s=2)
    stats = forced.stats
    print(
        f"urgent insertion, stops held to their times: {time.monotonic() - started:.2f} s, "
        f"placed {bool(stats.get('changed_routes'))}, technicians tried {stats.get('candidates')}, "
        f"displaced {len(stats.get('displaced', []))} {stats.get('displaced', [])}, "
        f"delayed {len(stats.get('delayed', []))}"
    )


def run_city(args: argparse.Namespace) -> int:
    problem = generate_city(args.orders, args.technicians, seed=args.seed)
    if args.stock:
        from bench.stock import with_vans

        problem = with_vans(problem, args.seed)
    priority = {v.id: v.priority for v in problem.visits}
    started = time.monotonic()
    settings = SearchSettings.from_dict(json.loads(args.settings)) if args.settings else None
    plan = solve(problem, args.seconds, settings=settings)
    elapsed = time.monotonic() - started
    reasons = Counter(u.reason for u in plan.unassigned)
    p1_dropped = sum(1 for u in plan.unassigned if priority[u.visit_id] == "P1")
    p1_total = sum(1 for p in priority.values() if p == "P1")
    print(f"city day: {args.orders} orders, {args.technicians} technicians, limit {args.seconds:g} s")
    print(
        f"ours : status {plan.status}, travel {plan.travel_m / 1000:.1f} km, "
        f"SLA breaches {plan.breaches}, unassigned {len(plan.unassigned)} {dict(reasons)}, "
        f"P1 dropped {p1_dropped}/{p1_total}, routes {len(plan.routes)}, solve {elapsed:.1f} s, "
        f"peak RSS {_peak_rss_mb():.0f} MB (children {_children_rss_mb():.0f} MB), "
        f"{plan.stats}",
        flush=True,
    )
    if args.stock:
        print(f"restock stops: {sum(len(r.restocks) for r in plan.routes)}", flush=True)
    if args.urgent:
        _time_urgent(problem, plan)
    if args.disruptions:
        from bench.disruptions import run_disruptions

        run_disruptions(problem, plan, args)
    if args.slots:
        from bench.booking import run_slots

        run_slots(problem, plan, args.slots, args.slot_days)
    if args.peers:
        started = time.monotonic()
        figures = solve_city_vroom(problem, args.seconds)
        print(
            f"vroom: travel {figures['travel_km']:.1f} km, SLA breaches {figures['breaches']}, "
            f"unassigned {figures['unassigned']}, P1 dropped {figures['p1_dropped']}/{p1_total}, "
            f"routes {figures['routes']}, solve {time.monotonic() - started:.1f} s "
            "(same matrix, skills, windows, shifts and lunch; deadlines are not in VROOM's model, "
            "priorities map to VROOM priorities)",
            flush=True,
        )
    return 0


# VROOM priorities (0..100): what to keep when not everything fits.
VROOM_PRIORITY = {"P1": 100, "P2": 30, "P3": 5}


def solve_city_vroom(problem, seconds: float) -> dict:
    """VROOM on the city day with what it can express: the same travel matrix
    (cost = metres, duration = seconds), skills, appointment windows, shifts,
    lunch breaks and priorities. Restore deadlines are soft in our model and
    absent from VROOM's; breaches are counted on its plan afterwards."""
    import numpy as np
    import vroom

    from dispatch.routing.matrix import HaversineMatrix

    visits, techs = problem.visits, problem.technicians
    points = (
        [(v.lat, v.lon) for v in visits]
        + [(t.start_lat, t.start_lon) for t in techs]
        + [(t.end_lat, t.end_lon) for t in techs]
    )
    matrix = HaversineMatrix(area_type=problem.area_type)
    durations = matrix.durations_s(points)
    distances = np.rint(matrix.distances_m(points)).astype(np.int64)
    skill_ids: dict[str, int] = {}

    def skill_set(skills) -> set[int]:
        return {skill_ids.setdefault(s, len(skill_ids) + 1) for s in skills}

    vroom_input = vroom.Input()
    vroom_input.set_durations_matrix("car", durations.astype("uint32"))
    vroom_input.set_costs_matrix("car", distances.astype("uint32"))
    n, m = len(visits), len(techs)
    for k, tech in enumerate(techs):
        breaks = []
        if tech.lunch_duration_s and tech.lunch_earliest_s is not None and tech.lunch_latest_s is not None:
            window = vroom.TimeWindow(tech.lunch_earliest_s, tech.lunch_latest_s)
            breaks = [vroom.Break(k + 1, time_windows=[window], service=tech.lunch_duration_s)]
        vroom_input.add_vehicle(
            vroom.Vehicle(
                k + 1,
                start=n + k,
                end=n + m + k,
                skills=skill_set(tech.skills),
                time_window=vroom.TimeWindow(tech.shift_start_s, tech.shift_end_s),
                breaks=breaks,
            )
        )
    for i, visit in enumerate(visits):
        vroom_input.add_job(
            vroom.Job(
                i + 1,
                location=i,
                default_service=visit.duration_s,
                skills=skill_set(visit.skills),
                priority=VROOM_PRIORITY.get(visit.priority, 0),
                time_windows=[vroom.TimeWindow(visit.window_start_s, visit.window_end_s)],
            )
        )
    solution = vroom_input.solve(exploration_level=5, nb_threads=2, timeout=timedelta(seconds=seconds))
    sequences: dict[int, list[tuple[int, int]]] = {}
    for row in solution.routes.itertuples():
        if row.type == "job":
            start_s = int(row.arrival) + int(row.waiting_time)
            sequences.setdefault(int(row.vehicle_id) - 1, []).append((int(row.id) - 1, start_s))
    travel_m, breaches, placed = 0.0, 0, set()
    for k, stops in sequences.items():
        here = n + k
        for i, start_s in stops:
            travel_m += float(distances[here, i])
            here = i
            placed.add(i)
            deadline = visits[i].deadline_s
            breaches += int(deadline is not None and start_s > deadline)
        travel_m += float(distances[here, n + m + k])
    left_out = [visits[i] for i in range(n) if i not in placed]
    return {
        "travel_km": travel_m / 1000,
        "breaches": breaches,
        "unassigned": len(left_out),
        "p1_dropped": sum(1 for v in left_out if v.priority == "P1"),
        "routes": len(sequences),
    }


def _children_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024.0


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(prog="python -m bench")
    sub = parser.add_subparsers(dest="mode", required=True)
    sol = sub.add_parser("solomon", help="Solomon VRPTW gap to best-known")
    sol.add_argument("--seconds", type=float, default=10.0)
    sol.add_argument("--instances", nargs="*", help="names or prefixes, e.g. C101 R2")
    sol.add_argument("--peers", action="store_true", help="also run VROOM and PyVRP")
    sol.add_argument("--write-solutions", metavar="DIR")
    sol.add_argument("--dir", default=str(SOLOMON_DIR))
    sol.add_argument(
        "--settings", help='JSON overrides of SearchSettings, nested: {"construction": {"share": 0.8}}'
    )
    sol.add_argument("--portfolio", help="JSON list of per-process overrides (experiments)")
    city = sub.add_parser("city", help="a generated city day")
    city.add_argument("--orders", type=int, default=1000)
    city.add_argument("--technicians", type=int, default=100)
    city.add_argument("--seconds", type=float, default=30.0)
    city.add_argument("--seed", type=int, default=1)
    city.add_argument("--urgent", action="store_true", help="also time an urgent insertion")
    city.add_argument(
        "--stock", action="store_true", help="limited vans and bills of materials (bench.stock)"
    )
    city.add_argument("--peers", action="store_true", help="also run VROOM on the same day")
    city.add_argument("--settings", help="JSON SearchSettings, nested as for solomon (experiments)")
    city.add_argument("--disruptions", action="store_true", help="also fire the four disruptions at 10:00")
    city.add_argument("--replan-seconds", type=float, default=5.0, help="a disruption's re-solve limit")
    city.add_argument("--full-seconds", type=float, default=30.0, help="the full re-plan's limit, compared")
    city.add_argument("--slots", type=int, default=0, help="also time proposing slots for N new orders")
    city.add_argument("--slot-days", type=int, default=1, help="days priced per order, each as full")
    args = parser.parse_args(argv)
    return run_solomon(args) if args.mode == "solomon" else run_city(args)


if __name__ == "__main__":
    sys.exit(main())
