# Copyright: kafkaops.platform contributors
# Apache-2.0 (see LICENSE)
"""The one Kafka admin client of kafkaops.platform.

Every module that talks to a cluster (kafka_info, kafka_topic, kafka_reassignment, kafka_acl,
kafka_user) connects through :class:`KafkaAdmin`, built from the same three inputs: the bootstrap
servers, the cluster's security description (``platform_security``) and the identity to use.
It wraps kafka-python's ``KafkaAdminClient`` and turns its answers into plain dicts.
"""
from __future__ import annotations

import time
import traceback

try:
    from kafka import KafkaAdminClient
    HAS_KAFKA = True
    KAFKA_IMPORT_ERROR = None
except ImportError:  # pragma: no cover - reported by the modules through missing_required_lib
    KafkaAdminClient = None
    HAS_KAFKA = False
    KAFKA_IMPORT_ERROR = traceback.format_exc()

from ansible_collections.kafkaops.platform.plugins.module_utils import security as sec

ADMIN_ARGUMENT_SPEC = dict(
    bootstrap_servers=dict(type="list", elements="str", required=True),
    security=dict(type="dict", default={}, no_log=True),
    identity=dict(type="str", default=None),
    listener=dict(type="str", default=None),
    request_timeout=dict(type="int", default=30),
)


class KafkaAdminError(Exception):
    """A cluster operation that failed, with a message for the operator."""


def client_config(security: dict, listener: str | None = None, identity: str | None = None) -> dict:
    """kafka-python keyword arguments for the admin connection described by ``security``."""
    normalized = sec.normalize(security or {})
    return sec.kafka_python_client_config(normalized, listener=listener, identity=identity)


class KafkaAdmin:
    """A connection to one cluster. Use as a context manager."""

    def __init__(self, bootstrap_servers, security=None, identity=None, listener=None, request_timeout=30,
                 client_id="kafkaops-platform"):
        if not HAS_KAFKA:
            raise KafkaAdminError("kafka-python is not installed on the control node: pip install kafka-python")
        self._config = client_config(security or {}, listener=listener, identity=identity)
        self._bootstrap = list(bootstrap_servers)
        self._timeout_ms = int(request_timeout) * 1000
        self._client_id = client_id
        self._admin = None

    def __enter__(self):
        self.connect()
        return self

    def __exit__(self, *exc):
        self.close()
        return False

    def connect(self, deadline: float | None = None):
        """Connect, retrying until ``deadline`` (time.monotonic()) while brokers come up."""
        while True:
            try:
                self._admin = KafkaAdminClient(bootstrap_servers=self._bootstrap, client_id=self._client_id,
                                               request_timeout_ms=self._timeout_ms, **self._config)
                return self._admin
            except Exception as exc:  # kafka-python raises several types while brokers start
                if deadline is None or time.monotonic() >= deadline:
                    raise KafkaAdminError("cannot connect to %s: %s" % (",".join(self._bootstrap), exc)) from exc
                time.sleep(2)

    def close(self):
        if self._admin is not None:
            try:
                self._admin.close()
            finally:
                self._admin = None

    @property
    def raw(self):
        """The underlying kafka-python client, for operations not wrapped here."""
        if self._admin is None:
            self.connect()
        return self._admin

    # -- reading the cluster -------------------------------------------------------------------
    def cluster(self) -> dict:
        meta = self.raw.describe_cluster()
        brokers = []
        for broker in meta.get("brokers", []):
            brokers.append({
                "id": broker.get("broker_id", broker.get("node_id")),
                "host": broker.get("host"),
                "port": broker.get("port"),
                "rack": broker.get("rack"),
                "fenced": bool(broker.get("is_fenced", False)),
            })
        return {"cluster_id": meta.get("cluster_id"), "controller_id": meta.get("controller_id"),
                "brokers": sorted(brokers, key=lambda b: b["id"])}

    def quorum(self) -> dict:
        answer = self.raw.describe_metadata_quorum()
        partition = answer["topics"][0]["partitions"][0]
        if partition.get("error"):
            raise KafkaAdminError("describe quorum: %s" % partition["error"])
        high_watermark = partition.get("high_watermark", -1)

        def replicas(key):
            return [{"id": r.get("replica_id"), "log_end_offset": r.get("log_end_offset"),
                     "lag": (high_watermark - r["log_end_offset"]) if r.get("log_end_offset", -1) >= 0 else None}
                    for r in partition.get(key, [])]

        return {"leader_id": partition.get("leader_id"), "leader_epoch": partition.get("leader_epoch"),
                "high_watermark": high_watermark,
                "voters": sorted(replicas("current_voters"), key=lambda r: r["id"]),
                "observers": sorted(replicas("observers"), key=lambda r: r["id"])}

    def partitions(self) -> list:
        """Every partition: topic, partition, leader, replicas, isr."""
        result = []
        for topic in self.raw.describe_topics():
            name = topic.get("topic", topic.get("name"))
            for part in topic.get("partitions", []):
                result.append({
                    "topic": name,
                    "partition": part.get("partition", part.get("partition_index")),
                    "leader": part.get("leader", part.get("leader_id")),
                    "replicas": list(part.get("replicas", part.get("replica_nodes", []))),
                    "isr": list(part.get("isr", part.get("isr_nodes", []))),
                })
        return sorted(result, key=lambda p: (p["topic"], p["partition"]))

    def health(self, expected_brokers=None) -> dict:
        """Cluster health as the platform gates on it: every expected broker registered and
        unfenced, no offline and no under-replicated partition."""
        cluster = self.cluster()
        live = {b["id"] for b in cluster["brokers"] if not b["fenced"]}
        missing = sorted(set(expected_brokers or []) - live)
        parts = self.partitions()
        offline = [p for p in parts if p["leader"] in (None, -1)]
        under = [p for p in parts if len(p["isr"]) < len(p["replicas"])]
        problems = []
        if missing:
            problems.append("brokers not registered or fenced: %s" % ", ".join(map(str, missing)))
        if offline:
            problems.append("%d offline partition(s)" % len(offline))
        if under:
            problems.append("%d under-replicated partition(s)" % len(under))
        return {"healthy": not problems, "problems": problems, "cluster": cluster,
                "partitions": len(parts),
                "offline_partitions": ["%s-%s" % (p["topic"], p["partition"]) for p in offline],
                "under_replicated_partitions": ["%s-%s" % (p["topic"], p["partition"]) for p in under]}

    def wait_healthy(self, expected_brokers=None, timeout=300, progress=None) -> dict:
        """Poll :meth:`health` until healthy or ``timeout`` seconds pass; ``progress(msg)`` is
        called whenever the state changes."""
        deadline = time.monotonic() + timeout
        last_message = None
        state = None
        while True:
            try:
                state = self.health(expected_brokers)
                message = "; ".join(state["problems"]) or "healthy"
            except Exception as exc:  # brokers restarting: keep polling until the deadline
                message = "not answering yet: %s" % exc
                state = None
                self.close()
            if message != last_message and progress:
                progress(message)
            last_message = message
            if state and state["healthy"]:
                return state
            if time.monotonic() >= deadline:
                raise KafkaAdminError("cluster not healthy after %ds: %s" % (timeout, message))
            time.sleep(2)
