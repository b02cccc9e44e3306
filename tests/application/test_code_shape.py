"""The project's own code keeps its shape.

A file stays under 600 lines and a function under 80, unless the function says
at its top why it is long (a docstring or comment line with the words "long
because"); and no module imports, directly or through others, a module that
imports it back (at module level or inside a function, as `grimp`, the graph
library under import-linter, reads them).
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from pathlib import Path

import grimp

ROOT = Path(__file__).resolve().parents[2]
MAX_FILE_LINES = 600
MAX_FUNCTION_LINES = 80
# Where a long function says why: its def line and the five lines after its signature.
HEADER_LINES = 5
REASON = re.compile(r"long because", re.IGNORECASE)
# Not the project's own code: tools' caches, virtualenvs, generated migration scripts.
SKIPPED = ("migrations/versions", "instance", "artifacts", "node_modules")
# The project's top-level packages (as [tool.importlinter] root_packages lists them).
PACKAGES = (
    "application",
    "console",
    "pages",
    "mobile_api",
    "dispatch",
    "workorders",
    "technicians",
    "standards",
    "core",
    "bench",
    "tests",
)


def project_files(root: Path = ROOT) -> list[Path]:
    """Every Python file of the project, outside hidden folders (.venv, .git, caches) and SKIPPED."""
    found = []
    for path in sorted(root.rglob("*.py")):
        relative = path.relative_to(root)
        if any(_not_code(folder) for folder in relative.parts[:-1]):
            continue
        if any(relative.as_posix().startswith(f"{skipped}/") for skipped in SKIPPED):
            continue
        found.append(path)
    return found


def _not_code(folder: str) -> bool:
    return folder.startswith(".") or folder == "__pycache__" or folder.endswith(".egg-info")


def _functions(tree: ast.AST) -> Iterator[ast.FunctionDef | ast.AsyncFunctionDef]:
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            yield node


def long_functions_without_reason(path: Path, source: str) -> list[str]:
    """``path:line name (N lines)`` for each function over the limit that does not say why."""
    lines = source.splitlines()
    offenders = []
    for node in _functions(ast.parse(source, filename=str(path))):
        length = (node.end_lineno or node.lineno) - node.lineno + 1
        if length <= MAX_FUNCTION_LINES:
            continue
        # The def line, and the first lines after a signature spread over several lines.
        header_end = max(node.lineno, node.body[0].lineno) + HEADER_LINES - 1
        header = lines[node.lineno - 1 : header_end]
        if not any(REASON.search(line) for line in header):
            offenders.append(f"{path.relative_to(ROOT)}:{node.lineno} {node.name} ({length} lines)")
    return offenders


def import_cycles(graph: grimp.ImportGraph) -> list[list[str]]:
    """One cycle (as a path of modules back to its start) per group of modules
    that import each other, found as strongly connected components (Tarjan)."""
    imports = {module: sorted(graph.find_modules_directly_imported_by(module)) for module in graph.modules}
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    groups: list[list[str]] = []

    def visit(module: str) -> None:
        # Iterative depth-first search: the chains of imports are deeper than Python's recursion allows.
        work = [(module, iter(imports[module]))]
        index[module] = low[module] = len(index)
        stack.append(module)
        on_stack.add(module)
        while work:
            current, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(imports[child])))
                elif child in on_stack:
                    low[current] = min(low[current], index[child])
                continue
            work.pop()
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[current])
            if low[current] == index[current]:
                group = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    group.append(member)
                    if member == current:
                        break
                if len(group) > 1 or current in imports[current]:
                    groups.append(sorted(group))

    for module in sorted(imports):
        if module not in index:
            visit(module)
    return [_cycle_through(group, imports) for group in sorted(groups)]


def _cycle_through(group: list[str], imports: dict[str, list[str]]) -> list[str]:
    """The shortest way from the group's first module back to itself, inside the group."""
    start, members = group[0], set(group)
    came_from: dict[str, str] = {}
    frontier = [start]
    while frontier:
        following = []
        for module in frontier:
            for child in imports[module]:
                if child not in members:
                    continue
                if child == start:
                    path = [module]
                    while path[-1] != start:
                        path.append(came_from[path[-1]])
                    return [*reversed(path), start]
                if child not in came_from:
                    came_from[child] = module
                    following.append(child)
        frontier = following
    return group  # not reached: a strongly connected group always closes


def test_no_file_is_over_600_lines() -> None:
    too_long = []
    for path in project_files():
        count = len(path.read_text(encoding="utf-8").splitlines())
        if count > MAX_FILE_LINES:
            too_long.append(f"{path.relative_to(ROOT)} ({count} lines)")
    assert not too_long, f"files over {MAX_FILE_LINES} lines (split them by concern):\n" + "\n".join(too_long)


def test_no_function_is_over_80_lines_without_saying_why() -> None:
    offenders = []
    for path in project_files():
        offenders += long_functions_without_reason(path, path.read_text(encoding="utf-8"))
    assert not offenders, (
        f"functions over {MAX_FUNCTION_LINES} lines with no 'long because' at their top "
        "(extract helpers, or say why it is long):\n" + "\n".join(offenders)
    )


def test_no_import_cycle_between_the_project_modules() -> None:
    graph = grimp.build_graph(*PACKAGES, cache_dir=None)
    cycles = import_cycles(graph)
    assert not cycles, "import cycles:\n" + "\n".join(" -> ".join(cycle) for cycle in cycles)


def test_the_checks_see_what_they_look_for(tmp_path: Path) -> None:
    """The shape checks on made-up code: a long function is caught unless it says
    why, and a cycle is reported as a closed path."""
    body = "\n".join(f"    x{i} = {i}" for i in range(MAX_FUNCTION_LINES))
    signature = "def explained(\n    a,\n    b,\n):\n    '''Long because the table is inline.'''\n"
    long_source = f"def quiet():\n{body}\n\n\n{signature}{body}\n"
    inside = ROOT / "made_up.py"
    assert long_functions_without_reason(inside, long_source) == ["made_up.py:1 quiet (81 lines)"]

    graph = grimp.ImportGraph()
    for module in ("shop", "shop.a", "shop.b", "shop.c", "shop.d"):
        graph.add_module(module)
    graph.add_import(importer="shop.a", imported="shop.b")
    graph.add_import(importer="shop.b", imported="shop.c")
    graph.add_import(importer="shop.c", imported="shop.a")
    graph.add_import(importer="shop.c", imported="shop.d")
    assert import_cycles(graph) == [["shop.a", "shop.b", "shop.c", "shop.a"]]
    graph.remove_import(importer="shop.c", imported="shop.a")
    assert import_cycles(graph) == []

    (tmp_path / "pkg" / ".hidden").mkdir(parents=True)
    (tmp_path / "pkg" / "mod.py").write_text("x = 1\n")
    (tmp_path / "pkg" / ".hidden" / "cached.py").write_text("x = 1\n")
    (tmp_path / "migrations" / "versions").mkdir(parents=True)
    (tmp_path / "migrations" / "versions" / "0001.py").write_text("x = 1\n")
    (tmp_path / "migrations" / "env.py").write_text("x = 1\n")
    found = [p.relative_to(tmp_path).as_posix() for p in project_files(tmp_path)]
    assert found == ["migrations/env.py", "pkg/mod.py"]
