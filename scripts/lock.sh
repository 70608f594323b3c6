#!/usr/bin/env bash
# Regenerate requirements.lock: every Python package of .venv (the automation with its dev and plot extras, and the
# pose service's test requirements) at an exact version with its hashes. scripts/setup.sh installs it with
# --require-hashes. Run after changing a pin in pyproject.toml or backend/pose-service/requirements*.txt.
# pip itself stays out (the venv brings it); index URLs stay out (they are this machine's pip config, not the project's).
set -euo pipefail
cd "$(dirname "$0")/.."
.venv/bin/pip-compile --quiet --generate-hashes --strip-extras --unsafe-package pip \
  --no-emit-index-url --no-emit-find-links --extra dev --extra plot \
  --output-file requirements.lock pyproject.toml backend/pose-service/requirements-dev.txt
