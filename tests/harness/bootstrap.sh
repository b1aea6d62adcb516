#!/usr/bin/env bash
# Installs everything the demo and the tests need on a fresh Debian machine, idempotently:
# podman and friends (apt), the podman settings this kernel needs, and a Python virtualenv
# with the pinned control-node requirements under .cache/venv.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
CACHE="$ROOT/.cache"
mkdir -p "$CACHE"

log() { printf '\033[1m[bootstrap]\033[0m %s\n' "$*"; }

need_apt=()
# (a command or a file : the package that provides it; containerd and the CNI plugins are the
# one-node Kubernetes's, tests/harness/k8s/node.sh)
for cmd in podman:podman runc:runc debootstrap:debootstrap newuidmap:uidmap slirp4netns:slirp4netns \
           mvn:maven java:openjdk-17-jdk-headless openssl:openssl containerd:containerd \
           /usr/lib/cni/bridge:containernetworking-plugins iptables:iptables; do
  case "$cmd" in
    /*) [ -e "${cmd%%:*}" ] || need_apt+=("${cmd#*:}") ;;
    *) command -v "${cmd%%:*}" >/dev/null 2>&1 || need_apt+=("${cmd#*:}") ;;
  esac
done
if [ ${#need_apt[@]} -gt 0 ]; then
  log "apt-get install ${need_apt[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq "${need_apt[@]}" >/dev/null
fi

# cgroups v1 (hybrid) and no CAP_SYS_RESOURCE: runc, cgroupfs and ulimits within the hard limit.
conf=/etc/containers/containers.conf
if ! grep -qs 'cgroup_manager = "cgroupfs"' "$conf"; then
  log "writing $conf (runc, cgroupfs, ulimits within this machine's hard limit)"
  mkdir -p /etc/containers
  hard=$(ulimit -Hn); [ "$hard" = unlimited ] && hard=1048576
  nofile=$(( hard < 1048576 ? hard : 1048576 ))
  cat > "$conf" <<CONF
[containers]
default_ulimits = ["nofile=${nofile}:${nofile}", "nproc=${nofile}:${nofile}"]

[engine]
runtime = "runc"
cgroup_manager = "cgroupfs"
CONF
fi

VENV="$CACHE/venv"
stamp="$VENV/.requirements.sha256"
want=$(cat "$ROOT/requirements.txt" "$ROOT/requirements-dev.txt" | sha256sum | cut -d' ' -f1)
if [ ! -x "$VENV/bin/python" ] || [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
  log "creating $VENV"
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install -q --upgrade pip
  "$VENV/bin/pip" install -q -r "$ROOT/requirements-dev.txt"
  echo "$want" > "$stamp"
fi

# Modules that run on the control node (connection local: the integration tests, the Kubernetes
# scenarios, tasks delegated to localhost) get the test hosts' compiled-code cache for the sources
# ansible imports from its module zips (tests/harness/hostpy/kafkaops_zipimport_cache.py). It is on
# only where KAFKAOPS_ZIPIMPORT_CACHE names a directory: the Makefile sets .cache/zipimport.
site=$("$VENV/bin/python" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')
cmp -s "$ROOT/tests/harness/hostpy/kafkaops_zipimport_cache.py" "$site/kafkaops_zipimport_cache.py" ||
  cp "$ROOT/tests/harness/hostpy/kafkaops_zipimport_cache.py" "$site/kafkaops_zipimport_cache.py"
echo "import kafkaops_zipimport_cache" > "$site/kafkaops_zipimport_cache.pth"
mkdir -p "$CACHE/zipimport"

# The collection must be importable as ansible_collections.kafkaops.platform.
link="$CACHE/collections/ansible_collections/kafkaops/platform"
if [ ! -L "$link" ]; then
  mkdir -p "$(dirname "$link")"
  ln -sfn "$ROOT" "$link"
fi
log "ready"
