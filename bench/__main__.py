"""Benchmark commands (not tests), one entry point:

    python -m bench solomon --seconds 10 [--instances C101 R2 ...] [--peers]
    python -m bench city --orders 1000 --technicians 100 --seconds 30 [--urgent] [--peers] [--disruptions]
        [--slots 20 [--slot-days 5]]
    python -m bench console --orders 2000 --technicians 200
    python -m bench mobile --technicians 50 --seconds 20
    python -m bench load --minutes 2
    python -m bench reports --orders 100000 [--database-url postgresql+psycopg://...]

``solomon`` and ``city`` time the optimizer (:mod:`bench.routing`),
``console`` the dispatcher's map page in headless chromium
(:mod:`bench.console`), ``mobile`` the technicians' phone API under
gunicorn (:mod:`bench.mobile`), ``load`` the whole service with locust
(:mod:`bench.load`), ``reports`` the managers' reports and exports
(:mod:`bench.reports`). ``python -m bench COMMAND --help`` lists each one's options.
"""

from __future__ import annotations

import importlib
import sys

COMMANDS = {
    "solomon": ("bench.routing", True),
    "city": ("bench.routing", True),
    "console": ("bench.console", False),
    "mobile": ("bench.mobile", False),
    "load": ("bench.load", False),
    "reports": ("bench.reports", False),
}


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0] not in COMMANDS:
        print(__doc__, file=sys.stderr)
        return 2
    module, keeps_command = COMMANDS[argv[0]]
    args = argv if keeps_command else argv[1:]
    return importlib.import_module(module).main(args) or 0


if __name__ == "__main__":
    sys.exit(main())
