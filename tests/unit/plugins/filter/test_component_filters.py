# Copyright: kafkaops.platform contributors
# Apache-2.0 (see LICENSE)
"""The Connect, Schema Registry and ksqlDB filters: what they read from the inventory, and their errors."""
from __future__ import annotations

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.kafkaops.platform.plugins.filter import services

# one filter file; two names keep the tests' grouping
CONNECT = CONFLUENT = services.FilterModule().filters()


def test_connect_clusters_read_each_hosts_variables_and_address():
    groups = {"kafka_connect": ["w1", "w2"]}
    hostvars = {"w1": {"kafka_connect_cluster": "cdc", "platform_host_address": "10.0.0.21", "unrelated": 1},
                "w2": {"kafka_connect_cluster": "cdc", "kafka_connect_rest_port": 8084}}
    found = CONNECT["kafka_connect_clusters"](groups, hostvars=hostvars, brokers=3, min_insync_replicas="2")
    # the cluster's settings are the first host's; the disagreement is an error
    assert found["clusters"]["cdc"]["urls"] == ["http://10.0.0.21:8083", "http://w2:8083"]
    assert found["errors"] == ["w2: kafka_connect_rest_port is 8084 but w1 of the same Connect cluster 'cdc' has 8083; "
                               "every worker of a cluster must agree"]
    assert CONNECT["kafka_connect_clusters"]({}, hostvars={}) == {"clusters": {}, "errors": []}
    with pytest.raises(AnsibleFilterError, match="needs hostvars"):
        CONNECT["kafka_connect_clusters"](groups)


def test_connect_errors_become_filter_errors():
    with pytest.raises(AnsibleFilterError, match="kafka_connect_clusters: brokers must be the number of brokers, got 'x'"):
        CONNECT["kafka_connect_clusters"]({"kafka_connect": ["w1"]}, hostvars={"w1": {}}, brokers="x")
    with pytest.raises(AnsibleFilterError, match="kafka_confluent_layout: brokers must be the number of brokers"):
        CONFLUENT["kafka_confluent_layout"]({}, hostvars={}, brokers=None)
    with pytest.raises(AnsibleFilterError, match="kafka_connect_worker_properties: an HTTPS REST listener .kafka_connect_rest_tls. needs a keystore"):
        CONNECT["kafka_connect_worker_properties"]({
            "cluster": {"group_id": "g", "config_topic": "a", "offset_topic": "b", "status_topic": "c",
                        "replication_factor": 1, "rest_port": 8083, "rest_tls": True},
            "address": "h", "bootstrap_servers": ["b:9092"], "plugin_path": "/p", "secrets_dir": "/s"})


def test_connect_rest_users_are_read_from_each_host_and_checked_by_the_preflight():
    groups = {"kafka_connect": ["w1", "w2"]}
    hostvars = {"w1": {"kafka_connect_rest_users": [{"name": "ops", "password": "One-pw"}],
                       "kafka_connect_rest_user": "ops"},
                "w2": {"kafka_connect_rest_users": [{"name": "ops", "password": "Two-pw"}],
                       "kafka_connect_rest_user": "nobody"}}
    found = CONNECT["kafka_connect_clusters"](groups, hostvars=hostvars, brokers=3)
    assert found["clusters"]["connect"]["rest_users"] == ["ops"]
    assert [e.split(" ", 2)[1] for e in found["errors"]] == ["kafka_connect_rest_user", "kafka_connect_rest_users"]
    assert "pw" not in repr(found)


def test_connect_rest_auth_filter():
    found = CONNECT["kafka_connect_rest_auth"]([{"name": "ops", "password": "pw"}], directory="/etc/kafka/kafka-connect")
    assert [f["path"] for f in found["files"]] == found["paths"]
    assert found["files"][1]["content"] == "ops=pw\n"
    with pytest.raises(AnsibleFilterError, match="kafka_connect_rest_auth: kafka_connect_rest_users.0..name 'a:b'"):
        CONNECT["kafka_connect_rest_auth"]([{"name": "a:b", "password": "pw"}], directory="/c")
    found = CONFLUENT["kafka_confluent_rest_auth"]([{"name": "ops", "password": "pw"}], "ksqldb",
                                                   directory="/etc/kafka/ksqldb", version="7.9.0")
    assert found["properties"]["authentication.realm"] == "KsqlServer-Props" and len(found["files"]) == 2
    with pytest.raises(AnsibleFilterError, match="kafka_confluent_rest_auth: ksqldb_rest_users.0..password cannot be kept"):
        CONFLUENT["kafka_confluent_rest_auth"]([{"name": "ops", "password": "a,b"}], "ksqldb", directory="/c", version="7.9.0")


def test_connect_plugins_filter():
    found = CONNECT["kafka_connect_plugins"]([{"name": "p", "src": "/x.jar", "version": "1"}], root="/opt/p")
    assert found["plugins"][0]["path"] == "/opt/p/p-1" and found["errors"] == []


def test_confluent_layout_urls_and_errors():
    groups = {"schema_registry": ["sr1"], "ksqldb": ["k1"]}
    hostvars = {"sr1": {"platform_host_address": "10.0.0.31", "schema_registry_keystore_password": "pw"},
                "k1": {"ksqldb_schema_registry_url": "http://10.0.0.31:8081", "ksqldb_keystore_password": "pw"}}
    found = CONFLUENT["kafka_confluent_layout"](groups, hostvars=hostvars, brokers=3, tls_required=True)
    assert found["schema_registry_urls"] == ["https://10.0.0.31:8081"]
    assert found["ksqldb_urls"] == ["https://k1:8088"]
    assert len(found["errors"]) == 1 and "is plain http" in found["errors"][0]
    with pytest.raises(AnsibleFilterError, match="needs hostvars"):
        CONFLUENT["kafka_confluent_layout"](groups)


def test_confluent_property_filters_and_order():
    assert CONFLUENT["kafka_schema_registry_roll_order"](["b", "a"], eligible={"b": False}) == ["b", "a"]
    assert CONFLUENT["kafka_schema_registry_roll_order"](["c", "b", "a"], eligible={"b": False}, leader="a") == ["b", "c", "a"]
    assert CONFLUENT["kafka_schema_registry_roll_order"](["b", "a"], leader="") == ["a", "b"]
    urls = {"sr1": "http://10.0.0.11:8081", "sr2": "https://10.0.0.12:8081"}
    leader = {"host": "10.0.0.12", "port": 8081, "scheme": "http", "url": "http://10.0.0.12:8081"}
    assert CONFLUENT["kafka_schema_registry_leader_host"](leader, urls=urls) == "sr2"
    assert CONFLUENT["kafka_schema_registry_leader_host"](None, urls=urls) is None
    assert CONFLUENT["kafka_schema_registry_leader_host"](leader) is None
    assert CONFLUENT["kafka_ksqldb_service_id_errors"]({"k1": "old_"}, "new_")[0].startswith("k1: ksqldb_service_id")
    with pytest.raises(AnsibleFilterError, match="kafka_ksqldb_properties: an HTTPS REST listener needs keystore"):
        CONFLUENT["kafka_ksqldb_properties"]({"service_id": "s", "address": "a", "port": 1, "bootstrap_servers": [],
                                              "replication_factor": 1, "state_dir": "/d", "tls": {"password": "x"}})
