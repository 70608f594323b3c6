#!/usr/bin/env bash
# Every test of the repository: lint and types, the automation and pose-service tests (real Docker engine,
# real servers), the API's and the web app's tests, and the browser tests. Stops at the first failure.
# --fast (make test-fast): only lint, types and unit tests; no Docker, no browser.
set -euo pipefail
cd "$(dirname "$0")/.."
fast=false
[ "${1:-}" = "--fast" ] && fast=true

step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

# pytest exits 5 when it collected no test: that is a failure here, not a pass.
run_pytest() {
  local dir=$1 rc=0
  shift
  (cd "$dir" && "$ROOT/.venv/bin/python" -m pytest ${PYTEST_ARGS:-} "$@") || rc=$?
  [ "$rc" = 5 ] && { echo "pytest collected no tests in $dir" >&2; exit 1; }
  [ "$rc" = 0 ] || exit "$rc"
}
ROOT=$PWD
UNIT='not engine and not stack'  # the automation tests that need neither a Docker engine nor the stack

# Fast first: lint, types and unit tests fail in a minute or two, before any Docker or browser test runs.
scripts/setup.sh
# Everything runs on this checkout's own isolated compose project (own volumes, network, image tag, secrets, free
# host ports): the user's stack is never touched, and the guard proves it around the Docker tests below.
SNOWSTACK_PROJECT=$(env -u SNOWSTACK_PROJECT .venv/bin/python -c 'from snowstack.project import suite_project_name; from snowstack.stack_toml import load_stack; print(suite_project_name(load_stack()))')
export SNOWSTACK_PROJECT
step "ruff"
.venv/bin/ruff check .
step "mypy (strict, automation library)"
.venv/bin/mypy
step "mypy (pose service: package, tests, benches)"
(cd backend/pose-service && "$OLDPWD/.venv/bin/mypy" .)
step "automation: unit tests"
run_pytest . -m "$UNIT"
if [ -f backend/package.json ]; then
  step "backend-api: lint (tsc + ESLint)"
  (cd backend && npm run --silent lint)
fi
if [ -f backend/web/package.json ]; then
  step "frontend: lint (tsc + ESLint) and unit tests"
  (cd backend/web && npm run --silent lint && npm test)
fi
if $fast; then
  step "fast tests passed (lint, types, unit); make test runs the Docker and browser tests too"
  exit 0
fi

scripts/setup.sh --test

# In CI, where no user stack exists, the guard first brings one up holding an analysed clip.
GUARD=$(mktemp)
# However the run ends, a user stack the guard seeded (CI) does not outlive it.
trap '.venv/bin/python tests/user_stack_guard.py release "$GUARD" || true; rm -f "$GUARD"' EXIT
step "user-stack guard: snapshot of the user's own stack"
.venv/bin/python tests/user_stack_guard.py snapshot "$GUARD" ${CI:+--seed}

# The API's tests run on a real MongoDB-wire server and start the real pose worker: minutes, so not in --fast.
if [ -f backend/package.json ]; then
  step "backend-api: tests (real database, real pose worker)"
  (cd backend && npm test)
fi
step "pose-service: unit, metric and real-inference tests"
run_pytest backend/pose-service
step "automation: real-engine and whole-stack tests"
run_pytest . -m "not ($UNIT)"

if [ -f backend/web/package.json ]; then
  step "frontend: browser tests"
  (cd backend/web && npm run test:e2e)
fi
# The full-stack bench, once (N=2): its JSON in the log is CI's record of the rebuild times. A goal missed on
# a noisy CI machine is reported, not fatal; a bench that cannot run at all is.
step "bench-rebuild (N=2, JSON below)"
.venv/bin/invoke up --skip-lint --json >/dev/null
bench() {  # run the bench with these flags, print its JSON, say which goals were missed
  local out
  out=$(mktemp)
  .venv/bin/invoke bench-rebuild --runs 2 --json "$@" >"$out" || true
  cat "$out"
  .venv/bin/python - "$out" <<'PY'
import json, sys
try:
    outcome = json.load(open(sys.argv[1]))
except ValueError:
    sys.exit("bench-rebuild did not run to the end (no JSON above)")
missed = [f"{r['name']}/{r['service']}" for r in outcome["record"]["rows"] if r["failed"]]
print(f"bench-rebuild: {len(outcome['record']['rows'])} rows, missed: {', '.join(missed) or 'none'}")
PY
}
bench
.venv/bin/invoke up --dev --skip-lint --json >/dev/null
bench --only dev_sync
.venv/bin/invoke down --volumes --images
step "user-stack guard: the user's own stack is as it was"
.venv/bin/python tests/user_stack_guard.py check "$GUARD"
step "all tests passed"
