"""Smoke test of the Kubernetes API test harness (tests/harness/k8s/kube.sh).

Needs a running harness (``tests/harness/k8s/kube.sh up``).  Without one the
tests are skipped, unless KUBE_HARNESS_REQUIRED=1, where they fail.

    tests/harness/k8s/kube.sh up
    python -m pytest tests/harness/k8s/smoke_test.py -v
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

kubernetes = pytest.importorskip("kubernetes")
from kubernetes import client, config
from kubernetes.client.rest import ApiException
from kubernetes.dynamic import DynamicClient

REPO = Path(__file__).resolve().parents[3]
CACHE = Path(os.environ.get("KUBE_HARNESS_CACHE", REPO / ".cache" / "k8s"))
RUN = Path(os.environ.get("KUBE_HARNESS_RUN", CACHE / "run"))
FIELD_MANAGER = "kafkaops-smoke"


def _kubeconfig_path() -> Path:
    return Path(os.environ.get("KUBE_HARNESS_KUBECONFIG", RUN / "kubeconfig"))


def _running(component: str) -> bool:
    """True when kube.sh started COMPONENT and its process is alive."""
    pid_file = RUN / "pids" / f"{component}.pid"
    try:
        pid = int(pid_file.read_text().strip())
        stat = Path(f"/proc/{pid}/stat").read_text()
    except (OSError, ValueError):
        return False
    return stat.rsplit(")", 1)[1].split()[0] not in ("Z", "X")


def _wait(predicate, timeout: float, what: str, interval: float = 0.5):
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        last = predicate()
        if last:
            return last
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout}s waiting for {what} (last: {last!r})")


@pytest.fixture(scope="session")
def api_client():
    kubeconfig = _kubeconfig_path()
    if not kubeconfig.is_file():
        msg = f"harness not up: {kubeconfig} missing (run tests/harness/k8s/kube.sh up)"
        if os.environ.get("KUBE_HARNESS_REQUIRED") == "1":
            pytest.fail(msg)
        pytest.skip(msg)
    api = config.new_client_from_config(config_file=str(kubeconfig))
    yield api
    api.close()


@pytest.fixture(scope="session")
def dyn(api_client):
    return DynamicClient(api_client)


@pytest.fixture()
def namespace(api_client):
    core = client.CoreV1Api(api_client)
    name = f"smoke-{uuid.uuid4().hex[:8]}"
    core.create_namespace(
        client.V1Namespace(
            metadata=client.V1ObjectMeta(
                name=name,
                labels={"pod-security.kubernetes.io/enforce": "baseline"},
            )
        )
    )
    yield name
    try:
        core.delete_namespace(name)
    except ApiException as exc:  # already deleted by the test
        if exc.status != 404:
            raise


def statefulset(ns: str, replicas: int = 3, storage_class: str | None = None, claim: bool = False) -> dict:
    """A Kafka-like StatefulSet.  With STORAGE_CLASS or CLAIM it has a
    volumeClaimTemplate ``data``; without STORAGE_CLASS that template names no
    class, so the default StorageClass applies."""
    sts = {
        "apiVersion": "apps/v1",
        "kind": "StatefulSet",
        "metadata": {"name": "kafka", "namespace": ns, "labels": {"app": "kafka"}},
        "spec": {
            "serviceName": "kafka-headless",
            "replicas": replicas,
            "podManagementPolicy": "Parallel",
            "selector": {"matchLabels": {"app": "kafka"}},
            "template": {
                "metadata": {"labels": {"app": "kafka"}},
                "spec": {
                    "automountServiceAccountToken": False,
                    "topologySpreadConstraints": [
                        {
                            "maxSkew": 1,
                            "topologyKey": "topology.kubernetes.io/zone",
                            "whenUnsatisfiable": "DoNotSchedule",
                            "labelSelector": {"matchLabels": {"app": "kafka"}},
                        }
                    ],
                    "containers": [
                        {
                            "name": "kafka",
                            "image": "registry.invalid/kafka:test",
                            "ports": [
                                {"name": "client", "containerPort": 9092},
                                {"name": "controller", "containerPort": 9093},
                            ],
                            "env": [{"name": "KAFKA_NODE_ID_FROM_ORDINAL", "value": "true"}],
                            "resources": {"requests": {"cpu": "100m", "memory": "256Mi"}},
                        }
                    ],
                },
            },
        },
    }
    if storage_class or claim:
        sts["spec"]["template"]["spec"]["containers"][0]["volumeMounts"] = [{"name": "data", "mountPath": "/var/lib/kafka"}]
        sts["spec"]["volumeClaimTemplates"] = [
            {
                "metadata": {"name": "data"},
                "spec": {
                    "accessModes": ["ReadWriteOnce"],
                    "resources": {"requests": {"storage": "1Gi"}},
                },
            }
        ]
        if storage_class:
            sts["spec"]["volumeClaimTemplates"][0]["spec"]["storageClassName"] = storage_class
    return sts


def headless_service(ns: str) -> dict:
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": "kafka-headless", "namespace": ns},
        "spec": {
            "clusterIP": "None",
            "publishNotReadyAddresses": True,
            "selector": {"app": "kafka"},
            "ports": [
                {"name": "client", "port": 9092, "targetPort": "client"},
                {"name": "controller", "port": 9093, "targetPort": "controller"},
            ],
        },
    }


def route(ns: str) -> dict:
    return {
        "apiVersion": "route.openshift.io/v1",
        "kind": "Route",
        "metadata": {"name": "kafka-bootstrap", "namespace": ns},
        "spec": {
            "host": "kafka-bootstrap.apps.example.test",
            "to": {"kind": "Service", "name": "kafka-headless", "weight": 100},
            "port": {"targetPort": "client"},
            "tls": {"termination": "passthrough"},
        },
    }


def service_monitor(ns: str) -> dict:
    return {
        "apiVersion": "monitoring.coreos.com/v1",
        "kind": "ServiceMonitor",
        "metadata": {"name": "kafka", "namespace": ns, "labels": {"release": "prometheus"}},
        "spec": {
            "selector": {"matchLabels": {"app": "kafka"}},
            "namespaceSelector": {"matchNames": [ns]},
            "endpoints": [{"port": "metrics", "interval": "30s", "path": "/metrics", "scheme": "http"}],
        },
    }


def pdb(ns: str) -> dict:
    return {
        "apiVersion": "policy/v1",
        "kind": "PodDisruptionBudget",
        "metadata": {"name": "kafka", "namespace": ns},
        "spec": {"maxUnavailable": 1, "selector": {"matchLabels": {"app": "kafka"}}},
    }


def ssa(dyn: DynamicClient, body: dict):
    res = dyn.resources.get(api_version=body["apiVersion"], kind=body["kind"])
    return res.server_side_apply(
        body=body,
        name=body["metadata"]["name"],
        namespace=body["metadata"].get("namespace"),
        field_manager=FIELD_MANAGER,
    )


def _apply_fingerprint(obj) -> tuple:
    meta = obj.to_dict()["metadata"]
    entries = [(m["time"], str(m.get("fieldsV1"))) for m in meta.get("managedFields", []) if m["manager"] == FIELD_MANAGER and m["operation"] == "Apply"]
    assert len(entries) == 1, meta.get("managedFields")
    return meta.get("generation"), entries[0]


def test_version_and_openshift_crds(api_client, dyn):
    version = client.VersionApi(api_client).get_code()
    assert version.major == "1" and version.git_version.startswith("v1.")
    ext = client.ApiextensionsV1Api(api_client)
    for name in (
        "routes.route.openshift.io",
        "securitycontextconstraints.security.openshift.io",
        "servicemonitors.monitoring.coreos.com",
    ):
        crd = ext.read_custom_resource_definition(name)
        conditions = {c.type: c.status for c in crd.status.conditions}
        assert conditions.get("Established") == "True", name
    # discovery serves both kinds
    assert dyn.resources.get(api_version="route.openshift.io/v1", kind="Route").namespaced
    scc = dyn.resources.get(api_version="security.openshift.io/v1", kind="SecurityContextConstraints")
    assert not scc.namespaced
    smon = dyn.resources.get(api_version="monitoring.coreos.com/v1", kind="ServiceMonitor")
    assert smon.namespaced and smon.name == "servicemonitors"


def test_service_monitor(api_client, dyn, namespace):
    """The ServiceMonitor CRD (prometheus-operator) is served: apply, read
    back, idempotent re-apply, and its OpenAPI schema is enforced."""
    ns = namespace
    first = ssa(dyn, service_monitor(ns))
    smons = dyn.resources.get(api_version="monitoring.coreos.com/v1", kind="ServiceMonitor")
    got = smons.get(name="kafka", namespace=ns)
    assert got.spec.selector.matchLabels.app == "kafka"
    assert got.spec.namespaceSelector.matchNames == [ns]
    assert [(e.port, e.interval, e.path) for e in got.spec.endpoints] == [("metrics", "30s", "/metrics")]
    assert [o.metadata.name for o in smons.get(namespace=ns).items] == ["kafka"]
    assert _apply_fingerprint(ssa(dyn, service_monitor(ns))) == _apply_fingerprint(first)

    # schema: the endpoint scheme is an enum, the interval a duration pattern,
    # and spec.selector is required
    bad = service_monitor(ns)
    bad["metadata"]["name"] = "bad"
    bad["spec"]["endpoints"][0].update(scheme="ftp", interval="thirty seconds")
    del bad["spec"]["selector"]
    with pytest.raises(ApiException) as err:
        smons.create(body=bad, namespace=ns, query_params=[("dryRun", "All")])
    assert err.value.status == 422
    for field in ("spec.endpoints[0].scheme", "spec.endpoints[0].interval", "spec.selector"):
        assert field in err.value.body, (field, err.value.body)


def test_server_side_apply_roundtrip(api_client, dyn, namespace):
    ns = namespace
    objects = [statefulset(ns), headless_service(ns), route(ns), pdb(ns)]
    first = [ssa(dyn, o) for o in objects]

    apps = client.AppsV1Api(api_client)
    sts = apps.read_namespaced_stateful_set("kafka", ns)
    assert sts.spec.replicas == 3
    assert sts.spec.service_name == "kafka-headless"
    assert sts.spec.pod_management_policy == "Parallel"
    container = sts.spec.template.spec.containers[0]
    assert [p.container_port for p in container.ports] == [9092, 9093]
    assert sts.spec.template.spec.topology_spread_constraints[0].topology_key == "topology.kubernetes.io/zone"
    assert any(m.manager == FIELD_MANAGER and m.operation == "Apply" for m in sts.metadata.managed_fields)

    svc = client.CoreV1Api(api_client).read_namespaced_service("kafka-headless", ns)
    assert svc.spec.cluster_ip == "None"
    assert svc.spec.publish_not_ready_addresses is True
    assert {p.name: p.port for p in svc.spec.ports} == {"client": 9092, "controller": 9093}

    rt = dyn.resources.get(api_version="route.openshift.io/v1", kind="Route").get(name="kafka-bootstrap", namespace=ns)
    assert rt.spec.to.name == "kafka-headless"
    assert rt.spec.tls.termination == "passthrough"
    assert rt.spec.host == "kafka-bootstrap.apps.example.test"

    budget = client.PolicyV1Api(api_client).read_namespaced_pod_disruption_budget("kafka", ns)
    assert budget.spec.max_unavailable == 1
    assert budget.spec.selector.match_labels == {"app": "kafka"}

    # Re-applying the same intent is a no-op: the spec generation and our
    # field manager's entry do not move.  (resourceVersion may: the
    # controller-manager, when running, writes StatefulSet and PDB status.)
    second = [ssa(dyn, o) for o in objects]
    assert [_apply_fingerprint(o) for o in second] == [_apply_fingerprint(o) for o in first]

    # A changed intent updates only what changed.
    changed = statefulset(ns, replicas=5)
    assert ssa(dyn, changed).spec.replicas == 5


def test_invalid_objects_rejected_on_dry_run(api_client, dyn, namespace):
    ns = namespace
    bad_sts = statefulset(ns)
    bad_sts["spec"]["replicas"] = -1
    bad_sts["spec"]["selector"] = {"matchLabels": {"app": "other"}}  # does not match template
    with pytest.raises(ApiException) as err:
        client.AppsV1Api(api_client).create_namespaced_stateful_set(ns, bad_sts, dry_run="All")
    assert err.value.status == 422
    assert "replicas" in err.value.body and "selector" in err.value.body

    # CRD schema validation (OpenShift Route): spec.to is required,
    # and a CEL rule forbids a path with passthrough termination.
    bad_route = route(ns)
    del bad_route["spec"]["to"]
    bad_route["spec"]["path"] = "/x"
    routes = dyn.resources.get(api_version="route.openshift.io/v1", kind="Route")
    with pytest.raises(ApiException) as err:
        routes.create(body=bad_route, namespace=ns, query_params=[("dryRun", "All")])
    assert err.value.status == 422
    assert "spec.to" in err.value.body

    # A valid object passes the same dry run and is not persisted.
    routes.create(body=route(ns), namespace=ns, query_params=[("dryRun", "All")])
    with pytest.raises(ApiException) as err:
        routes.get(name="kafka-bootstrap", namespace=ns)
    assert err.value.status == 404


@pytest.mark.skipif(
    not all(_running(c) for c in ("kube-controller-manager", "kube-scheduler", "kwok")),
    reason="needs kube-controller-manager, kube-scheduler and kwok from kube.sh",
)
def test_statefulset_pods_run_on_kwok_nodes(api_client, dyn, namespace):
    """With the optional extras the StatefulSet gets PVCs bound and Pods that
    kwok reports Running, spread over the fake nodes' zones."""
    ns = namespace
    core = client.CoreV1Api(api_client)
    storage_class = f"harness-manual-{ns}"
    pv_names = [f"{ns}-pv-{i}" for i in range(3)]
    for pv in pv_names:
        ssa(
            dyn,
            {
                "apiVersion": "v1",
                "kind": "PersistentVolume",
                "metadata": {"name": pv},
                "spec": {
                    "capacity": {"storage": "1Gi"},
                    "accessModes": ["ReadWriteOnce"],
                    "storageClassName": storage_class,
                    "persistentVolumeReclaimPolicy": "Retain",
                    "hostPath": {"path": f"/nonexistent/{pv}"},
                },
            },
        )
    try:
        for obj in (headless_service(ns), statefulset(ns, storage_class=storage_class)):
            ssa(dyn, obj)

        def pods_running():
            pods = core.list_namespaced_pod(ns, label_selector="app=kafka").items
            running = [p for p in pods if p.status.phase == "Running"]
            return pods if len(running) == 3 else None

        pods = _wait(pods_running, 90, "3 kafka pods Running")
        assert sorted(p.metadata.name for p in pods) == ["kafka-0", "kafka-1", "kafka-2"]
        zones = set()
        for p in pods:
            node = core.read_node(p.spec.node_name)
            zones.add(node.metadata.labels["topology.kubernetes.io/zone"])
        assert len(zones) == 3, zones
        pvcs = core.list_namespaced_persistent_volume_claim(ns).items
        assert sorted(c.metadata.name for c in pvcs) == ["data-kafka-0", "data-kafka-1", "data-kafka-2"]
        assert all(c.status.phase == "Bound" for c in pvcs)
        sts = client.AppsV1Api(api_client).read_namespaced_stateful_set("kafka", ns)
        _wait(
            lambda: client.AppsV1Api(api_client).read_namespaced_stateful_set("kafka", ns).status.ready_replicas == 3,
            60,
            "StatefulSet readyReplicas == 3",
        )
        assert sts.metadata.name == "kafka"
    finally:
        for pv in pv_names:
            try:
                core.delete_persistent_volume(pv)
            except ApiException as exc:
                if exc.status != 404:
                    raise


@pytest.mark.skipif(
    not all(_running(c) for c in ("kube-controller-manager", "kube-scheduler", "kwok")),
    reason="needs kube-controller-manager, kube-scheduler and kwok from kube.sh",
)
def test_statefulset_default_storage_class(api_client, dyn, namespace):
    """kube.sh up creates the default StorageClass ``harness`` and a pool of
    PVs: a volumeClaimTemplate without storageClassName gets that class, its
    PVCs bind to pool PVs, and the Pods become Ready.  The Pods also carry
    their node's zone and region labels (PodTopologyLabelsAdmission)."""
    ns = namespace
    core = client.CoreV1Api(api_client)
    apps = client.AppsV1Api(api_client)
    sc = client.StorageV1Api(api_client).read_storage_class("harness")
    assert sc.provisioner == "kubernetes.io/no-provisioner"
    assert sc.volume_binding_mode == "WaitForFirstConsumer"
    assert sc.metadata.annotations.get("storageclass.kubernetes.io/is-default-class") == "true"

    sts = statefulset(ns, claim=True)
    assert "storageClassName" not in sts["spec"]["volumeClaimTemplates"][0]["spec"]
    for obj in (headless_service(ns), sts):
        ssa(dyn, obj)

    def bound_and_ready():
        pvcs = core.list_namespaced_persistent_volume_claim(ns).items
        ready = apps.read_namespaced_stateful_set("kafka", ns).status.ready_replicas
        if len(pvcs) == 3 and all(c.status.phase == "Bound" for c in pvcs) and ready == 3:
            return pvcs
        return None

    pvcs = _wait(bound_and_ready, 90, "3 PVCs Bound and readyReplicas == 3")
    assert sorted(c.metadata.name for c in pvcs) == ["data-kafka-0", "data-kafka-1", "data-kafka-2"]
    assert {c.spec.storage_class_name for c in pvcs} == {"harness"}
    volumes = [core.read_persistent_volume(c.spec.volume_name) for c in pvcs]
    assert len({v.metadata.name for v in volumes}) == 3
    for pvc, pv in zip(pvcs, volumes):
        assert pv.metadata.labels.get("kube-harness/pv-pool") == "harness"
        assert pv.spec.storage_class_name == "harness"
        assert pv.spec.claim_ref.namespace == ns and pv.spec.claim_ref.name == pvc.metadata.name
        assert pv.spec.persistent_volume_reclaim_policy == "Retain"

    pods = core.list_namespaced_pod(ns, label_selector="app=kafka").items
    assert len(pods) == 3
    for pod in pods:
        assert pod.status.phase == "Running"
        assert {c.type: c.status for c in pod.status.conditions}.get("Ready") == "True"
        node = core.read_node(pod.spec.node_name)
        for key in ("topology.kubernetes.io/zone", "topology.kubernetes.io/region"):
            assert pod.metadata.labels.get(key) == node.metadata.labels[key], (pod.metadata.name, key)


def test_namespace_deletion(api_client):
    core = client.CoreV1Api(api_client)
    name = f"smoke-del-{uuid.uuid4().hex[:8]}"
    core.create_namespace(client.V1Namespace(metadata=client.V1ObjectMeta(name=name)))
    core.create_namespaced_config_map(name, client.V1ConfigMap(metadata=client.V1ObjectMeta(name="cm"), data={"k": "v"}))
    core.delete_namespace(name)
    if _running("kube-controller-manager"):
        # the namespace controller empties and removes it

        def gone():
            try:
                core.read_namespace(name)
            except ApiException as exc:
                return exc.status == 404
            return False

        _wait(gone, 60, f"namespace {name} to be deleted")
    else:
        # without a controller-manager nothing finalizes the namespace
        ns = core.read_namespace(name)
        assert ns.metadata.deletion_timestamp is not None
        assert ns.status.phase == "Terminating"


def test_ansible_smoke_playbook(api_client):
    """kubernetes.core.k8s (server-side and client-side apply) is idempotent
    against the harness: see smoke_playbook.yml."""
    playbook_cmd = Path(sys.executable).with_name("ansible-playbook")
    if not playbook_cmd.exists():
        found = shutil.which("ansible-playbook")
        if not found:
            pytest.skip("ansible-playbook not installed")
        playbook_cmd = Path(found)
    env = dict(os.environ, ANSIBLE_NOCOLOR="1", ANSIBLE_FORCE_COLOR="0")
    env["KUBE_HARNESS_KUBECONFIG"] = str(_kubeconfig_path())
    result = subprocess.run(
        [str(playbook_cmd), str(Path(__file__).with_name("smoke_playbook.yml"))],
        capture_output=True,
        text=True,
        timeout=300,
        env=env,
        check=False,
    )
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    assert "failed=0" in result.stdout
