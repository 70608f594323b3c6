#!/bin/sh
# Starts dockerd as the container's main process. Listens on the unix socket and, unencrypted, on tcp :2375:
# publish that port on the host's loopback only (a node's engine is root on the node). Extra dockerd flags
# (--insecure-registry ADDRESS, --node-generic-resource ...) come as arguments.
set -eu
# cgroup v2: move this shell out of the root cgroup so dockerd can enable controllers for its children
# (what the official dind image's entrypoint does).
if [ -f /sys/fs/cgroup/cgroup.controllers ]; then
  mkdir -p /sys/fs/cgroup/init
  xargs -rn1 < /sys/fs/cgroup/cgroup.procs > /sys/fs/cgroup/init/cgroup.procs 2>/dev/null || :
  sed -e 's/ / +/g' -e 's/^/+/' < /sys/fs/cgroup/cgroup.controllers > /sys/fs/cgroup/cgroup.subtree_control || :
fi
driver=overlay2
probe=/var/lib/docker/.overlay-probe
mkdir -p "$probe/l" "$probe/u" "$probe/w" "$probe/m"
if ! mount -t overlay overlay -o "lowerdir=$probe/l,upperdir=$probe/u,workdir=$probe/w" "$probe/m" 2>/dev/null; then
  driver=vfs
  echo "dind: overlay2 unavailable on /var/lib/docker (not a volume?): using vfs" >&2
else
  umount "$probe/m"
fi
rm -rf "$probe"
rm -f /var/run/docker.pid
exec dockerd --host=unix:///var/run/docker.sock --host=tcp://0.0.0.0:2375 --tls=false \
  --storage-driver="$driver" "$@"
