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
from typing import Any, Callable, Collection, Iterable, Literal, Mapping

try:
    from kafka import KafkaAdminClient
    HAS_KAFKA = True
    KAFKA_IMPORT_ERROR = None
except ImportError:  # pragma: no cover - reported by the modules through missing_required_lib
    KafkaAdminClient = None
    HAS_KAFKA = False
    KAFKA_IMPORT_ERROR = traceback.format_exc()

from ansible_collections.kafkaops.platform.plugins.module_utils.connection import (
    CLIENT_OPTIONS,
    CONNECTION_ARGUMENT_SPEC,
    ConnectionOptionError,
    KafkaModule,
    PemFiles,
    kafka_python_config,
)
from ansible_collections.kafkaops.platform.plugins.module_utils.security import SecurityConfigError

# the options every cluster module takes (module_utils/connection.py, doc fragment admin)
ADMIN_ARGUMENT_SPEC = CONNECTION_ARGUMENT_SPEC


class KafkaAdminError(Exception):
    """A cluster operation that failed, with a message for the operator."""


def run_admin_module(options: Mapping[str, dict], run: Callable[[Any], dict], errors: tuple = (),
                     **module_arguments: Any) -> None:
    """The ``main()`` of a module that talks to a cluster: the connection options plus ``options``, check
    mode, kafka-python required, ``run(module)``'s result returned, and the collection's errors (plus
    ``errors``) reported as the task's message."""
    from ansible.module_utils.basic import missing_required_lib

    module = KafkaModule(argument_spec=dict(ADMIN_ARGUMENT_SPEC, **options), supports_check_mode=True, **module_arguments)
    if not HAS_KAFKA:
        module.fail_json(msg=missing_required_lib("kafka-python"), exception=KAFKA_IMPORT_ERROR)
    try:
        result = run(module)
    except (KafkaAdminError, SecurityConfigError, *errors) as exc:
        module.fail_json(msg=str(exc))
    module.exit_json(**result)


class _ClusterDefault(str):
    """The resource name "" (the cluster-wide broker default) that kafka-python routes to broker ``via``."""

    via: int

    def __new__(cls, via: int) -> _ClusterDefault:
        name = super().__new__(cls, "")
        name.via = int(via)
        return name

    def __int__(self) -> int:
        return self.via


def client_config(security: dict, listener: str | None = None, identity: str | None = None,
                  options: Mapping[str, Any] | None = None) -> dict:
    """kafka-python keyword arguments (security settings) for the platform description ``security``
    read as a client's, with the explicit client ``options`` (see module_utils/connection.py) over it."""
    given = {name: None for name in CLIENT_OPTIONS}
    given.update((name, value) for name, value in (options or {}).items() if name in given)
    try:
        return kafka_python_config(given, security or {}, identity, listener, PemFiles())
    except ConnectionOptionError as exc:
        raise KafkaAdminError(str(exc)) from exc


def admin_arguments(params: Mapping[str, Any]) -> dict:
    """The keyword arguments of :class:`KafkaAdmin` (after the bootstrap servers) from a module's parameters."""
    return dict(security=params["security"], identity=params["identity"], listener=params["listener"],
                request_timeout=params["request_timeout"], options={name: params.get(name) for name in CLIENT_OPTIONS})


class KafkaAdmin:
    """A connection to one cluster. Use as a context manager."""

    def __init__(self, bootstrap_servers: Iterable[str], security: dict | None = None, identity: str | None = None,
                 listener: str | None = None, request_timeout: int = 30, client_id: str = "kafkaops-platform",
                 options: Mapping[str, Any] | None = None) -> None:
        if not HAS_KAFKA:
            raise KafkaAdminError("kafka-python is not installed on the control node: pip install kafka-python")
        self._config = client_config(security or {}, listener=listener, identity=identity, options=options)
        self._bootstrap = list(bootstrap_servers)
        self._timeout_ms = int(request_timeout) * 1000
        self._client_id = client_id
        self._admin: Any = None

    def __enter__(self) -> KafkaAdmin:
        self.connect()
        return self

    def __exit__(self, *exc: object) -> Literal[False]:
        self.close()
        return False

    def connect(self, deadline: float | None = None) -> Any:
        """Connect, retrying until ``deadline`` (time.monotonic()) while brokers come up."""
        while True:
            try:
                self._admin = KafkaAdminClient(bootstrap_servers=self._bootstrap, client_id=self._client_id,
                                               request_timeout_ms=self._timeout_ms, **self._bootstrap_timeout(), **self._config)
                return self._admin
            except Exception as exc:  # kafka-python raises several types while brokers start
                if deadline is None or time.monotonic() >= deadline:
                    raise KafkaAdminError("cannot connect to %s: %s" % (",".join(self._bootstrap), exc)) from exc
                time.sleep(2)

    def _bootstrap_timeout(self) -> dict:
        """kafka-python 3 waits bootstrap_timeout_ms (30 s) for a first broker: bound it by request_timeout too."""
        if "bootstrap_timeout_ms" in getattr(KafkaAdminClient, "DEFAULT_CONFIG", {}):
            return {"bootstrap_timeout_ms": self._timeout_ms}
        return {}

    def close(self) -> None:
        if self._admin is not None:
            try:
                self._admin.close()
            finally:
                self._admin = None

    @property
    def raw(self) -> Any:
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

        def replicas(key: str) -> list[dict[str, Any]]:
            # the timestamps (ms, the leader's clock; -1 when unknown) are KIP-836's, from Kafka 3.3
            return [{"id": r.get("replica_id"), "log_end_offset": r.get("log_end_offset"),
                     "lag": (high_watermark - r["log_end_offset"]) if r.get("log_end_offset", -1) >= 0 else None,
                     "last_fetch_timestamp": r.get("last_fetch_timestamp", -1),
                     "last_caught_up_timestamp": r.get("last_caught_up_timestamp", -1)}
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

    def health(self, expected_brokers: Iterable[int] | None = None) -> dict:
        """Cluster health as the platform gates on it: every expected broker registered and
        unfenced, no offline and no under-replicated partition."""
        cluster = self.cluster()
        live = {b["id"] for b in cluster["brokers"] if not b["fenced"]}
        missing = sorted(set(expected_brokers or []) - live)
        parts = self.partitions()
        offline = [p for p in parts if p["leader"] in (None, -1)]
        # while a partition is reassigned its replica list holds the replicas being added, which
        # join the ISR only once they caught up: as Kafka does, count against the target set
        adding: dict[tuple[str, int], set[int]] = {}
        if any(len(p["isr"]) < len(p["replicas"]) for p in parts):
            adding = {key: set(state["adding"]) for key, state in self.reassignments().items()}
        under = [p for p in parts
                 if len(p["isr"]) < len([r for r in p["replicas"] if r not in adding.get((p["topic"], p["partition"]), ())])]
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

    def wait_healthy(self, expected_brokers: Iterable[int] | None = None, timeout: float = 300,
                     progress: Callable[[str], None] | None = None) -> dict:
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

    # -- groups ----------------------------------------------------------------------------------
    def describe_group(self, group_id: str, timeout: float = 30) -> dict:
        """One group as its coordinator describes it (DescribeGroups), whatever its protocol type:
        ``{"group_id", "state", "protocol_type", "protocol", "members"}``, each member
        ``{"member_id", "group_instance_id", "client_id", "client_host", "metadata", "assignment"}``
        with ``metadata`` and ``assignment`` the bytes the member and the group's leader sent
        (their format is the protocol type's). A group that does not exist is ``state: "Dead"``
        without members. While there is no coordinator yet (the first lookup of a new cluster creates
        the offsets topic), or it loads or moves, asks again until ``timeout`` seconds.

        kafka-python's ``describe_groups`` (3.0.12) decodes every member's bytes as the consumer
        protocol and raises ValueError for any other (Schema Registry's JSON, Connect's), so the
        request is sent here through the client's own coordinator lookup and connection."""
        from kafka import errors

        deadline = time.monotonic() + timeout
        while True:
            try:
                group = self._describe_group_once(group_id)
                error = errors.for_code(group.error_code) if group.error_code else None
                if error is not None and error is not errors.GroupIdNotFoundError:
                    raise error()
                break
            except Exception as exc:
                if not getattr(exc, "retriable", False) or time.monotonic() >= deadline:
                    raise _admin_error("describe group %s" % group_id, exc) from exc
            # no coordinator yet, or it is loading the group or has moved: a new connection looks it up again
            self.close()
            time.sleep(1)
        if error is not None:
            return {"group_id": group_id, "state": "Dead", "protocol_type": "", "protocol": "", "members": []}
        return {"group_id": group_id, "state": group.group_state, "protocol_type": group.protocol_type,
                "protocol": group.protocol_data,
                "members": [{"member_id": m.member_id, "group_instance_id": getattr(m, "group_instance_id", None),
                             "client_id": m.client_id, "client_host": m.client_host,
                             "metadata": bytes(m.member_metadata or b""),
                             "assignment": bytes(m.member_assignment or b"")} for m in group.members]}

    def _describe_group_once(self, group_id: str) -> Any:
        """One DescribeGroups round trip to the group's coordinator (kafka-python's own lookup)."""
        from kafka.protocol.admin import DescribeGroupsRequest

        admin = self.raw

        async def ask() -> Any:
            coordinator = await admin._find_coordinator_id(group_id)
            return await admin._manager.send(DescribeGroupsRequest(groups=[group_id]), node_id=coordinator)

        return admin._manager.run(ask).groups[0]

    def group_offsets(self, group_id: str) -> dict:
        """``{(topic, partition): offset}`` the group has committed (none for a group that does not exist)."""
        try:
            answer = self.raw.list_group_offsets({group_id: None}).get(group_id, {})
        except Exception as exc:
            raise _admin_error("read the committed offsets of group %s" % group_id, exc) from exc
        return {(tp.topic, tp.partition): meta.offset for tp, meta in answer.items() if meta.offset >= 0}

    def partition_offsets(self, partitions: Iterable[tuple[str, int]], spec: str | int) -> dict:
        """``{(topic, partition): offset}``: the log start (``spec`` "earliest"), the log end ("latest"), or the
        first record at or after a timestamp in ms (an int; -1 where there is none)."""
        from kafka import TopicPartition
        from kafka.admin import OffsetSpec

        wanted = {"earliest": OffsetSpec.EARLIEST, "latest": OffsetSpec.LATEST}.get(spec, spec) if isinstance(spec, str) else spec
        chosen = {TopicPartition(topic, partition): wanted for topic, partition in partitions}
        if not chosen:
            return {}
        try:
            answer = self.raw.list_partition_offsets(chosen)
        except Exception as exc:
            raise _admin_error("list partition offsets (%s)" % spec, exc) from exc
        return {(tp.topic, tp.partition): found.offset for tp, found in answer.items()}

    def alter_group_offsets(self, group_id: str, offsets: dict) -> None:
        """Commit ``{(topic, partition): offset}`` for the group (it must have no active member)."""
        from kafka import TopicPartition
        from kafka.structs import OffsetAndMetadata

        try:
            answer = self.raw.alter_group_offsets(group_id, {TopicPartition(t, p): OffsetAndMetadata(o, "", -1)
                                                             for (t, p), o in offsets.items()})
        except Exception as exc:
            raise _admin_error("commit offsets of group %s" % group_id, exc) from exc
        failed = {"%s-%d" % (tp.topic, tp.partition): _error_name(error) for tp, error in answer.items()
                  if _error_name(error) not in ("OK", "NoError")}
        if failed:
            raise KafkaAdminError("commit offsets of group %s: %s%s" % (
                group_id, "; ".join("%s: %s" % item for item in sorted(failed.items())), _hint(sorted(set(failed.values())))))

    def remove_group_members(self, group_id: str, members: Iterable[dict]) -> None:
        """Make the members leave the group (KIP-345 removal: static members by instance id, others by member id)."""
        from kafka.admin import MemberToRemove

        leaving = [MemberToRemove(group_instance_id=m["group_instance_id"]) if m.get("group_instance_id")
                   else MemberToRemove(member_id=m["member_id"]) for m in members]
        try:
            answer = self.raw.remove_group_members(group_id, leaving)
        except Exception as exc:
            raise _admin_error("remove the members of group %s" % group_id, exc) from exc
        failed = sorted({_error_name(error) for error in (answer or {}).values()} - {"OK", "NoError", "UnknownMemberIdError"})
        if failed:
            raise KafkaAdminError("remove the members of group %s: %s%s" % (group_id, ", ".join(failed), _hint(failed)))

    def delete_group(self, group_id: str) -> None:
        """Delete a group and its committed offsets (Kafka refuses a group with members: NonEmptyGroup)."""
        try:
            answer = self.raw.delete_groups([group_id])
        except Exception as exc:
            raise _admin_error("delete group %s" % group_id, exc) from exc
        # a dict in kafka-python 3.0.12, a list of pairs in its docstring
        for _group, error in (answer.items() if isinstance(answer, dict) else answer):
            if _error_name(error) not in ("OK", "NoError", "GroupIdNotFoundError"):
                raise KafkaAdminError("delete group %s: %s%s" % (group_id, _error_name(error), _hint([_error_name(error)])))

    # -- configuration ---------------------------------------------------------------------------
    # resource_type is "topic" or "broker"; names are topic names or broker ids.
    def configs(self, resource_type: str, names: Iterable[object], sources: Collection[str] | None = None) -> dict:
        """``{name: {key: value}}`` of the configs set on each resource (not Kafka's defaults).

        ``sources`` restricts the config sources reported (kafka-python names such as
        ``DYNAMIC_TOPIC_CONFIG``); by default every non-default source is reported."""
        from kafka.admin import ConfigResource

        wanted = [str(n) for n in names]
        if not wanted:
            return {}
        try:
            # every source but Kafka's defaults: kafka-python's own default filter ("modified") also
            # leaves out what a broker's server.properties sets (STATIC_BROKER_CONFIG)
            answer = self.raw.describe_configs([ConfigResource(resource_type.upper(), self._resource_name(resource_type, n))
                                                for n in wanted], config_filter="all")
        except Exception as exc:
            raise _admin_error("describe %s configs" % resource_type, exc) from exc
        found = answer.get(resource_type.lower(), {})
        result = {}
        for name in wanted:
            entries = found.get(name, {})
            result[name] = {key: entry.get("value") for key, entry in sorted(entries.items())
                            if entry.get("config_source") != "DEFAULT_CONFIG"
                            and (sources is None or entry.get("config_source") in sources)}
        return result

    def alter_configs(self, resource_type: str, changes: dict, validate_only: bool = False) -> None:
        """Set and delete configs incrementally. ``changes``: ``{name: {key: value or None}}``,
        None deleting the key (back to the default). Keys Kafka does not list as dynamic (the
        replication throttles, for example) are accepted. ``validate_only``: Kafka checks, changes nothing."""
        from kafka.admin import ConfigResource

        resources = []
        for name, entries in sorted(changes.items()):
            if entries:
                resources.append(ConfigResource(resource_type.upper(), self._resource_name(resource_type, str(name)), {
                    key: (("DELETE", None) if value is None else ("SET", str(value)))
                    for key, value in sorted(entries.items())}))
        if not resources:
            return
        try:
            answer = self.raw.alter_configs(resources, validate_only=validate_only, raise_on_unknown=False, incremental=True)
        except Exception as exc:
            raise _admin_error("alter %s configs" % resource_type, exc) from exc
        failed = ["%s: %s" % (name, _error_name(outcome))
                  for name, outcome in sorted(answer.get(resource_type.lower(), {}).items()) if outcome != "OK"]
        if failed:
            raise KafkaAdminError("alter %s configs: %s" % (resource_type, "; ".join(failed)))

    def _resource_name(self, resource_type: str, name: str) -> str:
        """The name of a config resource; the cluster-wide broker default is the broker named "".

        kafka-python (3.0.12) sends a broker's configs to that broker, so it reads the name as a broker id
        and refuses "": the default goes, as "", to the first registered broker (any broker serves it)."""
        if resource_type.lower() != "broker" or name != "":
            return name
        return _ClusterDefault(self.cluster()["brokers"][0]["id"])

    # -- topics ------------------------------------------------------------------------------------
    def topics(self, names: Iterable[str] | None = None) -> dict:
        """``{topic: [{"partition", "leader", "replicas", "isr"}]}`` of the named topics (all
        when None); a topic that does not exist is absent from the answer."""
        wanted = None if names is None else set(names)
        found: dict[str, list[dict]] = {}
        for part in self.partitions():
            if wanted is None or part["topic"] in wanted:
                found.setdefault(part["topic"], []).append(part)
        return found

    def create_topic(self, name: str, partitions: int | None = None, replication_factor: int | None = None,
                     configs: dict | None = None, assignments: dict | None = None) -> None:
        """Create a topic: either ``partitions`` and ``replication_factor`` (the brokers place the
        replicas) or ``assignments`` ``{partition: [broker ids]}``."""
        spec: dict[str, Any] = {"configs": {k: str(v) for k, v in (configs or {}).items()}}
        if assignments:
            spec["assignments"] = {int(p): list(r) for p, r in assignments.items()}
        else:
            spec["num_partitions"] = partitions if partitions is not None else -1
            spec["replication_factor"] = replication_factor if replication_factor is not None else -1
        try:
            self.raw.create_topics({name: spec}, timeout_ms=self._timeout_ms, wait_for_metadata=True)
        except Exception as exc:
            raise _admin_error("create topic %s" % name, exc) from exc

    def add_partitions(self, name: str, total: int, assignments: list[list[int]] | None = None) -> None:
        """Grow topic ``name`` to ``total`` partitions (``assignments``: replica lists of the new ones)."""
        request: dict[str, Any] = {name: {"count": total, "assignments": assignments}} if assignments else {name: total}
        try:
            self.raw.create_partitions(request, timeout_ms=self._timeout_ms)
        except Exception as exc:
            raise _admin_error("add partitions to %s" % name, exc) from exc

    def delete_topic(self, name: str) -> None:
        try:
            self.raw.delete_topics([name], timeout_ms=self._timeout_ms)
        except Exception as exc:
            raise _admin_error("delete topic %s" % name, exc) from exc

    def partition_sizes(self) -> dict:
        """``{(topic, partition): bytes}``: the largest size of each partition over its replicas
        and log directories (DescribeLogDirs), which is what a move copies."""
        try:
            answer = self.raw.describe_log_dirs()
        except Exception as exc:
            raise _admin_error("describe log dirs", exc) from exc
        sizes: dict[tuple[str, int], int] = {}
        for broker in answer:
            for log_dir in broker.get("log_dirs", []):
                for topic in log_dir.get("topics", []):
                    for part in topic.get("partitions", []):
                        key = (topic["name"], part["partition_index"])
                        sizes[key] = max(sizes.get(key, 0), part.get("partition_size", 0))
        return sizes

    def features(self) -> dict:
        """The cluster's finalized feature levels and each broker's supported range (ApiVersions,
        asked of every registered broker): ``{"finalized": {name: level}, "supported": {name: {broker: (min, max)}}}``."""
        from kafka.protocol.metadata import ApiVersionsRequest

        admin = self.raw
        finalized: dict[str, int] = {}
        supported: dict[str, dict[int, tuple]] = {}
        try:
            for broker in self.cluster()["brokers"]:
                async def ask(node: int = broker["id"]) -> Any:
                    request = ApiVersionsRequest(client_software_name="kafkaops-platform", client_software_version="1",
                                                 min_version=3)
                    return await admin._manager.send(request, node_id=node)

                answer = admin._manager.run(ask)
                if answer.error_code:
                    raise KafkaAdminError("broker %s answered ApiVersions with error code %d" % (broker["id"], answer.error_code))
                for feature in answer.supported_features or []:
                    supported.setdefault(feature.name, {})[broker["id"]] = (feature.min_version, feature.max_version)
                for feature in answer.finalized_features or []:
                    finalized[feature.name] = max(finalized.get(feature.name, 0), feature.max_version_level)
        except Exception as exc:
            raise _admin_error("describe features", exc) from exc
        return {"finalized": finalized, "supported": supported}

    def update_feature(self, name: str, level: int, validate_only: bool = False) -> None:
        """Raise the finalized level of feature ``name`` (UpdateFeatures through the active controller)."""
        try:
            answer = self.raw.update_features({name: ("UPGRADE", int(level))}, validate_only=validate_only,
                                              timeout_ms=self._timeout_ms)
        except Exception as exc:
            raise _admin_error("update feature %s" % name, exc) from exc
        if answer.get(name, "OK") != "OK":
            raise KafkaAdminError("update feature %s to %d: %s" % (name, level, answer[name]))

    def log_dir_states(self) -> list:
        """Every broker's log directories and whether each works (DescribeLogDirs without partitions):
        ``[{"broker", "log_dirs": [{"log_dir", "error_code"}]}]``, error code 56 (KAFKA_STORAGE_ERROR)
        for an offline directory."""
        try:
            answer = self.raw.describe_log_dirs(topic_partitions={})
        except Exception as exc:
            raise _admin_error("describe log dirs", exc) from exc
        return [{"broker": broker.get("broker"),
                 "log_dirs": [{"log_dir": d.get("log_dir"), "error_code": d.get("error_code", 0)}
                              for d in broker.get("log_dirs", [])]} for broker in answer]

    # -- reassignments -----------------------------------------------------------------------------
    def _controller_error(self, what: str, exc: Exception) -> KafkaAdminError:
        """The error of a failed controller request, after making the next one ask the cluster which
        broker to send it to. kafka-python keeps the broker it chose for them (in KRaft any live
        broker) until a NotControllerError, so a request that failed because that broker died
        (UnknownBrokerIdError, a lost connection) would go on failing after the broker is back, or
        forever if it never comes back."""
        if getattr(self.raw, "_controller_id", None) is not None:
            self.raw._controller_id = None
        return _admin_error(what, exc)

    def reassignments(self) -> dict:
        """Ongoing reassignments: ``{(topic, partition): {"replicas", "adding", "removing"}}``."""
        try:
            answer = self.raw.list_partition_reassignments(timeout_ms=self._timeout_ms)
        except Exception as exc:
            raise self._controller_error("list partition reassignments", exc) from exc
        return {(tp.topic, tp.partition): {"replicas": list(state.get("replicas", [])),
                                           "adding": list(state.get("adding_replicas", [])),
                                           "removing": list(state.get("removing_replicas", []))}
                for tp, state in answer.items()}

    def alter_reassignments(self, targets: dict) -> dict:
        """Start (replica list) or cancel (None) reassignments: ``{(topic, partition): replicas}``.
        Returns ``{(topic, partition): error name}`` for the partitions Kafka refused."""
        from kafka import TopicPartition

        if not targets:
            return {}
        request = {TopicPartition(t, p): (None if r is None else list(r)) for (t, p), r in targets.items()}
        try:
            answer = self.raw.alter_partition_reassignments(request, timeout_ms=self._timeout_ms)
        except Exception as exc:
            raise self._controller_error("alter partition reassignments", exc) from exc
        return {(tp.topic, tp.partition): _error_name(error) for tp, error in answer.items() if error is not None}

    def elect_preferred_leaders(self, partitions: Iterable[tuple[str, int]] | None = None) -> dict:
        """Preferred leader election for ``[(topic, partition)]`` (every partition when None).
        Returns ``{"elected": [...], "errors": {...}}``; "not needed" is not an error."""
        request: dict[str, list[int]] | None = None
        if partitions is not None:
            request = {}
            for topic, partition in partitions:
                request.setdefault(topic, []).append(partition)
            if not request:
                return {"elected": [], "errors": {}}
        try:
            answer = self.raw.elect_leaders(0, request, timeout_ms=self._timeout_ms, raise_errors=False)
        except Exception as exc:
            raise self._controller_error("elect preferred leaders", exc) from exc
        elected: list[str] = []
        errors: dict[str, str] = {}
        for topic_result in answer.replica_election_results:
            for result in topic_result.partition_result:
                key = "%s-%d" % (topic_result.topic, result.partition_id)
                if result.error_code == 0:
                    elected.append(key)
                elif result.error_code != 84:  # ELECTION_NOT_NEEDED
                    errors[key] = result.error_message or "error code %d" % result.error_code
        return {"elected": sorted(elected), "errors": errors}

    # -- ACLs ------------------------------------------------------------------------------------
    # An ACL is a dict: principal, host, operation, permission, resource_type, resource_name,
    # pattern_type; the enumerations are lower-case words (see ACL_OPERATIONS and friends).
    def acls(self, principal: str | None = None) -> list:
        """Every ACL of the cluster, or those of ``principal``, sorted."""
        from kafka.admin import (
            ACLFilter,
            ACLOperation,
            ACLPermissionType,
            ACLResourcePatternType,
            ResourcePatternFilter,
            ResourceType,
        )

        acl_filter = ACLFilter(principal=principal, host=None, operation=ACLOperation.ANY,
                               permission_type=ACLPermissionType.ANY,
                               resource_pattern=ResourcePatternFilter(ResourceType.ANY, None, ACLResourcePatternType.ANY))
        try:
            found, _error = self.raw.describe_acls(acl_filter)
        except Exception as exc:
            raise _admin_error("describe ACLs", exc) from exc
        return sorted((_acl_to_dict(acl) for acl in found), key=acl_sort_key)

    def create_acls(self, acls: list) -> None:
        """Create ACLs (creating one that exists changes nothing)."""
        if not acls:
            return
        objects = [_acl_object(acl) for acl in acls]
        try:
            answer = self.raw.create_acls(objects)
        except Exception as exc:
            raise _admin_error("create ACLs", exc) from exc
        if answer.get("failed"):
            errors = sorted({getattr(e, "__name__", str(e)) for e in answer["failed"]})
            raise KafkaAdminError("create ACLs: %d of %d failed (%s)%s" % (
                len(answer["failed"]), len(objects), ", ".join(errors), _hint(errors)))

    def delete_acls(self, acls: list) -> list:
        """Delete exactly the given ACLs; returns the ACLs the cluster deleted."""
        if not acls:
            return []
        from kafka.admin import ACLFilter

        filters = []
        for acl in acls:
            concrete = _acl_object(acl)
            filters.append(ACLFilter(concrete.principal, concrete.host, concrete.operation, concrete.permission_type,
                                     concrete.resource_pattern))
        try:
            answers = self.raw.delete_acls(filters)
        except Exception as exc:
            raise _admin_error("delete ACLs", exc) from exc
        deleted: list[dict] = []
        for _filter, matched, error in answers:
            name = getattr(error, "__name__", str(error))
            if name != "NoError":
                raise KafkaAdminError("delete ACLs: %s%s" % (name, _hint([name])))
            deleted.extend(_acl_to_dict(acl) for acl in matched)
        return sorted(deleted, key=acl_sort_key)

    # -- client quotas -----------------------------------------------------------------------------
    # An entity maps Kafka's entity types ("user", "client-id", "ip") to a name, or to None for the
    # default entity of that type (kafka-configs' --entity-default).
    def client_quotas(self, entity: Mapping[str, str | None]) -> dict:
        """The quotas set on exactly ``entity`` (DescribeClientQuotas, strict): ``{key: value}``."""
        from kafka.protocol.admin import DescribeClientQuotasRequest

        wanted = dict(entity)
        components = [(kind, 1 if name is None else 0, name) for kind, name in sorted(wanted.items())]
        what = "describe the quotas of %s" % quota_entity_text(wanted)
        answer = self._send(DescribeClientQuotasRequest(components=components, strict=True), what)
        if answer.error_code:
            raise _quota_error(what, answer.error_code, answer.error_message)
        for entry in answer.entries or []:
            if {part.entity_type: part.entity_name for part in entry.entity} == wanted:
                return {value.key: value.value for value in entry.values}
        return {}

    def alter_client_quotas(self, entity: Mapping[str, str | None], changes: Mapping[str, float | None],
                            validate_only: bool = False) -> None:
        """Set (a number) and remove (None) quota keys of one entity (AlterClientQuotas)."""
        from kafka.protocol.admin import AlterClientQuotasRequest

        parts = sorted(entity.items())
        ops = [(key, 0.0 if value is None else float(value), value is None) for key, value in sorted(changes.items())]
        what = "alter the quotas of %s" % quota_entity_text(entity)
        answer = self._send(AlterClientQuotasRequest(entries=[(parts, ops)], validate_only=validate_only), what)
        for entry in answer.entries or []:
            if entry.error_code:
                raise _quota_error(what, entry.error_code, entry.error_message)

    def _send(self, request: Any, what: str) -> Any:
        """One request kafka-python's admin client has no method for, to any broker; its answer."""
        admin = self.raw

        async def ask() -> Any:
            return await admin._manager.send(request)

        try:
            return admin._manager.run(ask)
        except Exception as exc:
            raise _admin_error(what, exc) from exc

    # -- SCRAM credentials -------------------------------------------------------------------------
    def scram_users(self) -> dict:
        """Every user with SCRAM credentials: ``{user: [{"mechanism": "SCRAM-SHA-512", "iterations": 8192}]}``.

        Kafka never returns salts or passwords, only mechanisms and iteration counts."""
        try:
            answer = self.raw.describe_user_scram_credentials()
        except Exception as exc:
            raise _admin_error("describe SCRAM credentials", exc) from exc
        users: dict[str, list[dict[str, Any]]] = {}
        for user, entry in answer.items():
            if entry.get("error"):
                raise KafkaAdminError("describe SCRAM credentials of %s: %s" % (user, entry["error"]))
            users[user] = sorted(({"mechanism": info["mechanism"].name.replace("_", "-"),
                                   "iterations": info["iterations"]} for info in entry["credential_infos"]),
                                 key=lambda c: c["mechanism"])
        return users

    def alter_scram_credentials(self, upsertions: Iterable[dict] = (), deletions: Iterable[dict] = ()) -> None:
        """Set and delete SCRAM credentials.

        ``upsertions``: dicts with user, mechanism (SCRAM-SHA-256 or SCRAM-SHA-512), password and
        iterations; the password is salted here and never sent. ``deletions``: dicts with user and
        mechanism. Kafka alters a user at most once per request, so the changes go in rounds of
        one change per user (deletions first); a failure stops before the next round."""
        from kafka.admin import UserScramCredentialDeletion, UserScramCredentialUpsertion

        per_user: dict[str, list[Any]] = {}
        for deletion in deletions:
            per_user.setdefault(deletion["user"], []).append(
                UserScramCredentialDeletion(deletion["user"], deletion["mechanism"]))
        for upsertion in upsertions:
            per_user.setdefault(upsertion["user"], []).append(
                UserScramCredentialUpsertion(upsertion["user"], upsertion["mechanism"], upsertion["password"],
                                             iterations=upsertion["iterations"]))
        rounds = max((len(changes) for changes in per_user.values()), default=0)
        for index in range(rounds):
            batch = [changes[index] for _user, changes in sorted(per_user.items()) if index < len(changes)]
            try:
                answer = self.raw.alter_user_scram_credentials(batch)
            except Exception as exc:
                raise _admin_error("alter SCRAM credentials", exc) from exc
            failed = ["%s: %s" % (user, error) for user, error in sorted(answer.items()) if error]
            if failed:
                raise KafkaAdminError("alter SCRAM credentials: %s" % "; ".join(failed))


# -- ACL and SCRAM vocabulary ------------------------------------------------------------------------
ACL_RESOURCE_TYPES = ("topic", "group", "cluster", "transactional_id", "delegation_token", "user")
ACL_PATTERN_TYPES = ("literal", "prefixed")
ACL_PERMISSIONS = ("allow", "deny")
ACL_OPERATIONS = ("all", "read", "write", "create", "delete", "alter", "describe", "cluster_action",
                  "describe_configs", "alter_configs", "idempotent_write", "create_tokens", "describe_tokens")
# The operations each resource type knows (Kafka's authorization documentation).
ACL_RESOURCE_OPERATIONS = {
    "topic": ("all", "read", "write", "create", "delete", "alter", "describe", "describe_configs", "alter_configs"),
    "group": ("all", "read", "describe", "delete"),
    "cluster": ("all", "create", "cluster_action", "describe_configs", "alter_configs", "idempotent_write", "alter",
                "describe"),
    "transactional_id": ("all", "describe", "write"),
    "delegation_token": ("all", "describe"),
    "user": ("all", "create_tokens", "describe_tokens"),
}
ACL_KEYS = ("principal", "host", "operation", "permission", "resource_type", "resource_name", "pattern_type")
CLUSTER_RESOURCE_NAME = "kafka-cluster"
SCRAM_MECHANISMS = ("SCRAM-SHA-256", "SCRAM-SHA-512")

_HINTS = {
    "SecurityDisabledError": "The cluster has no authorizer; enable platform_security.authorizer.",
    "ClusterAuthorizationFailedError": "The identity the module connects as may not do this; use a super user "
                                       "(credentials.admin is one) or grant it ALTER and DESCRIBE on the cluster.",
    "InvalidRequestError": "Kafka refused the request as invalid; check the principal (Type:name), host and resource.",
    "UnsupportedVersionError": "The brokers are too old for this request.",
    "UnknownMemberIdError": "The group has active members, which hold its offsets; stop its consumers first.",
    "NonEmptyGroupError": "The group has active members; stop its consumers first.",
    "GroupAuthorizationFailedError": "The identity the module connects as may not describe the group; grant it "
                                     "DESCRIBE on the group (or use a super user).",
}


def _hint(error_names: Iterable[str]) -> str:
    hints = [_HINTS[name] for name in error_names if name in _HINTS]
    return (". " + " ".join(hints)) if hints else ""


def _error_name(error: object) -> str:
    """The name of a kafka-python error class or instance (or the text it was given)."""
    if isinstance(error, type):
        return error.__name__
    if isinstance(error, Exception):
        return type(error).__name__
    return str(error)


def quota_entity_text(entity: Mapping[str, str | None]) -> str:
    """``user alice, client-id app`` (``<default>`` for a default entity), for messages."""
    return ", ".join("%s %s" % (kind, "<default>" if name is None else name) for kind, name in sorted(entity.items()))


def _quota_error(what: str, code: int, message: str | None) -> KafkaAdminError:
    """A quota request's error: its name, Kafka's own explanation (which names the key or value at
    fault), and the hint for an authorization error (the principal/resource hint of an invalid
    request does not apply to quotas)."""
    from kafka import errors

    name = errors.for_code(code).__name__
    return KafkaAdminError("%s: %s%s%s" % (what, name, (" (%s)" % message) if message else "",
                                           "" if name == "InvalidRequestError" else _hint([name])))


def _admin_error(what: str, exc: Exception) -> KafkaAdminError:
    """``what`` failed: kafka-python's message (which names the error) and what to do about it."""
    name = type(exc).__name__
    text = str(exc).strip().rstrip(".")
    if name not in text:
        text = "%s: %s" % (name, text) if text else name
    return KafkaAdminError("%s: %s%s" % (what, text, _hint([name])))


def acl_sort_key(acl: dict) -> tuple:
    return tuple(acl[key] for key in ACL_KEYS)


def _acl_to_dict(acl: Any) -> dict:
    pattern = acl.resource_pattern
    return {
        "principal": acl.principal,
        "host": acl.host,
        "operation": acl.operation.name.lower(),
        "permission": acl.permission_type.name.lower(),
        "resource_type": pattern.resource_type.name.lower(),
        "resource_name": pattern.resource_name,
        "pattern_type": pattern.pattern_type.name.lower(),
    }


def _acl_object(acl: dict) -> Any:
    from kafka.admin import ACL, ACLOperation, ACLPermissionType, ACLResourcePatternType, ResourcePattern, ResourceType
    from kafka.errors import IllegalArgumentError

    try:
        return ACL(principal=acl["principal"], host=acl["host"],
                   operation=ACLOperation[acl["operation"].upper()],
                   permission_type=ACLPermissionType[acl["permission"].upper()],
                   resource_pattern=ResourcePattern(ResourceType[acl["resource_type"].upper()], acl["resource_name"],
                                                    ACLResourcePatternType[acl["pattern_type"].upper()]))
    except (KeyError, ValueError, AttributeError, IllegalArgumentError) as exc:
        raise KafkaAdminError("not an ACL: %r (%s)" % (acl, exc)) from exc
