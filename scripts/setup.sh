#!/usr/bin/env bash
# Set up everything this repository needs on a fresh machine: a Docker engine (Debian, as root), the Python
# virtualenv with the automation, the Node dependencies, and with --test the browser the tests drive.
# Idempotent: a second run only checks.
set -euo pipefail
cd "$(dirname "$0")/.."

for_tests=false
[ "${1:-}" = "--test" ] && for_tests=true

say() { printf '\033[1msetup:\033[0m %s\n' "$*"; }

# 1. Docker engine
if docker info >/dev/null 2>&1; then
  say "docker engine answers"
elif [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
  scripts/install-engine.sh
else
  say "WARN: no Docker engine answers and this is not a root Debian machine: install Docker Engine >= 24 with compose v2 and buildx"
fi

# 2. Python: the automation library and the pose service's test dependencies in one virtualenv.
PY=${PYTHON:-python3}
"$PY" -c 'import sys; sys.exit(sys.version_info < (3, 11))' || { echo "setup: Python >= 3.11 is needed (found $("$PY" --version))" >&2; exit 1; }
[ -x .venv/bin/python ] || "$PY" -m venv .venv
stamp=.venv/.installed
# requirements.lock (scripts/lock.sh) holds every package of the venv, pinned with hashes: pip refuses any file
# whose hash differs, whichever index or proxy served it.
if [ ! -f "$stamp" ] || [ -n "$(find requirements.lock pyproject.toml -newer "$stamp" 2>/dev/null)" ]; then
  say "installing Python dependencies into .venv (requirements.lock, hash-checked)"
  .venv/bin/pip install -q --require-hashes -r requirements.lock
  .venv/bin/pip install -q --no-deps -e .   # the automation itself, editable; its dependencies are the lock's
  # A venv from before the one-OpenCV rule also holds opencv-python-headless. Both wheels own cv2/, so removing it
  # takes files opencv-contrib-python needs: reinstall that one (hash-checked) after.
  if .venv/bin/pip show -q opencv-python-headless 2>/dev/null; then
    .venv/bin/pip uninstall -y -q opencv-python-headless
    awk '/^opencv-contrib-python==/ {p = 1} p {print} p && !/\\$/ {exit}' requirements.lock >.venv/opencv.lock
    .venv/bin/pip install -q --require-hashes --no-deps --force-reinstall -r .venv/opencv.lock
  fi
  touch "$stamp"
fi

# 3. Node dependencies of the API and the web app (exact versions from their lockfiles).
for dir in backend backend/web; do
  if [ -f "$dir/package-lock.json" ]; then
    if [ ! -d "$dir/node_modules" ] || [ "$dir/package-lock.json" -nt "$dir/node_modules/.package-lock.json" ]; then
      say "npm ci in $dir"
      (cd "$dir" && npm ci --no-audit --no-fund --loglevel=error)
    fi
  fi
done

# 4. What the tests drive besides our own code: Debian's Chromium and Firefox ESR (browser downloads do not work
#    offline), ffmpeg (test clips are made by the suite itself) and busybox-static (the fixture stack's image).
if $for_tests; then
  missing=()
  command -v chromium >/dev/null || missing+=(chromium)
  command -v firefox-esr >/dev/null || missing+=(firefox-esr)
  command -v ffmpeg >/dev/null || missing+=(ffmpeg)
  [ -x /bin/busybox ] || missing+=(busybox-static)
  if [ ${#missing[@]} -gt 0 ]; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
      say "installing ${missing[*]} for the tests"
      apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
    else
      echo "setup: the tests need ${missing[*]}: apt-get install ${missing[*]}" >&2
      exit 1
    fi
  fi
fi
say "ready"
