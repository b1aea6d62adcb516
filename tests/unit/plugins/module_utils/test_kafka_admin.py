# Copyright: kafkaops.platform contributors
# Apache-2.0 (see LICENSE)
"""Tests of plugins/module_utils/kafka_admin.py: how KafkaAdmin turns kafka-python's answers into
plain dicts and its failures into KafkaAdminError messages, against a stand-in for
KafkaAdminClient that answers as kafka-python 3 does. The ACL and SCRAM helpers run through the
kafka_acl and kafka_user module tests; a real cluster is in tests/integration."""

from __future__ import annotations

import types

import pytest
from kafka import TopicPartition
from kafka.errors import CoordinatorNotAvailableError, NotControllerError

from ansible_collections.kafkaops.platform.plugins.module_utils import kafka_admin
from ansible_collections.kafkaops.platform.plugins.module_utils.kafka_admin import KafkaAdmin, KafkaAdminError


class FakeClient:
    """KafkaAdminClient's answers, set per test in ``answers`` (a callable answer is called with
    the request); every request is kept in ``requests``."""

    answers: dict = {}
    requests: list = []
    closed = 0

    def __init__(self, **config):
        self.config = config

    def close(self):
        FakeClient.closed += 1

    def __getattr__(self, name):
        if name not in self.answers:
            raise AttributeError(name)

        def call(*args, **kwargs):
            self.requests.append((name, args, kwargs))
            answer = self.answers[name]
            return answer(*args, **kwargs) if callable(answer) else answer

        return call


@pytest.fixture
def admin(monkeypatch):
    monkeypatch.setattr(kafka_admin, "KafkaAdminClient", FakeClient)
    monkeypatch.setattr(kafka_admin, "HAS_KAFKA", True)
    monkeypatch.setattr(FakeClient, "answers", {})
    monkeypatch.setattr(FakeClient, "requests", [])
    monkeypatch.setattr(FakeClient, "closed", 0)
    with KafkaAdmin(["b1:9092"], request_timeout=7) as connected:
        yield connected


def test_connects_with_the_settings_given_and_closes(monkeypatch):
    monkeypatch.setattr(kafka_admin, "KafkaAdminClient", FakeClient)
    monkeypatch.setattr(kafka_admin, "HAS_KAFKA", True)
    monkeypatch.setattr(FakeClient, "closed", 0)
    with KafkaAdmin(("b1:9092", "b2:9092"), request_timeout=7, client_id="me") as admin:
        assert admin.raw.config == {"bootstrap_servers": ["b1:9092", "b2:9092"], "client_id": "me",
                                    "request_timeout_ms": 7000, "security_protocol": "PLAINTEXT"}
    assert FakeClient.closed == 1
    assert admin._admin is None


def test_without_kafka_python_it_says_what_to_install(monkeypatch):
    monkeypatch.setattr(kafka_admin, "HAS_KAFKA", False)
    with pytest.raises(KafkaAdminError) as caught:
        KafkaAdmin(["b1:9092"])
    assert str(caught.value) == "kafka-python is not installed on the control node: pip install kafka-python"


def test_a_connection_that_fails_names_the_servers(monkeypatch):
    def refuse(**config):
        raise ConnectionRefusedError("no broker")

    monkeypatch.setattr(kafka_admin, "KafkaAdminClient", refuse)
    monkeypatch.setattr(kafka_admin, "HAS_KAFKA", True)
    with pytest.raises(KafkaAdminError) as caught:
        KafkaAdmin(["b1:9092", "b2:9092"]).connect()
    assert str(caught.value) == "cannot connect to b1:9092,b2:9092: no broker"


def test_partitions_read_both_spellings_of_kafka_python(admin):
    FakeClient.answers["describe_topics"] = [
        {"topic": "b", "partitions": [{"partition": 1, "leader": 2, "replicas": [2, 1], "isr": [2]},
                                      {"partition": 0, "leader": 1, "replicas": [1, 2], "isr": [1, 2]}]},
        {"name": "a", "partitions": [{"partition_index": 0, "leader_id": -1, "replica_nodes": [3], "isr_nodes": []}]},
    ]
    assert admin.partitions() == [
        {"topic": "a", "partition": 0, "leader": -1, "replicas": [3], "isr": []},
        {"topic": "b", "partition": 0, "leader": 1, "replicas": [1, 2], "isr": [1, 2]},
        {"topic": "b", "partition": 1, "leader": 2, "replicas": [2, 1], "isr": [2]},
    ]
    assert admin.topics(["b", "c"]) == {"b": admin.partitions()[1:]}


def test_cluster_sorts_brokers_and_reads_fencing(admin):
    FakeClient.answers["describe_cluster"] = {
        "cluster_id": "c1", "controller_id": 2,
        "brokers": [{"node_id": 2, "host": "h2", "port": 9092, "rack": "b", "is_fenced": True},
                    {"broker_id": 1, "host": "h1", "port": 9092}]}
    assert admin.cluster() == {"cluster_id": "c1", "controller_id": 2, "brokers": [
        {"id": 1, "host": "h1", "port": 9092, "rack": None, "fenced": False},
        {"id": 2, "host": "h2", "port": 9092, "rack": "b", "fenced": True}]}


def test_health_counts_a_partition_being_reassigned_against_its_target(admin):
    FakeClient.answers["describe_cluster"] = {"brokers": [{"node_id": 1}, {"node_id": 2}, {"node_id": 3}]}
    FakeClient.answers["describe_topics"] = [{"topic": "t", "partitions": [
        {"partition": 0, "leader": 1, "replicas": [1, 2, 3], "isr": [1, 2]},  # 3 is being added
        {"partition": 1, "leader": 2, "replicas": [2, 3], "isr": [2]},  # under-replicated
        {"partition": 2, "leader": -1, "replicas": [3], "isr": []},  # offline
    ]}]
    FakeClient.answers["list_partition_reassignments"] = {
        TopicPartition("t", 0): {"replicas": [1, 2, 3], "adding_replicas": [3], "removing_replicas": []}}
    health = admin.health(expected_brokers=[1, 2, 3, 4])
    assert health["healthy"] is False
    assert health["problems"] == ["brokers not registered or fenced: 4", "1 offline partition(s)",
                                  "2 under-replicated partition(s)"]
    assert health["offline_partitions"] == ["t-2"]
    assert health["under_replicated_partitions"] == ["t-1", "t-2"]


def test_configs_report_what_is_set_on_the_resource(admin):
    FakeClient.answers["describe_configs"] = {"topic": {"t": {
        "retention.ms": {"value": "1000", "config_source": "DYNAMIC_TOPIC_CONFIG"},
        "segment.ms": {"value": "5", "config_source": "STATIC_BROKER_CONFIG"},
        "cleanup.policy": {"value": "delete", "config_source": "DEFAULT_CONFIG"}}}}
    assert admin.configs("topic", ["t", "u"]) == {"t": {"retention.ms": "1000", "segment.ms": "5"}, "u": {}}
    assert admin.configs("topic", ["t"], sources=["DYNAMIC_TOPIC_CONFIG"]) == {"t": {"retention.ms": "1000"}}
    assert admin.configs("broker", []) == {}
    assert len(FakeClient.requests) == 2  # no request for no resource


def test_alter_configs_sets_and_deletes_incrementally(admin):
    FakeClient.answers["alter_configs"] = {"broker": {"1": "OK"}}
    admin.alter_configs("broker", {1: {"b": None, "a": 5}, 2: {}})
    (name, (resources,), kwargs), = FakeClient.requests
    assert name == "alter_configs" and kwargs == {"validate_only": False, "raise_on_unknown": False, "incremental": True}
    assert [(r.name, r.configs) for r in resources] == [("1", {"a": ("SET", "5"), "b": ("DELETE", None)})]
    admin.alter_configs("broker", {})
    assert len(FakeClient.requests) == 1


def test_alter_configs_failures_name_the_resource_and_the_error(admin):
    FakeClient.answers["alter_configs"] = {"topic": {"t": NotControllerError, "u": "OK"}}
    with pytest.raises(KafkaAdminError) as caught:
        admin.alter_configs("topic", {"t": {"a": 1}, "u": {"a": 1}})
    assert str(caught.value) == "alter topic configs: t: NotControllerError"


def test_a_refused_request_names_the_error_and_what_to_do(admin):
    def refuse(*args, **kwargs):
        raise types.new_class("ClusterAuthorizationFailedError", (Exception,))("not allowed.")

    FakeClient.answers["list_partition_reassignments"] = refuse
    with pytest.raises(KafkaAdminError) as caught:
        admin.reassignments()
    assert str(caught.value) == (
        "list partition reassignments: ClusterAuthorizationFailedError: not allowed. The identity the module "
        "connects as may not do this; use a super user (credentials.admin is one) or grant it ALTER and DESCRIBE on "
        "the cluster.")


def test_a_failed_controller_request_makes_the_next_one_ask_for_the_controller_again(admin):
    """kafka-python sends controller requests to the broker it chose once (in KRaft any live broker):
    after that broker is killed, every request fails with UnknownBrokerIdError until it is chosen again."""
    admin.raw._controller_id = 3

    def broker_gone(*args, **kwargs):
        raise types.new_class("UnknownBrokerIdError", (Exception,))("3")

    for method, call in (("list_partition_reassignments", admin.reassignments),
                         ("alter_partition_reassignments", lambda: admin.alter_reassignments({("t", 1): [1, 2]})),
                         ("elect_leaders", lambda: admin.elect_preferred_leaders([("t", 1)]))):
        admin.raw._controller_id = 3
        FakeClient.answers[method] = broker_gone
        with pytest.raises(KafkaAdminError, match="UnknownBrokerIdError: 3"):
            call()
        assert admin.raw._controller_id is None, method
    # an answer leaves the choice alone
    admin.raw._controller_id = 2
    FakeClient.answers["list_partition_reassignments"] = {}
    assert admin.reassignments() == {}
    assert admin.raw._controller_id == 2


def test_reassignments_in_flight_and_their_changes(admin):
    FakeClient.answers["list_partition_reassignments"] = {
        TopicPartition("t", 1): {"replicas": [4, 1, 2], "adding_replicas": [4], "removing_replicas": [2]}}
    assert admin.reassignments() == {("t", 1): {"replicas": [4, 1, 2], "adding": [4], "removing": [2]}}
    FakeClient.answers["alter_partition_reassignments"] = {TopicPartition("t", 1): None,
                                                           TopicPartition("t", 2): NotControllerError()}
    assert admin.alter_reassignments({("t", 1): [4, 1], ("t", 2): None}) == {("t", 2): "NotControllerError"}
    request = FakeClient.requests[-1][1][0]
    assert request == {TopicPartition("t", 1): [4, 1], TopicPartition("t", 2): None}
    assert admin.alter_reassignments({}) == {}


def test_partition_sizes_take_the_largest_replica(admin):
    FakeClient.answers["describe_log_dirs"] = [
        {"log_dirs": [{"topics": [{"name": "t", "partitions": [{"partition_index": 0, "partition_size": 10}]}]}]},
        {"log_dirs": [{"topics": [{"name": "t", "partitions": [{"partition_index": 0, "partition_size": 30},
                                                               {"partition_index": 1}]}]}]},
    ]
    assert admin.partition_sizes() == {("t", 0): 30, ("t", 1): 0}


def election_answer(*results):
    topics = {}
    for topic, partition, code, message in results:
        topics.setdefault(topic, []).append(types.SimpleNamespace(partition_id=partition, error_code=code,
                                                                  error_message=message))
    return types.SimpleNamespace(replica_election_results=[
        types.SimpleNamespace(topic=topic, partition_result=parts) for topic, parts in topics.items()])


def test_preferred_leader_election_reports_elected_and_failed_not_the_unneeded(admin):
    FakeClient.answers["elect_leaders"] = election_answer(("t", 0, 0, None), ("t", 1, 84, "not needed"),
                                                          ("u", 0, 5, None), ("u", 1, 15, "no leader"))
    assert admin.elect_preferred_leaders([("t", 0), ("t", 1), ("u", 0), ("u", 1)]) == {
        "elected": ["t-0"], "errors": {"u-0": "error code 5", "u-1": "no leader"}}
    assert FakeClient.requests[-1][1] == (0, {"t": [0, 1], "u": [0, 1]})
    assert admin.elect_preferred_leaders([]) == {"elected": [], "errors": {}}
    assert len(FakeClient.requests) == 1


@pytest.mark.parametrize("error, name", [
    (NotControllerError, "NotControllerError"), (NotControllerError(), "NotControllerError"), ("Custom", "Custom")])
def test_error_names(error, name):
    assert kafka_admin._error_name(error) == name


# -- describe_group: DescribeGroups sent through kafka-python's own coordinator lookup and connection,
# the members' bytes kept as they are (whatever the group's protocol type) -------------------------
class GroupClient:
    """The parts of kafka-python 3's KafkaAdminClient describe_group uses: the coordinator lookup and
    the connection manager; ``answers`` are the DescribeGroups group entries returned in turn."""

    answers: list = []
    sent: list = []
    made = 0

    def __init__(self, **config):
        GroupClient.made += 1
        self._manager = self

    async def _find_coordinator_id(self, group_id):
        return 2

    def run(self, coroutine_function):
        import asyncio
        return asyncio.run(coroutine_function())

    async def send(self, request, node_id=None):
        GroupClient.sent.append((request.groups, node_id))
        answer = GroupClient.answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return types.SimpleNamespace(groups=[answer])

    def close(self):
        pass


def described(error_code=0, state="Stable", members=()):
    return types.SimpleNamespace(error_code=error_code, group_state=state, protocol_type="sr", protocol_data="v0",
                                 members=[types.SimpleNamespace(member_id=m, group_instance_id=None, client_id="sr-1",
                                                                client_host="/10.0.0.1", member_metadata=b'{"host": "h"}',
                                                                member_assignment=b"") for m in members])


@pytest.fixture
def group_admin(monkeypatch):
    monkeypatch.setattr(kafka_admin, "KafkaAdminClient", GroupClient)
    monkeypatch.setattr(kafka_admin, "HAS_KAFKA", True)
    monkeypatch.setattr(GroupClient, "answers", [])
    monkeypatch.setattr(GroupClient, "sent", [])
    monkeypatch.setattr(GroupClient, "made", 0)
    monkeypatch.setattr(kafka_admin.time, "sleep", lambda seconds: None)
    with KafkaAdmin(["b1:9092"]) as connected:
        yield connected


def test_describe_group_keeps_the_members_bytes(group_admin):
    GroupClient.answers = [described(members=["sr-1-a"])]
    assert group_admin.describe_group("schema-registry") == {
        "group_id": "schema-registry", "state": "Stable", "protocol_type": "sr", "protocol": "v0",
        "members": [{"member_id": "sr-1-a", "group_instance_id": None, "client_id": "sr-1", "client_host": "/10.0.0.1",
                     "metadata": b'{"host": "h"}', "assignment": b""}]}
    assert GroupClient.sent == [(["schema-registry"], 2)]


def test_a_group_that_does_not_exist_is_dead_and_empty(group_admin):
    GroupClient.answers = [described(error_code=69, state="")]
    assert group_admin.describe_group("nobody") == {"group_id": "nobody", "state": "Dead", "protocol_type": "",
                                                    "protocol": "", "members": []}


def test_describe_group_asks_again_until_there_is_a_coordinator_and_it_has_loaded(group_admin):
    # a new cluster has no coordinator until the first lookup created the offsets topic (the lookup
    # raises), then the coordinator loads the group or moves (the answer says so)
    GroupClient.answers = [CoordinatorNotAvailableError("FindCoordinatorResponse error"), described(error_code=14),
                           described(error_code=16), described(members=["m"])]
    assert group_admin.describe_group("schema-registry")["members"][0]["member_id"] == "m"
    assert len(GroupClient.sent) == 4
    assert GroupClient.made == 4  # a new connection each time, so the coordinator is looked up again


def test_describe_group_errors_name_the_group_and_what_to_do(group_admin):
    GroupClient.answers = [described(error_code=30)]
    with pytest.raises(KafkaAdminError) as caught:
        group_admin.describe_group("schema-registry")
    assert str(caught.value) == ("describe group schema-registry: [Error 30] GroupAuthorizationFailedError. The "
                                 "identity the module connects as may not describe the group; grant it DESCRIBE on "
                                 "the group (or use a super user).")
    GroupClient.answers = [described(error_code=15)]
    with pytest.raises(KafkaAdminError, match=r"describe group schema-registry: \[Error 15\] CoordinatorNotAvailableError"):
        group_admin.describe_group("schema-registry", timeout=0)
    GroupClient.answers = [TimeoutError("no answer")]
    with pytest.raises(KafkaAdminError, match="describe group schema-registry: TimeoutError: no answer"):
        group_admin.describe_group("schema-registry")


# -- features: ApiVersions asked of every registered broker, UpdateFeatures through the controller --
class FeatureClient(FakeClient):
    """FakeClient (describe_cluster, update_features) with kafka-python 3's connection manager:
    ``versions`` is each broker's ApiVersions answer by node id (an exception in it is raised)."""

    versions: dict = {}
    sent: list = []

    def __init__(self, **config):
        super().__init__(**config)
        self._manager = self

    def run(self, coroutine_function):
        import asyncio
        return asyncio.run(coroutine_function())

    async def send(self, request, node_id=None):
        FeatureClient.sent.append((request, node_id))
        answer = FeatureClient.versions[node_id]
        if isinstance(answer, Exception):
            raise answer
        return answer


def api_versions(supported=(), finalized=()):
    """An ApiVersions answer: ``supported`` (name, min, max), ``finalized`` (name, level)."""
    return types.SimpleNamespace(
        error_code=0,
        supported_features=[types.SimpleNamespace(name=n, min_version=low, max_version=high) for n, low, high in supported],
        finalized_features=[types.SimpleNamespace(name=n, min_version_level=1, max_version_level=level)
                            for n, level in finalized] or None)


@pytest.fixture
def feature_admin(monkeypatch):
    monkeypatch.setattr(kafka_admin, "KafkaAdminClient", FeatureClient)
    monkeypatch.setattr(kafka_admin, "HAS_KAFKA", True)
    monkeypatch.setattr(FakeClient, "answers", {})
    monkeypatch.setattr(FakeClient, "requests", [])
    monkeypatch.setattr(FeatureClient, "versions", {})
    monkeypatch.setattr(FeatureClient, "sent", [])
    with KafkaAdmin(["b1:9092"], request_timeout=7) as connected:
        yield connected


def test_features_ask_every_broker_and_merge_their_answers(feature_admin):
    from kafka.protocol.metadata import ApiVersionsRequest

    FakeClient.answers["describe_cluster"] = {"brokers": [{"node_id": 3}, {"broker_id": 1}, {"node_id": 2}]}
    FeatureClient.versions = {
        1: api_versions([("metadata.version", 7, 30), ("kraft.version", 0, 1)], [("metadata.version", 29), ("kraft.version", 1)]),
        # a broker that learnt of the new finalized level first: the highest is kept, whatever the order
        2: api_versions([("metadata.version", 7, 30), ("kraft.version", 0, 1)], [("metadata.version", 30)]),
        3: api_versions([("metadata.version", 7, 29)], [("metadata.version", 29)]),
    }
    assert feature_admin.features() == {
        "finalized": {"metadata.version": 30, "kraft.version": 1},
        "supported": {"metadata.version": {1: (7, 30), 2: (7, 30), 3: (7, 29)}, "kraft.version": {1: (0, 1), 2: (0, 1)}}}
    assert [node for _request, node in FeatureClient.sent] == [1, 2, 3]  # one request per broker, to that broker
    assert all(isinstance(request, ApiVersionsRequest) for request, _node in FeatureClient.sent)
    assert FeatureClient.sent[0][0].client_software_name == "kafkaops-platform"
    assert [name for name, _args, _kwargs in FakeClient.requests] == ["describe_cluster"]


def test_features_of_brokers_that_advertise_none(feature_admin):
    FakeClient.answers["describe_cluster"] = {"brokers": [{"node_id": 1}]}
    FeatureClient.versions = {1: types.SimpleNamespace(error_code=0, supported_features=None, finalized_features=None)}
    assert feature_admin.features() == {"finalized": {}, "supported": {}}
    FakeClient.answers["describe_cluster"] = {"brokers": []}
    assert feature_admin.features() == {"finalized": {}, "supported": {}}
    assert len(FeatureClient.sent) == 1


def test_features_failures_say_what_failed(feature_admin):
    FakeClient.answers["describe_cluster"] = {"brokers": [{"node_id": 1}, {"node_id": 2}]}
    FeatureClient.versions = {1: api_versions([("metadata.version", 7, 30)]), 2: TimeoutError("no answer from 2")}
    with pytest.raises(KafkaAdminError) as caught:
        feature_admin.features()
    assert str(caught.value) == "describe features: TimeoutError: no answer from 2"

    def refuse(*args, **kwargs):
        raise NotControllerError("gone")

    FakeClient.answers["describe_cluster"] = refuse
    with pytest.raises(KafkaAdminError, match="^describe features: .*NotControllerError"):
        feature_admin.features()


@pytest.mark.parametrize("validate_only", [False, True])
def test_update_feature_raises_the_level(admin, validate_only):
    FakeClient.answers["update_features"] = {"metadata.version": "OK"}
    assert admin.update_feature("metadata.version", 30, validate_only=validate_only) is None
    assert FakeClient.requests == [("update_features", ({"metadata.version": ("UPGRADE", 30)},),
                                    {"validate_only": validate_only, "timeout_ms": 7000})]


def test_update_feature_sends_an_int_level_and_takes_an_answer_without_the_feature_as_ok(admin):
    FakeClient.answers["update_features"] = {}  # UpdateFeatures v2 answers without per-feature results
    admin.update_feature("metadata.version", "30")
    (_name, (updates,), kwargs), = FakeClient.requests
    assert updates == {"metadata.version": ("UPGRADE", 30)}
    assert kwargs["validate_only"] is False


def test_update_feature_refused_names_the_feature_level_and_error(admin):
    FakeClient.answers["update_features"] = {"metadata.version": "[Error 96] FeatureUpdateFailedError: Invalid update version 31"}
    with pytest.raises(KafkaAdminError) as caught:
        admin.update_feature("metadata.version", 31)
    assert str(caught.value) == ("update feature metadata.version to 31: "
                                 "[Error 96] FeatureUpdateFailedError: Invalid update version 31")


def test_update_feature_failure_says_what_failed(admin):
    def refuse(*args, **kwargs):
        raise types.new_class("ClusterAuthorizationFailedError", (Exception,))("not allowed")

    FakeClient.answers["update_features"] = refuse
    with pytest.raises(KafkaAdminError) as caught:
        admin.update_feature("metadata.version", 30)
    assert str(caught.value).startswith("update feature metadata.version: ClusterAuthorizationFailedError: not allowed. ")


def test_configs_ask_for_every_source_and_drop_the_defaults(admin):
    FakeClient.answers["describe_configs"] = {"broker": {"1": {
        "log.dirs": {"value": "/var/lib/kafka", "config_source": "STATIC_BROKER_CONFIG"},
        "min.insync.replicas": {"value": "2", "config_source": "DYNAMIC_DEFAULT_BROKER_CONFIG"},
        "num.io.threads": {"value": "8", "config_source": "DEFAULT_CONFIG"}}}}
    assert admin.configs("broker", [1, 2]) == {"1": {"log.dirs": "/var/lib/kafka", "min.insync.replicas": "2"}, "2": {}}
    (name, (resources,), kwargs), = FakeClient.requests
    assert name == "describe_configs"
    assert kwargs == {"config_filter": "all"}
    assert [(r.resource_type.name, r.name) for r in resources] == [("BROKER", "1"), ("BROKER", "2")]
