#!/usr/bin/env bash
# Every test of the repository: lint and types, the automation and pose-service tests (real Docker engine,
# real servers), the API's and the web app's tests, and the browser tests. Stops at the first failure.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh --test

step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

step "ruff"
.venv/bin/ruff check .
step "mypy (strict, automation library)"
.venv/bin/mypy

step "pytest"
set +e
.venv/bin/python -m pytest ${PYTEST_ARGS:-}
rc=$?
set -e
# pytest exits 5 when it collected no test: that is a failure here, not a pass.
[ "$rc" = 5 ] && { echo "pytest collected no tests" >&2; exit 1; }
[ "$rc" = 0 ] || exit "$rc"

if [ -f backend/package.json ]; then
  step "backend-api: typecheck and tests"
  (cd backend && npm run --silent lint && npm test)
fi
if [ -f backend/web/package.json ]; then
  step "frontend: typecheck, unit and browser tests"
  (cd backend/web && npm run --silent lint && npm test && npm run test:e2e)
fi
step "all tests passed"
