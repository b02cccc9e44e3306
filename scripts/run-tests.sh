#!/usr/bin/env bash
# Run the whole suite on SQLite and, when TEST_DATABASE_URL is set, on PostgreSQL at the same time.
# pytest's exit codes: 0 all passed; 1 failures; 2 interrupted; 3 internal error;
# 4 usage error; 5 no tests collected. Anything but 0 fails the run, 5 included,
# so an empty run is never mistaken for a green one.
set -uo pipefail
cd "$(dirname "$0")/.."
# --durations: the slowest tests named at the end of each pass (the CI budget is 20 minutes).
PYTEST=".venv/bin/python -m pytest --durations=25"

run() {
  local label="$1"; shift
  echo "== test suite on ${label} =="
  "$@"
  local rc=$?
  if [ "$rc" -eq 5 ]; then
    echo "pytest collected no tests on ${label}: failing" >&2
    exit 5
  elif [ "$rc" -ne 0 ]; then
    echo "pytest failed on ${label} (exit ${rc})" >&2
    exit "$rc"
  fi
}

.venv/bin/ruff check . || { echo "ruff found problems" >&2; exit 1; }
.venv/bin/ruff format --check . || { echo "files need \`ruff format\`" >&2; exit 1; }
# The layer contracts (pyproject.toml): a broken one fails the run, naming the contract.
.venv/bin/lint-imports || { echo "an import contract is broken" >&2; exit 1; }
# The optimizer and the rules are type-checked ([tool.mypy] in pyproject.toml says which packages).
.venv/bin/mypy || { echo "mypy found type errors" >&2; exit 1; }

pg_url="${TEST_DATABASE_URL:-}"
if [ -n "${CI:-}" ]; then
  # Under CI every service the suite needs must be there: a missing one fails
  # the run instead of quietly leaving half the suite out.
  for var in TEST_DATABASE_URL TEST_REDIS_URL CHROMIUM_PATH; do
    if [ -z "${!var:-}" ]; then
      echo "CI is set but ${var} is not: the run would skip what needs it" >&2
      exit 1
    fi
  done
fi
if [ -z "$pg_url" ]; then
  TEST_DATABASE_URL= run "SQLite" $PYTEST "$@"
  exit 0
fi

# Both passes at once, one per core (the CI machine has two): the PostgreSQL pass
# in the background with its own Redis database (the tests empty theirs), its
# output kept and printed after the SQLite pass, each pass's exit code checked.
redis_url="${TEST_REDIS_URL:-}"
if [[ "$redis_url" =~ ^(redis://[^/]+)(/[0-9]*)?$ ]]; then
  pg_redis="${BASH_REMATCH[1]}/1"
else
  pg_redis="$redis_url"
fi
pg_log="$(mktemp)"
trap 'rm -f "$pg_log"' EXIT
# The browser and solver-only tests do not touch the database: the PostgreSQL pass leaves them out.
(
  TEST_DATABASE_URL="$pg_url" TEST_REDIS_URL="${redis_url:+$pg_redis}" run "PostgreSQL" \
    $PYTEST -m "not browser" --ignore=tests/standards --ignore=tests/dispatch/routing "$@"
) > "$pg_log" 2>&1 &
pg_pid=$!
(TEST_DATABASE_URL= run "SQLite" $PYTEST "$@")
sqlite_rc=$?
wait "$pg_pid"
pg_rc=$?
cat "$pg_log"
if [ "$sqlite_rc" -ne 0 ]; then
  exit "$sqlite_rc"
fi
exit "$pg_rc"
