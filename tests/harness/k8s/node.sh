# shellcheck shell=bash
# A real Kubernetes node for the harness, sourced by kube.sh when KUBE_HARNESS_COMPONENTS names
# "node": containerd (Debian's package, a private instance), a kubelet, kube-proxy (iptables mode)
# and CoreDNS as processes on this machine, pods on a bridge of their own. Kafka's image is built
# locally (podman, from the test hosts' Debian root file system) and imported into containerd:
# no registry is involved. See docs/kubernetes-test-harness.md ("A real node").
#
# One real node per machine: the kubelet's port, the bridge and kube-proxy's iptables chains are
# machine-wide. The run directory that started the node owns it ($NODE_RUNTIME/owner): `up` from
# another run directory fails while that node runs, and `down` of another run directory (a kwok
# harness stopping beside it) leaves it alone.

NODE_NAME=${KUBE_HARNESS_NODE_NAME:-harness-node}
# the pods' subnet; the node's own address is its .1, on a bridge the harness creates
NODE_SUBNET=${KUBE_HARNESS_NODE_SUBNET:-10.244.0}
NODE_IP=$NODE_SUBNET.1
NODE_CIDR=$NODE_SUBNET.0/24
NODE_BRIDGE=kko-cni0
NODE_ZONE=${KUBE_HARNESS_NODE_ZONE:-zone-a}
# kubelet and containerd state that must not live in the repo (pod volumes are mounted there)
NODE_STATE=${KUBE_HARNESS_NODE_STATE:-/var/lib/kafkaops-k8s-node}
NODE_RUNTIME=/run/kafkaops-k8s-node
CONTAINERD_SOCK=$NODE_RUNTIME/containerd.sock
# containerd's content and snapshots outlive a run: a warm start imports no image again
CONTAINERD_ROOT=$CACHE/node/containerd
NODE_LOCK=/run/lock/kafkaops-k8s-node.lock
# the packages the node needs from Debian (containerd 1.6 with its runc shim; the CNI plugins)
NODE_PACKAGES="containerd runc containernetworking-plugins iptables"
CNI_BIN=/usr/lib/cni
NODE_COMPONENTS="containerd kubelet kube-proxy coredns"

ctr_() { ctr --address "$CONTAINERD_SOCK" -n k8s.io "$@"; }

node_wanted() { wanted node; }

# ----------------------------------------------------------------- build ----

node_packages() {
  local missing="" p
  for p in $NODE_PACKAGES; do
    dpkg-query -W -f '${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing="$missing $p"
  done
  [ -z "$missing" ] && return 0
  log "installing Debian packages for the node:$missing"
  # shellcheck disable=SC2086
  DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 install -y --no-install-recommends $missing \
      >"$CACHE/logs/node-apt.log" 2>&1 ||
    { DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 update >>"$CACHE/logs/node-apt.log" 2>&1 &&
      DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 install -y --no-install-recommends $missing \
        >>"$CACHE/logs/node-apt.log" 2>&1; } ||
    die "apt-get install$missing failed, see $CACHE/logs/node-apt.log"
}

node_build() { # LDFLAGS
  local ld=$1 rc=0 coredns_version
  mkdir -p "$CACHE/logs"
  node_packages
  # containerd runs from $BIN like the other processes (kube.sh's pid checks look for that path)
  mkdir -p "$BIN"
  ln -sfn "$(command -v containerd)" "$BIN/containerd"
  build_one "$HERE/apiserver" kubelet k8s.io/kubernetes/cmd/kubelet "$K8S_VERSION" "$ld" || rc=1
  build_one "$HERE/apiserver" kube-proxy k8s.io/kubernetes/cmd/kube-proxy "$K8S_VERSION" "$ld" || rc=1
  coredns_version=$(awk '$1=="require" && $2=="github.com/coredns/coredns" {print $3}
                         $1=="github.com/coredns/coredns" && $2 ~ /^v/ {print $2}' "$HERE/coredns/go.mod" | head -n1)
  build_one "$HERE/coredns" coredns . "$coredns_version" \
    "-s -w -X github.com/coredns/coredns/coremain.GitCommit=$coredns_version" || rc=1
  return $rc
}

# ----------------------------------------------------------------- certs ----

node_certs() {
  (
    cd "$PKI"
    umask 077
    sign_cert kubelet "/O=system:nodes/CN=system:node:$NODE_NAME" client.ext
    sign_cert kube-proxy "/CN=system:kube-proxy" client.ext
    sign_cert coredns "/O=system:masters/CN=kube-harness-coredns" client.ext
    sign_cert kubelet-client "/O=system:masters/CN=kube-apiserver-kubelet-client" client.ext
  )
}

# the API server's flags for a real node: it reaches the kubelet (logs, exec) with a client certificate
node_apiserver_flags() {
  node_wanted || return 0
  echo "--kubelet-client-certificate $PKI/kubelet-client.crt --kubelet-client-key $PKI/kubelet-client.key"
  echo "--kubelet-preferred-address-types InternalIP"
}

# -------------------------------------------------------------- processes ----

node_lock() {
  mkdir -p "$(dirname "$NODE_LOCK")"
  exec 7>>"$NODE_LOCK"
  flock -w 600 7 || die "another kube.sh has held the real node's lock ($NODE_LOCK) for 10 minutes"
}

# the run directory whose node runs on this machine ("" when none)
node_owner() { cat "$NODE_RUNTIME/owner" 2>/dev/null || true; }

# whether the node of run directory $1 still runs (its kubelet's pid file names a live kubelet)
node_owner_running() { PIDS=$1/pids alive kubelet; }

node_network() {
  if ! ip link show "$NODE_BRIDGE" >/dev/null 2>&1; then
    ip link add "$NODE_BRIDGE" type bridge
  fi
  ip addr replace "$NODE_IP/24" dev "$NODE_BRIDGE"
  ip link set "$NODE_BRIDGE" up
  # traffic between pods on the bridge passes iptables (kube-proxy's Service rules need it)
  [ "$(cat /proc/sys/net/bridge/bridge-nf-call-iptables 2>/dev/null)" = 1 ] ||
    { modprobe br_netfilter 2>/dev/null || true; sysctl -qw net.bridge.bridge-nf-call-iptables=1; }
  [ "$(cat /proc/sys/net/ipv4/ip_forward)" = 1 ] || sysctl -qw net.ipv4.ip_forward=1
  mkdir -p "$RUN/node/cni"
  cat >"$RUN/node/cni/10-kafkaops.conflist" <<EOF
{
  "cniVersion": "1.0.0",
  "name": "kafkaops-node",
  "plugins": [
    {"type": "bridge", "bridge": "$NODE_BRIDGE", "isGateway": true, "ipMasq": false, "hairpinMode": true,
     "ipam": {"type": "host-local", "dataDir": "$NODE_RUNTIME/ipam",
              "ranges": [[{"subnet": "$NODE_CIDR", "gateway": "$NODE_IP"}]],
              "routes": [{"dst": "0.0.0.0/0"}]}},
    {"type": "portmap", "capabilities": {"portMappings": true}}
  ]
}
EOF
}

node_containerd_config() {
  cat >"$RUN/node/containerd.toml" <<EOF
version = 2
root = "$CONTAINERD_ROOT"
state = "$NODE_RUNTIME/containerd"
disabled_plugins = ["io.containerd.snapshotter.v1.aufs", "io.containerd.snapshotter.v1.btrfs",
  "io.containerd.snapshotter.v1.zfs", "io.containerd.snapshotter.v1.devmapper",
  "io.containerd.internal.v1.opt", "io.containerd.tracing.processor.v1.otlp"]
[grpc]
  address = "$CONTAINERD_SOCK"
[ttrpc]
  address = "$CONTAINERD_SOCK.ttrpc"
[metrics]
  address = ""
[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "$(node_pause_image)"
  # pod sandboxes ask for an OOM score of -998, which needs CAP_SYS_RESOURCE (not held here)
  restrict_oom_score_adj = true
  enable_selinux = false
  [plugins."io.containerd.grpc.v1.cri".containerd]
    snapshotter = "overlayfs"
    default_runtime_name = "runc"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
        SystemdCgroup = false
        BinaryName = "$(command -v runc)"
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "$CNI_BIN"
    conf_dir = "$RUN/node/cni"
EOF
}

node_kubelet_config() {
  : >"$RUN/node/resolv.conf"   # pods get the cluster DNS only: no search domain or resolver of this machine
  cat >"$RUN/node/kubelet.yaml" <<EOF
apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
# this machine has cgroup v1 (hybrid); Kubernetes >= 1.35 refuses it unless told otherwise
failCgroupV1: false
cgroupDriver: cgroupfs
containerRuntimeEndpoint: unix://$CONTAINERD_SOCK
address: $NODE_IP
port: 10250
readOnlyPort: 0
healthzBindAddress: 127.0.0.1
healthzPort: 10248
authentication:
  anonymous: {enabled: false}
  webhook: {enabled: true}
  x509: {clientCAFile: $PKI/ca.crt}
authorization: {mode: Webhook}
clusterDomain: cluster.local
clusterDNS: [$NODE_IP]
resolvConf: $RUN/node/resolv.conf
podCIDR: $NODE_CIDR
failSwapOn: false
serializeImagePulls: false
# the machine's disk and memory are shared with the other tests: evict only in a real emergency,
# and never collect the locally imported images (there is no registry to pull them back from)
evictionHard: {memory.available: 100Mi, nodefs.available: "1%", nodefs.inodesFree: "1%", imagefs.available: "1%"}
imageGCHighThresholdPercent: 100
imageGCLowThresholdPercent: 99
EOF
  cat >"$RUN/node/kube-proxy.yaml" <<EOF
apiVersion: kubeproxy.config.k8s.io/v1alpha1
kind: KubeProxyConfiguration
clientConnection: {kubeconfig: $RUN/kube-proxy.kubeconfig}
hostnameOverride: $NODE_NAME
mode: iptables
clusterCIDR: $NODE_CIDR
healthzBindAddress: 127.0.0.1:10256
metricsBindAddress: 127.0.0.1:10249
# NodePorts answer on the node's own address only, never on this machine's other interfaces
nodePortAddresses: [$NODE_IP/32]
# leave the machine's conntrack settings alone
conntrack: {maxPerCore: 0, min: 0, tcpEstablishedTimeout: 0s, tcpCloseWaitTimeout: 0s}
iptables: {localhostNodePorts: false, syncPeriod: 30s, minSyncPeriod: 1s}
EOF
  cat >"$RUN/node/Corefile" <<EOF
.:53 {
    bind $NODE_IP
    errors
    health 127.0.0.1:18053
    ready 127.0.0.1:18181
    cache 5
    kubernetes cluster.local in-addr.arpa ip6.arpa {
        kubeconfig $RUN/coredns.kubeconfig
        pods insecure
        ttl 5
    }
}
EOF
}

containerd_ready() { ctr --address "$CONTAINERD_SOCK" version >/dev/null 2>&1; }
kubelet_healthy() { [ "$(curl -s --max-time 2 http://127.0.0.1:10248/healthz 2>/dev/null)" = ok ]; }
proxy_healthy() { curl -sf --max-time 2 http://127.0.0.1:10256/healthz >/dev/null 2>&1; }
coredns_ready() { curl -sf --max-time 2 http://127.0.0.1:18181/ready >/dev/null 2>&1; }

node_ready() {
  api GET "/api/v1/nodes/$NODE_NAME" 2>/dev/null | python3 -c '
import json, sys
n = json.load(sys.stdin)
sys.exit(0 if any(c.get("type") == "Ready" and c.get("status") == "True"
                  for c in n.get("status", {}).get("conditions", [])) else 1)' 2>/dev/null
}

node_fail() { # WHAT LOGNAME
  tail -n 30 "$LOGS/$2.log" >&2 || true
  cmd_down
  die "$1"
}

node_up() {
  local owner
  node_lock
  owner=$(node_owner)
  if [ -n "$owner" ] && [ "$owner" != "$RUN" ]; then
    if node_owner_running "$owner"; then
      cmd_down
      die "a real node already runs on this machine, started from $owner (one per machine: stop it with its kube.sh down)"
    fi
    log "a real node of $owner was left behind: cleaning it up first"
    RUN=$owner PIDS=$owner/pids node_down force
  fi
  [ -x "$BIN/containerd" ] && [ -x "$BIN/kubelet" ] && [ -x "$BIN/kube-proxy" ] && [ -x "$BIN/coredns" ] ||
    die "the node's binaries are missing: run KUBE_HARNESS_COMPONENTS=\"... node\" $0 build"
  mkdir -p "$NODE_STATE/kubelet" "$NODE_STATE/pv" "$NODE_RUNTIME" "$CONTAINERD_ROOT" "$RUN/node"
  echo "$RUN" >"$NODE_RUNTIME/owner"
  write_kubeconfig "$RUN/kubelet.kubeconfig" kubelet "system:node:$NODE_NAME"
  write_kubeconfig "$RUN/kube-proxy.kubeconfig" kube-proxy system:kube-proxy
  write_kubeconfig "$RUN/coredns.kubeconfig" coredns kube-harness-coredns
  node_network
  node_containerd_config
  node_kubelet_config

  # write_kubeconfig left this shell with umask 077: containerd would unpack image layers into
  # directories that only root can enter, and a pod's non-root user could not even load libc
  umask 022
  start_proc containerd --config "$RUN/node/containerd.toml"
  wait_for "containerd on $CONTAINERD_SOCK" containerd_ready || node_fail "containerd did not start" containerd
  node_images || { cmd_down; die "the node's images could not be built or imported"; }

  start_proc kubelet \
    --config "$RUN/node/kubelet.yaml" --kubeconfig "$RUN/kubelet.kubeconfig" \
    --hostname-override "$NODE_NAME" --node-ip "$NODE_IP" --root-dir "$NODE_STATE/kubelet" \
    --cert-dir "$RUN/node/kubelet-pki" \
    --node-labels "topology.kubernetes.io/zone=$NODE_ZONE,topology.kubernetes.io/region=harness,kafkaops.io/harness-node=true"
  wait_for "kubelet healthy" kubelet_healthy || node_fail "the kubelet did not become healthy" kubelet
  start_proc kube-proxy --config "$RUN/node/kube-proxy.yaml"
  wait_for "kube-proxy healthy" proxy_healthy || node_fail "kube-proxy did not become healthy" kube-proxy
  start_proc coredns -conf "$RUN/node/Corefile" -dns.port 53
  wait_for "CoreDNS ready on $NODE_IP:53" coredns_ready || node_fail "CoreDNS did not become ready" coredns
  wait_for "node $NODE_NAME Ready" node_ready || node_fail "node $NODE_NAME did not become Ready" kubelet
  echo "$NODE_IP" >"$RUN/node-ip"
}

# ----------------------------------------------------------------- images ----

# The images the pods run, built with podman on top of the test hosts' Debian image (which has the
# JRE the roles install on VMs), then imported into containerd's Kubernetes namespace.
node_host_image() { python3 "$HERE/../hosts.py" image; }

node_pause_containerfile() { printf 'FROM %s\nUSER 65535:65535\nENTRYPOINT ["/bin/sleep", "infinity"]\n' "$1"; }

node_pause_image() { echo "localhost/kafkaops-pause:$(node_image_key "$(node_pause_containerfile "$(node_host_image_tag)")" | cut -c1-12)"; }

# node_image_key TEXT...: a digest of what an image is built from (its Containerfile, the archive's digest)
node_image_key() { printf '%s\n' "$@" | sha256sum | cut -d' ' -f1; }

node_host_image_tag() { python3 -c 'import sys; sys.path.insert(0, sys.argv[1]); import hosts; print(hosts.image_tag())' "$HERE/.."; }

# node_kafka_image VERSION: the image name the roles are given (platform_kubernetes_image)
node_kafka_image() {
  local version=$1 tarball=$REPO/.cache/kafka/kafka_2.13-$1.tgz
  echo "localhost/kafkaops-kafka:$version-$(node_image_key "$(node_kafka_containerfile "$(node_host_image_tag)" "$version")" \
    "$(cat "$tarball.sha256" 2>/dev/null)" | cut -c1-12)"
}

# podman_build TAG CONTEXT: build an image from CONTEXT/Containerfile unless podman has it
podman_build() {
  podman image exists "$1" && return 0
  log "podman build $1"
  podman build -q --network none -t "$1" -f "$2/Containerfile" "$2" >"$CACHE/logs/node-image.log" 2>&1 ||
    { tail -n 20 "$CACHE/logs/node-image.log" >&2; return 1; }
}

# ctr_import TAG...: import podman's images into containerd unless it has them (same image id)
ctr_import() {
  local tag want have todo="" archive
  for tag in "$@"; do
    want=$(podman image inspect -f '{{.Id}}' "$tag")
    have=$(ctr_ images ls -q "name==$tag" 2>/dev/null | head -n1)
    if [ -n "$have" ] && [ "$(cat "$CONTAINERD_ROOT/.image-$(echo "$tag" | tr '/:' '__')" 2>/dev/null)" = "$want" ]; then
      continue
    fi
    todo="$todo $tag"
  done
  [ -n "$todo" ] || { log "images in containerd: cached"; return 0; }
  archive=$(mktemp -p "$CACHE" node-images.XXXXXX.tar)
  log "importing$todo into containerd"
  # shellcheck disable=SC2086
  podman save -q -m --format docker-archive -o "$archive" $todo &&
    ctr_ images import --no-unpack=false "$archive" >"$CACHE/logs/node-import.log" 2>&1 ||
    { rm -f "$archive"; tail -n 20 "$CACHE/logs/node-import.log" >&2; return 1; }
  rm -f "$archive"
  for tag in $todo; do
    podman image inspect -f '{{.Id}}' "$tag" >"$CONTAINERD_ROOT/.image-$(echo "$tag" | tr '/:' '__')"
  done
}

node_images() {
  local base ctx version tags
  base=$(node_host_image) || return 1
  ctx=$(mktemp -d)
  mkdir -p "$ctx/pause"
  node_pause_containerfile "$base" >"$ctx/pause/Containerfile"
  podman_build "$(node_pause_image)" "$ctx/pause" || { rm -rf "$ctx"; return 1; }
  tags=$(node_pause_image)
  for version in ${KUBE_HARNESS_KAFKA_VERSIONS:-}; do
    [ -s "$REPO/.cache/kafka/kafka_2.13-$version.tgz" ] || "$REPO/tests/harness/kafka_dist.sh" "$version" >/dev/null || return 1
    mkdir -p "$ctx/$version"
    cp "$REPO/.cache/kafka/kafka_2.13-$version.tgz" "$ctx/$version/kafka.tgz"
    node_kafka_containerfile "$base" "$version" >"$ctx/$version/Containerfile"
    podman_build "$(node_kafka_image "$version")" "$ctx/$version" || { rm -rf "$ctx"; return 1; }
    # the name inventories give (platform_kubernetes_image): localhost/kafkaops-kafka:<release>
    podman tag "$(node_kafka_image "$version")" "localhost/kafkaops-kafka:$version"
    tags="$tags $(node_kafka_image "$version") localhost/kafkaops-kafka:$version"
  done
  rm -rf "$ctx"
  # shellcheck disable=SC2086
  ctr_import $tags
}

# The Kafka image: the distribution under /opt/kafka, the start and storage scripts at the paths of
# the Apache image (the roles' "apache" flavour), a console log configuration, user 1000.
node_kafka_containerfile() { # BASE VERSION
  cat <<EOF
FROM $1
ADD kafka.tgz /opt/
RUN ln -s /opt/kafka_2.13-$2 /opt/kafka && mkdir -p /opt/kafka/bin /opt/kafka/config \\
 && printf '%s\n' '#!/bin/bash' \\
      'exec java \${KAFKA_HEAP_OPTS:--Xmx1g} -XX:+UseG1GC -Djava.awt.headless=true \${KAFKA_LOG4J_OPTS:--Dlog4j2.configurationFile=/opt/kafka/config/log4j2.properties} \${KAFKA_OPTS:-} -cp "/opt/kafka/libs/*" kafka.Kafka "\$@"' \\
      >/opt/kafka/bin/kafka-server-start.sh \\
 && printf '%s\n' '#!/bin/bash' \\
      'exec java -Xmx256m -Dlog4j2.configurationFile=/opt/kafka/config/log4j2.properties -cp "/opt/kafka/libs/*" kafka.tools.StorageTool "\$@"' \\
      >/opt/kafka/bin/kafka-storage.sh \\
 && printf '%s\n' 'status = warn' 'appender.out.type = Console' 'appender.out.name = STDOUT' \\
      'appender.out.layout.type = PatternLayout' 'appender.out.layout.pattern = [%d] %p %m (%c)%n' \\
      'rootLogger.level = INFO' 'rootLogger.appenderRef.out.ref = STDOUT' >/opt/kafka/config/log4j2.properties \\
 && chmod 0755 /opt/kafka/bin/*.sh \\
 && useradd --uid 1000 --gid 0 --home-dir /opt/kafka --no-create-home --shell /usr/sbin/nologin appuser
USER 1000:0
WORKDIR /opt/kafka
EOF
}

# the directory of a harness PV: on the real node it is mounted into pods, so it exists and is
# writable by whatever user the pod runs as (hostPath volumes get no fsGroup ownership change)
node_pv_path() { echo "$NODE_STATE/pv/$1"; }

node_pv_prepare() { # NAME
  mkdir -p "$(node_pv_path "$1")"
  chmod 0777 "$(node_pv_path "$1")"
}

# a Released PV of the pool goes back Available: its data goes too
node_pv_scrub() { # NAME
  node_wanted || return 0
  rm -rf "$(node_pv_path "$1")"
  node_pv_prepare "$1"
}

# ------------------------------------------------------------------- down ----

# What kube-proxy --cleanup leaves: the kubelet's own chains (KUBE-FIREWALL, KUBE-KUBELET-CANARY,
# KUBE-IPTABLES-HINT). Every KUBE-* chain of this machine is the node's (one node per machine).
node_iptables_cleanup() {
  local table rule chain
  for table in filter nat mangle; do
    iptables -t "$table" -S 2>/dev/null | grep -E '^-A (INPUT|OUTPUT|FORWARD|PREROUTING|POSTROUTING) .*-j KUBE-' |
      while read -r rule; do
        # shellcheck disable=SC2086
        eval "iptables -t $table -D ${rule#-A }" 2>/dev/null || true
      done || true
    for chain in $(iptables -t "$table" -S 2>/dev/null | awk '$1 == "-N" && $2 ~ /^KUBE-/ {print $2}'); do
      iptables -t "$table" -F "$chain" 2>/dev/null || true
    done
    for chain in $(iptables -t "$table" -S 2>/dev/null | awk '$1 == "-N" && $2 ~ /^KUBE-/ {print $2}'); do
      iptables -t "$table" -X "$chain" 2>/dev/null || true
    done
  done
}

node_down() { # [force]: the owner's run directory is gone
  local c pid m ns owner
  owner=$(node_owner)
  # only the run directory that started the node stops it
  if [ "${1:-}" != force ]; then
    [ -d "$RUN/node" ] || [ "$owner" = "$RUN" ] || return 0
    [ -z "$owner" ] || [ "$owner" = "$RUN" ] || return 0
  fi
  # the kubelet first (so that it restarts nothing), then every container of the node
  for c in coredns kube-proxy kubelet; do stop_proc "$c"; done
  if containerd_ready; then
    for c in $(ctr_ tasks ls -q 2>/dev/null); do ctr_ tasks kill -a -s SIGKILL "$c" >/dev/null 2>&1 || true; done
    sleep 1
    for c in $(ctr_ tasks ls -q 2>/dev/null); do ctr_ tasks delete -f "$c" >/dev/null 2>&1 || true; done
    for c in $(ctr_ containers ls -q 2>/dev/null); do ctr_ containers delete "$c" >/dev/null 2>&1 || true; done
  fi
  stop_proc containerd
  # shims that outlived containerd
  for pid in $(pgrep -f "containerd-shim-runc-v2 .*-address $CONTAINERD_SOCK" 2>/dev/null || true); do kill -KILL "$pid" 2>/dev/null || true; done
  # mounts left under the node's directories (pod volumes, sandboxes' shm, rootfs snapshots), deepest first
  for m in $(awk -v a="$NODE_STATE/" -v b="$NODE_RUNTIME/" -v c="$CONTAINERD_ROOT/" \
               'index($2, a) == 1 || index($2, b) == 1 || index($2, c) == 1 {print $2}' /proc/mounts | sort -r); do
    umount -l "$m" 2>/dev/null || true
  done
  # the pods' network namespaces (containerd names them cni-<uuid>) and the bridge
  for ns in $(ip netns list 2>/dev/null | awk '/^cni-/{print $1}'); do ip netns delete "$ns" 2>/dev/null || true; done
  ip link delete "$NODE_BRIDGE" 2>/dev/null || true
  [ -x "$BIN/kube-proxy" ] && "$BIN/kube-proxy" --cleanup >"$CACHE/logs/kube-proxy-cleanup.log" 2>&1 || true
  node_iptables_cleanup
  rm -rf "$NODE_STATE" "$NODE_RUNTIME"
  log "node $NODE_NAME down (images kept in $CONTAINERD_ROOT)"
}
