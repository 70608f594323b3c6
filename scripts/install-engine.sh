#!/usr/bin/env bash
# Install and start a real Docker engine on a Debian-family machine, as root, with no systemd.
# Idempotent: does nothing when an engine already answers with compose v2 and buildx usable.
# Why sid binaries: bookworm's engine is 20.10 (no healthcheck start_interval, old buildx); sid's dockerd,
# buildx and compose run on bookworm's libc/containerd/runc (see shared/ENVIRONMENT.md).
set -euo pipefail

LOG=${DOCKERD_LOG:-/var/log/dockerd.log}
SOCK=/var/run/docker.sock
PLUGINS=/usr/libexec/docker/cli-plugins
MIN_BUILDX=0.17.0   # Compose >= 2.40 refuses to build with an older buildx

say() { printf 'install-engine: %s\n' "$*"; }
die() { printf 'install-engine: FAIL: %s\n' "$*" >&2; exit 1; }

version_ge() { [ "$(printf '%s\n%s\n' "$2" "$1" | sort -V | head -n1)" = "$2" ]; }

buildx_version() { docker buildx version 2>/dev/null | grep -oE 'v?[0-9]+\.[0-9]+\.[0-9]+' | head -n1 | tr -d v; }
compose_version() { docker compose version --short 2>/dev/null | tr -d v; }

engine_ok() {
  docker info --format '{{.ServerVersion}}' >/dev/null 2>&1 || return 1
  local bx cv
  bx=$(buildx_version) cv=$(compose_version)
  [ -n "$cv" ] && [ -n "$bx" ] && version_ge "$bx" "$MIN_BUILDX"
}

report() {
  say "engine $(docker info --format '{{.ServerVersion}}') (API $(docker version --format '{{.Server.APIVersion}}'))," \
      "buildx $(buildx_version), compose $(compose_version), storage $(docker info --format '{{.Driver}}')"
}

if engine_ok; then report; say "an engine already answers: nothing to do"; exit 0; fi

[ "$(id -u)" = 0 ] || die "run as root (installs packages and starts dockerd); on your own workstation install Docker Engine >= 24 with the compose and buildx plugins instead"
command -v apt-get >/dev/null || die "not a Debian-family machine (no apt-get): install Docker Engine >= 24 with the compose and buildx plugins by hand"

export DEBIAN_FRONTEND=noninteractive
if ! command -v dockerd >/dev/null || ! command -v containerd >/dev/null; then
  say "installing docker.io, containerd, runc, iptables, debootstrap, busybox-static from the distribution"
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends docker.io containerd runc iptables debootstrap busybox-static >/dev/null
fi

# Newer dockerd/buildx/compose from sid (trixie as the fallback), unpacked without installing the packages,
# so their dependencies stay bookworm's.
debian_mirror() {
  # deb822 "URIs:" lines first, then one-line "deb URL suite" entries; never a commented-out URL.
  { grep -hE '^URIs:' /etc/apt/sources.list.d/*.sources 2>/dev/null | awk '{print $2}'
    grep -hE '^deb ' /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null | awk '{print $2}'
  } | grep -v security | head -n1 || true
}
mirror=$(debian_mirror)
mirror=${mirror:-http://deb.debian.org/debian}
work=$(mktemp -d)
chmod 755 "$work"
trap 'rm -rf "$work"' EXIT

fetch_suite() {  # unpack docker.io, docker-buildx and docker-compose of suite $1 into $work/root
  local suite=$1 dir="$work/$1"
  mkdir -p "$dir/lists/partial" "$dir/debs"
  echo "deb ${mirror%/} $suite main" >"$dir/sources.list"
  local opts=(-o Dir::Etc::sourcelist="$dir/sources.list" -o Dir::Etc::sourceparts=- -o Dir::State::Lists="$dir/lists"
              -o APT::Sandbox::User=root -qq)
  apt-get "${opts[@]}" update && (cd "$dir/debs" && apt-get "${opts[@]}" download docker.io docker-buildx docker-compose) || return 1
  rm -rf "$work/root"
  for deb in "$dir"/debs/*.deb; do dpkg -x "$deb" "$work/root"; done
}

have_new_binaries() {
  local dv
  dv=$(dockerd --version 2>/dev/null | grep -oE '[0-9]+\.[0-9]+\.[0-9]+' | head -n1)
  [ -n "$dv" ] && version_ge "$dv" 24.0.0 && [ -x "$PLUGINS/docker-buildx" ] && [ -x "$PLUGINS/docker-compose" ] &&
    version_ge "$("$PLUGINS/docker-buildx" version | grep -oE '[0-9]+\.[0-9]+\.[0-9]+' | head -n1)" "$MIN_BUILDX"
}

if ! have_new_binaries; then
  got=""
  for suite in sid trixie; do
    say "fetching dockerd, buildx and compose from Debian $suite ($mirror)"
    if fetch_suite "$suite"; then got=$suite; break; fi
    say "WARN: Debian $suite did not provide them; trying the next suite"
  done
  [ -n "$got" ] || die "could not download docker.io/docker-buildx/docker-compose from sid or trixie on $mirror: check apt access"
  if pgrep -x dockerd >/dev/null; then pkill -x dockerd; sleep 3; fi
  install -m 0755 "$work/root/usr/sbin/dockerd" /usr/sbin/dockerd
  install -m 0755 "$work/root/usr/sbin/docker-proxy" /usr/sbin/docker-proxy
  mkdir -p "$PLUGINS"
  for p in docker-buildx docker-compose; do
    src=$(find "$work/root" -path "*cli-plugins/$p" | head -n1)
    [ -n "$src" ] || die "the $got package did not contain $p"
    install -m 0755 "$src" "$PLUGINS/$p"
  done
fi

if ! docker info >/dev/null 2>&1; then
  say "starting dockerd (log: $LOG)"
  mkdir -p "$(dirname "$LOG")"
  nohup dockerd >"$LOG" 2>&1 &
  for _ in $(seq 1 60); do
    [ -S "$SOCK" ] && docker info >/dev/null 2>&1 && break
    sleep 1
  done
  docker info >/dev/null 2>&1 || { tail -n 30 "$LOG" >&2; die "dockerd did not answer on $SOCK within 60 s (log above)"; }
fi

[ -n "$(compose_version)" ] || die "the compose v2 plugin is not usable ('docker compose version' failed)"
bx=$(buildx_version)
[ -n "$bx" ] || die "the buildx plugin is not usable ('docker buildx version' failed)"
version_ge "$bx" "$MIN_BUILDX" || die "buildx $bx is older than $MIN_BUILDX, which compose needs to build"
report
