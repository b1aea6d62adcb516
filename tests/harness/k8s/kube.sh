#!/usr/bin/env bash
# Kubernetes API test harness: a real kube-apiserver (plus etcd and, when
# built, kube-controller-manager, kube-scheduler and kwok fake nodes) on
# loopback, without any kubelet.  See docs/kubernetes-test-harness.md.
#
#   kube.sh build    build/cache the binaries and the CRDs (OpenShift, ServiceMonitor)
#   kube.sh up       start everything (idempotent), write the kubeconfig
#   kube.sh status   show what runs (exit 0 when the API server is ready)
#   kube.sh down     stop everything and remove the run state
#   kube.sh env      print shell exports (KUBECONFIG, ...) for a running harness
#   kube.sh recycle-pvs  make the Released PVs of the "harness" pool Available again
#   kube.sh building exit 0 while a build runs (make test's, in the background), else 1
#   kube.sh kafka-image VERSION  print the name of the node's Kafka image of that release
#
# With "node" in KUBE_HARNESS_COMPONENTS, `build` also builds a kubelet, kube-proxy and CoreDNS and
# `up` starts a real node (containerd, kubelet, kube-proxy, CoreDNS) instead of kwok: node.sh.
#
# Environment knobs (all optional):
#   KUBE_HARNESS_CACHE       cache root (default: <repo>/.cache/k8s)
#   KUBE_HARNESS_RUN         run-state directory (default: $KUBE_HARNESS_CACHE/run);
#                            a second directory gives a second, independent cluster
#   KUBE_HARNESS_COMPONENTS  what to build/start; default
#                            "etcd kube-apiserver kube-controller-manager kube-scheduler kwok"
#                            (etcd and kube-apiserver are always included); "node" adds a real
#                            node (kubelet, kube-proxy, CoreDNS, containerd) and replaces kwok
#   KUBE_HARNESS_KAFKA_VERSIONS  Kafka releases whose image the real node gets at `up`
#   KUBE_HARNESS_NODES       number of kwok fake nodes (default 3, zones a,b,c round robin)
#   KUBE_HARNESS_GO_PARALLEL go build -p value (default 2: both cores whenever the tests leave them idle)
#   KUBE_HARNESS_NICE        niceness of the build (default 0: in make test the Kubernetes
#                            scenarios wait for it, so it is on the critical path)
#   KUBE_HARNESS_GO          path of the go command (default: go on PATH, else /usr/local/go/bin/go)
#   KUBE_HARNESS_TIMEOUT     seconds to wait for readiness (default 120)
#   KUBE_HARNESS_PVS         hostPath PersistentVolumes of StorageClass "harness" created
#                            at up when kube-controller-manager runs (default 24)
#   KUBE_HARNESS_PV_SIZE     capacity of each of them (default 100Gi)
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$HERE/../../.." && pwd)
CACHE=${KUBE_HARNESS_CACHE:-$REPO/.cache/k8s}
BIN=$CACHE/bin
CRDS=$CACHE/crds
RUN=${KUBE_HARNESS_RUN:-$CACHE/run}
PIDS=$RUN/pids
LOGS=$RUN/logs
PKI=$RUN/pki
KUBECONFIG_FILE=$RUN/kubeconfig
TIMEOUT=${KUBE_HARNESS_TIMEOUT:-120}
NODES=${KUBE_HARNESS_NODES:-3}
GO_PARALLEL=${KUBE_HARNESS_GO_PARALLEL:-2}
BUILD_NICE=${KUBE_HARNESS_NICE:-0}
PVS=${KUBE_HARNESS_PVS:-24}
PV_SIZE=${KUBE_HARNESS_PV_SIZE:-100Gi}

# Pinned versions.  The Kubernetes, etcd and kwok versions come from the
# checked-in apiserver/go.mod, so there is a single place to bump them.
OPENSHIFT_API_VERSION=v0.0.0-20260813212709-d4bb0b443cb8
# The ServiceMonitor CRD comes from the prometheus-operator root module: the
# newest version of it that the module proxy serves (go list -m -versions).
PROMETHEUS_OPERATOR_VERSION=v0.85.0
K8S_VERSION=$(awk '$1=="require" && $2=="k8s.io/kubernetes" {print $3} $1=="k8s.io/kubernetes" && $2 ~ /^v/ {print $2}' "$HERE/apiserver/go.mod" | head -n1)
ETCD_VERSION=$(awk '$1=="go.etcd.io/etcd/server/v3" {print $2}' "$HERE/apiserver/go.mod" | head -n1)
KWOK_VERSION=$(awk '$1=="sigs.k8s.io/kwok" {print $2}' "$HERE/apiserver/go.mod" | head -n1)

ALL_COMPONENTS="etcd kube-apiserver kube-controller-manager kube-scheduler kwok"
COMPONENTS=${KUBE_HARNESS_COMPONENTS:-$ALL_COMPONENTS}
case " $COMPONENTS " in *" kube-apiserver "*) ;; *) COMPONENTS="kube-apiserver $COMPONENTS" ;; esac
case " $COMPONENTS " in *" etcd "*) ;; *) COMPONENTS="etcd $COMPONENTS" ;; esac

log() { printf '[kube-harness] %s\n' "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }
wanted() { case " $COMPONENTS " in *" $1 "*) return 0 ;; esac; return 1; }
# a real node runs the pods: no kwok beside it
if wanted node; then COMPONENTS=$(echo " $COMPONENTS " | sed 's/ kwok / /'); fi

# shellcheck source=node.sh
. "$HERE/node.sh"

# ---------------------------------------------------------------- build ----

go_cmd() {
  if [ -n "${KUBE_HARNESS_GO:-}" ]; then echo "$KUBE_HARNESS_GO"
  elif command -v go >/dev/null 2>&1; then command -v go
  elif [ -x /usr/local/go/bin/go ]; then echo /usr/local/go/bin/go
  else die "no go toolchain found (set KUBE_HARNESS_GO)"; fi
}

go_env() {
  export GOMODCACHE=$CACHE/gomod GOCACHE=$CACHE/gocache GOPATH=$CACHE/gopath
  export GOTOOLCHAIN=local GOFLAGS=-mod=readonly
  export GOMAXPROCS=${GOMAXPROCS:-2}
  # No garbage collection in the compiler until a process nears 1.5 GiB (the largest compile here
  # peaks near 1 GiB): 16% less CPU than GOGC=400 or 100 in a cold build of 387 of the packages
  # (103 CPU-s instead of 122-125).
  export GOGC=${GOGC:-off} GOMEMLIMIT=${GOMEMLIMIT:-1536MiB}
}

# ldflags that make the binaries report the real release instead of v0.0.0.
k8s_ldflags() {
  local v=$1 minor ld="-s -w" p
  minor=$(echo "$v" | cut -d. -f2)
  for p in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
    ld="$ld -X $p.gitVersion=$v -X $p.gitMajor=1 -X $p.gitMinor=$minor -X $p.gitTreeState=clean"
  done
  echo "$ld"
}

# Compiler flags of every package: no DWARF (the linker strips it anyway with -s -w, so generating
# it is wasted compile time), and no inlining: compiling 387 of the packages cold took 79 CPU-s
# instead of 103. The binaries run the same code, somewhat slower; in make test the API server
# uses about 1 CPU-min in all, the build about 15.
GCFLAGS="all=-dwarf=false -l"

# stamp_key MODULE_DIR NAME PKG VERSION LDFLAGS
stamp_key() {
  local dir=$1 name=$2 pkg=$3 ver=$4 ld=$5 gov sums
  gov=$("$(go_cmd)" env GOVERSION)
  sums=$(cat "$dir/go.mod" "$dir/go.sum" | sha256sum | cut -c1-16)
  echo "$name $pkg $ver $gov mod=$sums ld=$(echo "$ld" | sha256sum | cut -c1-16) gc=$GCFLAGS"
}

# build_one MODULE_DIR NAME PKG VERSION LDFLAGS
build_one() {
  local dir=$1 name=$2 pkg=$3 ver=$4 ld=$5 key start
  key=$(stamp_key "$dir" "$name" "$pkg" "$ver" "$ld")
  if [ -x "$BIN/$name" ] && [ "$(cat "$BIN/.$name.stamp" 2>/dev/null)" = "$key" ]; then
    log "$name $ver: cached"
    return 0
  fi
  log "$name $ver: building (go build -p $GO_PARALLEL, nice $BUILD_NICE; the first build takes long)"
  start=$(date +%s)
  mkdir -p "$BIN" "$CACHE/logs"
  if (cd "$dir" && go_env && nice -n "$BUILD_NICE" "$(go_cmd)" build -p "$GO_PARALLEL" -trimpath \
        -gcflags "$GCFLAGS" -ldflags "$ld" -o "$BIN/$name.tmp" "$pkg") >"$CACHE/logs/build-$name.log" 2>&1; then
    mv -f "$BIN/$name.tmp" "$BIN/$name"
    echo "$key" >"$BIN/.$name.stamp"
    log "$name $ver: built in $(( $(date +%s) - start ))s"
  else
    rm -f "$BIN/$name.tmp"
    log "$name $ver: build FAILED, see $CACHE/logs/build-$name.log"
    tail -n 20 "$CACHE/logs/build-$name.log" >&2 || true
    return 1
  fi
}

# CRD files under $CRDS, named <crd name>.yaml, and the stamp that says which
# module versions they come from.
CRD_FILES="routes.route.openshift.io securitycontextconstraints.security.openshift.io servicemonitors.monitoring.coreos.com"
crds_key() { echo "openshift-api $OPENSHIFT_API_VERSION prometheus-operator $PROMETHEUS_OPERATOR_VERSION"; }

crds_cached() {
  local n
  for n in $CRD_FILES; do [ -f "$CRDS/$n.yaml" ] || return 1; done
  [ "$(cat "$CRDS/.stamp" 2>/dev/null)" = "$(crds_key)" ]
}

fetch_crds() {
  local dir
  if crds_cached; then
    log "CRDs (openshift/api $OPENSHIFT_API_VERSION, prometheus-operator $PROMETHEUS_OPERATOR_VERSION): cached"
    return 0
  fi
  mkdir -p "$CRDS"
  rm -f "$CRDS"/*.yaml "$CRDS/.stamp"
  log "OpenShift CRDs: fetching github.com/openshift/api@$OPENSHIFT_API_VERSION"
  dir=$(go_module_dir "github.com/openshift/api@$OPENSHIFT_API_VERSION") \
    || die "cannot fetch github.com/openshift/api@$OPENSHIFT_API_VERSION"
  cp "$dir/route/v1/zz_generated.crd-manifests/routes.crd.yaml" "$CRDS/routes.route.openshift.io.yaml"
  cp "$dir"/security/v1/zz_generated.crd-manifests/*securitycontextconstraints.crd.yaml \
     "$CRDS/securitycontextconstraints.security.openshift.io.yaml"
  log "ServiceMonitor CRD: fetching github.com/prometheus-operator/prometheus-operator@$PROMETHEUS_OPERATOR_VERSION"
  dir=$(go_module_dir "github.com/prometheus-operator/prometheus-operator@$PROMETHEUS_OPERATOR_VERSION") \
    || die "cannot fetch github.com/prometheus-operator/prometheus-operator@$PROMETHEUS_OPERATOR_VERSION"
  cp "$dir/example/prometheus-operator-crd/monitoring.coreos.com_servicemonitors.yaml" \
     "$CRDS/servicemonitors.monitoring.coreos.com.yaml"
  chmod u+w "$CRDS"/*.yaml
  crds_key >"$CRDS/.stamp"
  log "CRDs: copied to $CRDS"
}

# go_module_dir MODULE@VERSION: download (if needed) and print the module's directory
go_module_dir() {
  local tmp dir
  tmp=$(mktemp -d)
  # Run outside any module so that no go.mod is consulted or modified.
  dir=$(cd "$tmp" && go_env && GOFLAGS='' "$(go_cmd)" mod download -json "$1" |
        python3 -c 'import json,sys; d=json.load(sys.stdin); print(d.get("Dir") or ""); sys.exit(1 if d.get("Error") else 0)') \
    || { rmdir "$tmp"; log "go mod download $1 failed"; return 1; }
  rmdir "$tmp"
  echo "$dir"
}

# kwok needs Stage objects that tell it how fake nodes and pods progress; the
# same ones kwokctl uses by default ship in the kwok module: copy them.
kwok_stages() {
  local key="kwok-stages $KWOK_VERSION" dir f
  [ -f "$CACHE/kwok/stages.yaml" ] && [ "$(cat "$CACHE/kwok/.stamp" 2>/dev/null)" = "$key" ] && return 0
  dir=$(go_module_dir "sigs.k8s.io/kwok@$KWOK_VERSION") || return 1
  mkdir -p "$CACHE/kwok"
  : >"$CACHE/kwok/stages.yaml.tmp"
  for f in node/fast/node-initialize.yaml node/heartbeat-with-lease/node-heartbeat-with-lease.yaml \
           pod/fast/pod-ready.yaml pod/fast/pod-complete.yaml pod/fast/pod-delete.yaml; do
    { echo "---"; cat "$dir/kustomize/stage/$f"; } >>"$CACHE/kwok/stages.yaml.tmp" || return 1
  done
  mv -f "$CACHE/kwok/stages.yaml.tmp" "$CACHE/kwok/stages.yaml"
  echo "$key" >"$CACHE/kwok/.stamp"
  log "kwok stages: copied to $CACHE/kwok/stages.yaml"
}

cmd_build() {
  local ld rc=0
  command -v python3 >/dev/null || die "python3 is required"
  # one build at a time for the whole cache, whatever the run directory: a harness that starts
  # while `make test` builds in the background waits for that build instead of starting another
  mkdir -p "$CACHE"
  exec 8>>"$CACHE/.build-lock"
  if command -v flock >/dev/null 2>&1; then
    flock -w 3600 8 || die "another kube.sh build has run for an hour"
  fi
  [ -n "$K8S_VERSION" ] || die "cannot read the k8s.io/kubernetes version from $HERE/apiserver/go.mod"
  ld=$(k8s_ldflags "$K8S_VERSION")
  build_one "$HERE/apiserver" etcd go.etcd.io/etcd/server/v3 "$ETCD_VERSION" "-s -w"
  build_one "$HERE/apiserver" kube-apiserver k8s.io/kubernetes/cmd/kube-apiserver "$K8S_VERSION" "$ld"
  fetch_crds
  # Optional extras: a failure is reported but does not fail the build.
  local c
  for c in kube-controller-manager kube-scheduler; do
    if wanted "$c"; then
      build_one "$HERE/apiserver" "$c" "k8s.io/kubernetes/cmd/$c" "$K8S_VERSION" "$ld" || rc=1
    fi
  done
  if wanted kwok; then
    # kwok is built from the same module, against the k8s.io/* v0.37 libraries
    # compiled there already (its own go.mod asks for v0.36; the replaces win).
    { build_one "$HERE/apiserver" kwok sigs.k8s.io/kwok/cmd/kwok "$KWOK_VERSION" \
        "-s -w -X sigs.k8s.io/kwok/pkg/consts.Version=$KWOK_VERSION" && kwok_stages; } || rc=1
  fi
  [ $rc -eq 0 ] || log "some optional components failed to build; 'up' runs without them"
  # the real node's parts: when asked for, and in a build of everything (KUBE_HARNESS_COMPONENTS unset,
  # as make test's background build runs it)
  if wanted node || [ -z "${KUBE_HARNESS_COMPONENTS:-}" ]; then
    node_build "$ld" || die "the real node's components failed to build"
  fi
  return 0
}

# A build in progress (make test starts one in the background) finishes before 'up' looks at the
# binaries: otherwise 'up' would start without the optional components still being built.
build_running() {
  command -v flock >/dev/null 2>&1 && [ -e "$CACHE/.build-lock" ] && ! flock -n "$CACHE/.build-lock" true
}

wait_for_build() {
  if build_running; then
    log "a build is running: waiting for it to finish"
    flock -w 3600 "$CACHE/.build-lock" true || die "the running build has not finished in an hour"
    log "the build is done"
  fi
}

# ------------------------------------------------------------ processes ----

pid_of() { cat "$PIDS/$1.pid" 2>/dev/null || true; }

# proc_running PID: exists and is not a zombie
proc_running() {
  local state
  state=$(awk '{print $3}' "/proc/$1/stat" 2>/dev/null) || return 1
  [ -n "$state" ] && [ "$state" != Z ] && [ "$state" != X ]
}

# alive NAME: the pid in the pid file runs our binary
alive() {
  local pid
  pid=$(pid_of "$1")
  [ -n "$pid" ] || return 1
  proc_running "$pid" || return 1
  tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -q -- "$BIN/$1 " || return 1
}

start_proc() {
  local name=$1; shift
  mkdir -p "$PIDS" "$LOGS"
  # setsid: own session, so the harness survives the shell that called 'up'.
  # 7>&- 8>&- 9>&-: the child must not inherit (and so keep holding) the kube.sh locks (7: the real node's).
  setsid "$BIN/$name" "$@" </dev/null >"$LOGS/$name.log" 2>&1 7>&- 8>&- 9>&- &
  echo $! >"$PIDS/$name.pid"
  log "started $name (pid $!), log: $LOGS/$name.log"
}

stop_proc() {
  local name=$1 pid i
  pid=$(pid_of "$name")
  if [ -n "$pid" ] && alive "$name"; then
    kill -TERM "$pid" 2>/dev/null || true
    for i in $(seq 1 100); do proc_running "$pid" || break; sleep 0.1; done
    if proc_running "$pid"; then
      log "$name (pid $pid) did not stop on TERM, killing"
      kill -KILL "$pid" 2>/dev/null || true
      for i in $(seq 1 50); do proc_running "$pid" || break; sleep 0.1; done
    fi
    log "stopped $name (pid $pid)"
  fi
  rm -f "$PIDS/$name.pid"
}

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}

# ---------------------------------------------------------------- certs ----

# sign_cert NAME SUBJECT EXTFILE: a key and a certificate from the harness CA, in the current directory ($PKI)
sign_cert() {
  openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout "$1.key" -out "$1.csr" -subj "$2" >/dev/null 2>&1
  openssl x509 -req -in "$1.csr" -CA ca.crt -CAkey ca.key -CAcreateserial -days 3650 \
    -out "$1.crt" -extfile "$3" >/dev/null 2>&1
  rm -f "$1.csr"
}

gen_certs() {
  mkdir -p "$PKI"
  (
    cd "$PKI"
    umask 077
    # ECDSA P-256 keys: generating them costs milliseconds, RSA ~0.2s each
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout ca.key -out ca.crt -days 3650 \
      -subj "/CN=kube-harness-ca" >/dev/null 2>&1
    cat >serving.ext <<'EOF'
basicConstraints=CA:FALSE
keyUsage=critical,digitalSignature,keyEncipherment
extendedKeyUsage=serverAuth
subjectAltName=IP:127.0.0.1,IP:10.96.0.1,DNS:localhost,DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc,DNS:kubernetes.default.svc.cluster.local
EOF
    cat >client.ext <<'EOF'
basicConstraints=CA:FALSE
keyUsage=critical,digitalSignature,keyEncipherment
extendedKeyUsage=clientAuth
EOF
    sign_cert apiserver "/CN=kube-apiserver" serving.ext
    sign_cert admin "/O=system:masters/CN=kube-harness-admin" client.ext
    sign_cert controller-manager "/CN=system:kube-controller-manager" client.ext
    sign_cert scheduler "/CN=system:kube-scheduler" client.ext
    # service-account token signing key pair
    openssl ecparam -name prime256v1 -genkey -noout -out sa.key >/dev/null 2>&1
    openssl ec -in sa.key -pubout -out sa.pub >/dev/null 2>&1
  )
}

b64() { base64 -w0 <"$1"; }

write_kubeconfig() { # FILE CERTNAME USER
  local file=$1 cert=$2 user=$3
  umask 077
  cat >"$file" <<EOF
apiVersion: v1
kind: Config
clusters:
- name: kube-harness
  cluster:
    server: https://127.0.0.1:$API_PORT
    certificate-authority-data: $(b64 "$PKI/ca.crt")
users:
- name: $user
  user:
    client-certificate-data: $(b64 "$PKI/$cert.crt")
    client-key-data: $(b64 "$PKI/$cert.key")
contexts:
- name: kube-harness
  context:
    cluster: kube-harness
    user: $user
current-context: kube-harness
EOF
}

# ------------------------------------------------------------ API calls ----

api() { # METHOD PATH [curl args...]
  local method=$1 path=$2; shift 2
  curl -sS --max-time 20 --cacert "$PKI/ca.crt" --cert "$PKI/admin.crt" --key "$PKI/admin.key" \
    -X "$method" "https://127.0.0.1:$API_PORT$path" "$@"
}

api_ready() { [ "$(api GET /readyz 2>/dev/null)" = "ok" ]; }

wait_for() { # DESCRIPTION COMMAND...
  local what=$1 deadline; shift
  deadline=$(( $(date +%s) + TIMEOUT ))
  until "$@"; do
    if [ "$(date +%s)" -ge "$deadline" ]; then return 1; fi
    sleep 0.2
  done
  log "$what: ok (+$(( $(date +%s) - ${UP_START:-$(date +%s)} ))s)"
}

etcd_healthy() { curl -sf --max-time 2 "http://127.0.0.1:$ETCD_PORT/health" 2>/dev/null | grep -q '"health":"true"'; }

# Server-side apply a YAML file (the API server takes YAML bodies directly).
apply_yaml() { # PATH FILE
  local out
  out=$(api PATCH "$1?fieldManager=kube-harness&force=true" \
          -H 'Content-Type: application/apply-patch+yaml' --data-binary "@$2" -w '\n%{http_code}')
  case "${out##*$'\n'}" in 200|201) ;; *) log "apply $1 failed: $out"; return 1 ;; esac
}

default_sa_exists() {
  [ "$(api GET /api/v1/namespaces/default/serviceaccounts/default -o /dev/null -w '%{http_code}' 2>/dev/null)" = 200 ]
}

crd_established() {
  api GET "/apis/apiextensions.k8s.io/v1/customresourcedefinitions/$1" 2>/dev/null | python3 -c '
import json, sys
d = json.load(sys.stdin)
ok = any(c.get("type") == "Established" and c.get("status") == "True"
         for c in d.get("status", {}).get("conditions", []))
sys.exit(0 if ok else 1)' 2>/dev/null
}

# The resource is served (discovery knows it), not only Established.
crd_served() { # GROUP VERSION PLURAL
  api GET "/apis/$1/$2" 2>/dev/null | python3 -c '
import json, sys
names = [r.get("name") for r in json.load(sys.stdin).get("resources", [])]
sys.exit(0 if sys.argv[1] in names else 1)' "$3" 2>/dev/null
}

install_crds() {
  local f name
  for f in "$CRDS"/*.yaml; do
    name=$(basename "$f" .yaml)
    apply_yaml "/apis/apiextensions.k8s.io/v1/customresourcedefinitions/$name" "$f" || return 1
  done
  for name in $CRD_FILES; do
    wait_for "CRD $name Established" crd_established "$name" || return 1
  done
  wait_for "route.openshift.io/v1 served" crd_served route.openshift.io v1 routes || return 1
  wait_for "security.openshift.io/v1 served" crd_served security.openshift.io v1 securitycontextconstraints || return 1
  wait_for "monitoring.coreos.com/v1 served" crd_served monitoring.coreos.com v1 servicemonitors || return 1
}

create_nodes() {
  local i zones=(a b c) zone name f
  f=$(mktemp)
  for i in $(seq 0 $(( NODES - 1 ))); do
    zone=zone-${zones[$(( i % 3 ))]}
    name=kwok-node-$i
    cat >"$f" <<EOF
apiVersion: v1
kind: Node
metadata:
  name: $name
  annotations:
    kwok.x-k8s.io/node: fake
    node.alpha.kubernetes.io/ttl: "0"
  labels:
    type: kwok
    kubernetes.io/arch: amd64
    kubernetes.io/os: linux
    kubernetes.io/hostname: $name
    topology.kubernetes.io/region: harness
    topology.kubernetes.io/zone: $zone
spec: {}
status:
  allocatable: {cpu: "16", memory: 64Gi, pods: "110", ephemeral-storage: 500Gi}
  capacity: {cpu: "16", memory: 64Gi, pods: "110", ephemeral-storage: 500Gi}
  nodeInfo: {architecture: amd64, operatingSystem: linux, kubeletVersion: fake, kubeProxyVersion: fake}
EOF
    apply_yaml "/api/v1/nodes/$name" "$f" || { rm -f "$f"; return 1; }
  done
  rm -f "$f"
  log "created $NODES kwok node(s) (zones zone-a/zone-b/zone-c round robin)"
}

# StorageClass "harness" (the default class) and a pool of hostPath PVs of that
# class, so that StatefulSet volumeClaimTemplates bind.  Nothing provisions or
# mounts anything: the PV controller (kube-controller-manager) binds the claims,
# and WaitForFirstConsumer lets the scheduler pick a PV for the pod's node.
create_storage() {
  local f i name path
  f=$(mktemp)
  cat >"$f" <<'EOF'
apiVersion: storage.k8s.io/v1
kind: StorageClass
metadata:
  name: harness
  annotations:
    storageclass.kubernetes.io/is-default-class: "true"
provisioner: kubernetes.io/no-provisioner
volumeBindingMode: WaitForFirstConsumer
reclaimPolicy: Retain
EOF
  apply_yaml /apis/storage.k8s.io/v1/storageclasses/harness "$f" || { rm -f "$f"; return 1; }
  for i in $(seq 0 $(( PVS - 1 ))); do
    name=$(printf 'harness-pv-%02d' "$i")
    path=/var/lib/kube-harness/$name
    if wanted node; then path=$(node_pv_path "$name"); node_pv_prepare "$name"; fi
    cat >"$f" <<EOF
apiVersion: v1
kind: PersistentVolume
metadata:
  name: $name
  labels:
    kube-harness/pv-pool: harness
spec:
  storageClassName: harness
  capacity: {storage: $PV_SIZE}
  accessModes: [ReadWriteOnce]
  persistentVolumeReclaimPolicy: Retain
  hostPath: {path: $path}
EOF
    apply_yaml "/api/v1/persistentvolumes/$name" "$f" || { rm -f "$f"; return 1; }
  done
  rm -f "$f"
  log "created StorageClass harness (default, no provisioner) and $PVS PV(s) of $PV_SIZE"
}

pvs_available() {
  api GET "/api/v1/persistentvolumes?labelSelector=kube-harness%2Fpv-pool%3Dharness" 2>/dev/null | python3 -c '
import json, sys
items = json.load(sys.stdin).get("items", [])
sys.exit(0 if sum(1 for p in items if p.get("status", {}).get("phase") == "Available") >= int(sys.argv[1]) else 1)' "$PVS" 2>/dev/null
}

nodes_ready() {
  api GET "/api/v1/nodes?labelSelector=type%3Dkwok" 2>/dev/null | python3 -c '
import json, sys
items = json.load(sys.stdin).get("items", [])
want = int(sys.argv[1])
ready = [n for n in items if any(c.get("type") == "Ready" and c.get("status") == "True"
                                 for c in n.get("status", {}).get("conditions", []))]
sys.exit(0 if len(items) >= want and len(ready) >= want else 1)' "$NODES" 2>/dev/null
}

# ------------------------------------------------------------------- up ----

load_ports() {
  # shellcheck disable=SC1091
  [ -f "$RUN/ports" ] && . "$RUN/ports"
  return 0
}

running_components() {
  local c out=""
  for c in $ALL_COMPONENTS $NODE_COMPONENTS; do [ -f "$PIDS/$c.pid" ] && out="$out $c"; done
  echo "$out"
}

is_up() {
  [ -f "$RUN/ready" ] || return 1
  load_ports
  local c
  for c in $(running_components); do alive "$c" || return 1; done
  alive etcd && alive kube-apiserver && api_ready
}

cmd_up() {
  case "$PVS" in ''|*[!0-9]*) die "KUBE_HARNESS_PVS must be a number, not '$PVS'" ;; esac
  if is_up; then
    log "already up: KUBECONFIG=$KUBECONFIG_FILE"
    return 0
  fi
  if [ -d "$RUN" ]; then
    log "stale or partial run state found, cleaning it up first"
    cmd_down
  fi
  wait_for_build
  if [ ! -x "$BIN/etcd" ] || [ ! -x "$BIN/kube-apiserver" ] || ! crds_cached; then
    cmd_build
  fi
  UP_START=$(date +%s)
  mkdir -p "$RUN" "$PIDS" "$LOGS"
  ETCD_PORT=$(free_port); ETCD_PEER_PORT=$(free_port); API_PORT=$(free_port)
  while [ "$ETCD_PEER_PORT" = "$ETCD_PORT" ]; do ETCD_PEER_PORT=$(free_port); done
  while [ "$API_PORT" = "$ETCD_PORT" ] || [ "$API_PORT" = "$ETCD_PEER_PORT" ]; do API_PORT=$(free_port); done
  KWOK_PORT=$(free_port)
  printf 'ETCD_PORT=%s\nETCD_PEER_PORT=%s\nAPI_PORT=%s\nKWOK_PORT=%s\n' \
    "$ETCD_PORT" "$ETCD_PEER_PORT" "$API_PORT" "$KWOK_PORT" >"$RUN/ports"
  gen_certs
  if wanted node; then node_certs; fi
  write_kubeconfig "$KUBECONFIG_FILE" admin kube-harness-admin
  write_kubeconfig "$RUN/controller-manager.kubeconfig" controller-manager system:kube-controller-manager
  write_kubeconfig "$RUN/scheduler.kubeconfig" scheduler system:kube-scheduler

  start_proc etcd \
    --name harness --data-dir "$RUN/etcd" \
    --listen-client-urls "http://127.0.0.1:$ETCD_PORT" \
    --advertise-client-urls "http://127.0.0.1:$ETCD_PORT" \
    --listen-peer-urls "http://127.0.0.1:$ETCD_PEER_PORT" \
    --initial-advertise-peer-urls "http://127.0.0.1:$ETCD_PEER_PORT" \
    --initial-cluster "harness=http://127.0.0.1:$ETCD_PEER_PORT" \
    --unsafe-no-fsync --log-level warn
  wait_for "etcd healthy on 127.0.0.1:$ETCD_PORT" etcd_healthy || { tail -n 30 "$LOGS/etcd.log" >&2; cmd_down; die "etcd did not become healthy"; }

  start_proc kube-apiserver \
    --etcd-servers "http://127.0.0.1:$ETCD_PORT" \
    --bind-address 127.0.0.1 --advertise-address 127.0.0.1 --secure-port "$API_PORT" \
    --cert-dir "$PKI" \
    --tls-cert-file "$PKI/apiserver.crt" --tls-private-key-file "$PKI/apiserver.key" \
    --client-ca-file "$PKI/ca.crt" \
    --service-account-issuer https://kubernetes.default.svc.cluster.local \
    --service-account-key-file "$PKI/sa.pub" \
    --service-account-signing-key-file "$PKI/sa.key" \
    --service-cluster-ip-range 10.96.0.0/16 \
    --authorization-mode Node,RBAC \
    --enable-admission-plugins NamespaceLifecycle,ServiceAccount,PodSecurity,NodeRestriction \
    --allow-privileged=true \
    --endpoint-reconciler-type none \
    --profiling=false $(node_apiserver_flags)
  wait_for "kube-apiserver /readyz on https://127.0.0.1:$API_PORT" api_ready || {
    tail -n 40 "$LOGS/kube-apiserver.log" >&2; cmd_down; die "kube-apiserver did not become ready"; }

  install_crds || { cmd_down; die "installing the CRDs failed"; }

  if wanted kube-controller-manager && [ -x "$BIN/kube-controller-manager" ]; then
    start_proc kube-controller-manager \
      --kubeconfig "$RUN/controller-manager.kubeconfig" \
      --authentication-kubeconfig "$RUN/controller-manager.kubeconfig" \
      --authorization-kubeconfig "$RUN/controller-manager.kubeconfig" \
      --bind-address 127.0.0.1 --secure-port 0 \
      --leader-elect=false \
      --use-service-account-credentials=true \
      --service-account-private-key-file "$PKI/sa.key" \
      --root-ca-file "$PKI/ca.crt" \
      --cluster-signing-cert-file "$PKI/ca.crt" --cluster-signing-key-file "$PKI/ca.key" \
      --node-monitor-grace-period 1h
    create_storage || { cmd_down; die "creating the StorageClass and PVs failed"; }
  fi
  if wanted kube-scheduler && [ -x "$BIN/kube-scheduler" ]; then
    start_proc kube-scheduler \
      --kubeconfig "$RUN/scheduler.kubeconfig" \
      --authentication-kubeconfig "$RUN/scheduler.kubeconfig" \
      --authorization-kubeconfig "$RUN/scheduler.kubeconfig" \
      --bind-address 127.0.0.1 --secure-port 0 \
      --leader-elect=false
  fi
  if wanted kwok && [ -x "$BIN/kwok" ] && [ -f "$CACHE/kwok/stages.yaml" ]; then
    start_proc kwok \
      --kubeconfig "$KUBECONFIG_FILE" \
      --config "$CACHE/kwok/stages.yaml" \
      --manage-all-nodes=false \
      --manage-nodes-with-annotation-selector kwok.x-k8s.io/node=fake \
      --node-ip 127.0.0.1 --node-lease-duration-seconds 40 --cidr 10.244.0.0/16 \
      --server-address "127.0.0.1:$KWOK_PORT"
    create_nodes || { cmd_down; die "creating kwok nodes failed"; }
    wait_for "$NODES kwok node(s) Ready" nodes_ready || log "WARNING: kwok nodes not Ready yet, see $LOGS/kwok.log"
  fi
  if wanted node; then node_up; fi
  # the default ServiceAccount appears only when the controller-manager runs
  if alive kube-controller-manager; then
    wait_for "ServiceAccount default/default created" default_sa_exists \
      || log "WARNING: default ServiceAccount not created yet, see $LOGS/kube-controller-manager.log"
    wait_for "$PVS PV(s) of class harness Available" pvs_available \
      || log "WARNING: the harness PVs are not Available yet, see $LOGS/kube-controller-manager.log"
  fi
  date +%s >"$RUN/ready"
  log "up in $(( $(date +%s) - UP_START ))s: export KUBECONFIG=$KUBECONFIG_FILE"
}

# ----------------------------------------------------------- status/down ----

cmd_status() {
  if [ ! -d "$RUN" ]; then echo "kube-harness: down (no run state)"; return 1; fi
  load_ports
  local c pid
  for c in $ALL_COMPONENTS $NODE_COMPONENTS; do
    [ -f "$PIDS/$c.pid" ] || continue
    pid=$(pid_of "$c")
    if alive "$c"; then printf '%-24s running  pid %s\n' "$c" "$pid"
    else printf '%-24s DEAD     pid %s (log: %s)\n' "$c" "$pid" "$LOGS/$c.log"; fi
  done
  echo "etcd:        http://127.0.0.1:${ETCD_PORT:-?}"
  echo "api server:  https://127.0.0.1:${API_PORT:-?}"
  echo "kubeconfig:  $KUBECONFIG_FILE"
  if alive kube-apiserver && api_ready; then
    echo "readyz:      ok"
    echo "version:     $(api GET /version | python3 -c 'import json,sys; print(json.load(sys.stdin)["gitVersion"])')"
    return 0
  fi
  echo "readyz:      NOT ready"
  return 1
}

cmd_down() {
  load_ports
  local c
  node_down
  for c in kwok kube-scheduler kube-controller-manager kube-apiserver etcd; do stop_proc "$c"; done
  rm -rf "$RUN"
  log "down (build cache kept in $BIN)"
}

cmd_env() {
  is_up || die "harness is not up (run: $0 up)"
  echo "export KUBECONFIG=$KUBECONFIG_FILE"
  echo "export KUBE_HARNESS_API=https://127.0.0.1:$API_PORT"
  echo "export K8S_AUTH_KUBECONFIG=$KUBECONFIG_FILE"
}

# PVs of the pool have reclaim policy Retain: once their claim is deleted they
# stay Released and never bind again.  Clearing spec.claimRef returns them to
# the pool (on kwok nodes nothing ever wrote to them; on the real node their directory is emptied).
cmd_recycle_pvs() {
  is_up || die "harness is not up (run: $0 up)"
  local names n count=0
  names=$(api GET "/api/v1/persistentvolumes?labelSelector=kube-harness%2Fpv-pool%3Dharness" | python3 -c '
import json, sys
for p in json.load(sys.stdin).get("items", []):
    if p.get("status", {}).get("phase") == "Released":
        print(p["metadata"]["name"])') || die "cannot list the harness PVs"
  for n in $names; do
    node_pv_scrub "$n"
    api PATCH "/api/v1/persistentvolumes/$n" -H 'Content-Type: application/merge-patch+json' \
      --data '{"spec":{"claimRef":null}}' -o /dev/null -f || die "cannot clear the claimRef of PV $n"
    count=$(( count + 1 ))
  done
  log "recycled $count Released PV(s) of class harness"
}

# One kube.sh at a time per run directory (build, up and down change shared state).
lock() {
  mkdir -p "$CACHE"
  exec 9>>"$CACHE/.lock-$(echo "$RUN" | sha256sum | cut -c1-12)"
  if command -v flock >/dev/null 2>&1; then
    flock -w 3600 9 || die "another kube.sh has held the lock for an hour"
  fi
}

case "${1:-}" in
  build|up|down) lock ;;
esac
case "${1:-}" in
  build) cmd_build ;;
  up) cmd_up ;;
  status) cmd_status ;;
  down) cmd_down ;;
  env) cmd_env ;;
  recycle-pvs) cmd_recycle_pvs ;;
  building) build_running ;;
  kafka-image) node_kafka_image "${2:?usage: $0 kafka-image VERSION}" ;;
  *) echo "usage: $0 build|up|status|down|env|recycle-pvs|building|kafka-image VERSION" >&2; exit 2 ;;
esac
