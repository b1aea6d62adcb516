# Copyright: kafkaops.platform contributors
# Apache-2.0 (see LICENSE)
"""The Connect part of the inventory: clusters and their checks, plugins, worker properties."""
from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ansible_collections.kafkaops.platform.plugins.module_utils import connect_cluster as cc
from ansible_collections.kafkaops.platform.plugins.module_utils import properties

SHA256 = "sha256:" + "ab" * 32


def clusters(hosts, brokers=3, min_isr=None, rest_tls=False):
    return cc.connect_clusters(hosts, brokers, min_isr, rest_tls)


def test_defaults_are_derived_from_the_cluster_name():
    found = clusters({"w1": {"address": "10.0.0.21"}, "w2": {"address": "10.0.0.22"}})
    assert found["errors"] == []
    assert found["clusters"] == {"connect": {
        "group_id": "connect", "config_topic": "connect-configs", "offset_topic": "connect-offsets",
        "status_topic": "connect-status", "replication_factor": 3, "rest_port": 8083, "rest_tls": False,
        "rest_users": [], "hosts": ["w1", "w2"], "urls": ["http://10.0.0.21:8083", "http://10.0.0.22:8083"]}}


def test_replication_factor_follows_a_small_cluster_and_zero_means_derived():
    found = clusters({"w1": {"kafka_connect_replication_factor": 0}}, brokers=2)
    assert found["clusters"]["connect"]["replication_factor"] == 2


def test_two_clusters_with_their_own_names_ports_and_tls():
    found = clusters({
        "w1": {"kafka_connect_cluster": "cdc", "address": "::1", "kafka_connect_keystore_password": "pw"},
        "w2": {"kafka_connect_cluster": "mirror", "kafka_connect_rest_port": 8084, "kafka_connect_rest_tls": False},
    }, rest_tls=True)
    assert found["errors"] == []
    assert clusters({"w1": {}}, rest_tls=True)["errors"] == [
        "w1: kafka_connect_rest_tls needs kafka_connect_keystore_password (the password of the PKCS12 stores the role "
        "makes from the internal CA's files for the REST listener)"]
    assert found["clusters"]["cdc"]["urls"] == ["https://[::1]:8083"]
    assert found["clusters"]["mirror"]["urls"] == ["http://w2:8084"]
    assert found["clusters"]["mirror"]["status_topic"] == "mirror-status"


def test_clusters_sharing_a_group_id_or_a_topic_are_refused():
    found = clusters({
        "w1": {"kafka_connect_cluster": "a", "kafka_connect_group_id": "shared"},
        "w2": {"kafka_connect_cluster": "b", "kafka_connect_group_id": "shared"},
        "w3": {"kafka_connect_cluster": "c", "kafka_connect_offset_topic": "a-offsets"},
    })
    text = "\n".join(found["errors"])
    assert "Connect clusters 'a' and 'b' both use the group id 'shared'" in text
    assert "'a' and 'b' both use the topic 'shared-configs'" in text
    # a's topics follow its group id (shared-...), so c's a-offsets is c's own
    assert "'c'" not in text
    found = clusters({
        "w1": {"kafka_connect_cluster": "a"},
        "w2": {"kafka_connect_cluster": "b", "kafka_connect_status_topic": "a-offsets"},
    })
    assert found["errors"] == ["Connect clusters 'a' and 'b' both use the topic 'a-offsets'; two clusters sharing it "
                               "would join one group or overwrite each other's state"]


def test_workers_of_one_cluster_must_agree():
    found = clusters({"w1": {"kafka_connect_rest_port": 8083}, "w2": {"kafka_connect_rest_port": 9000},
                      "w3": {"kafka_connect_group_id": "other"}})
    assert any(e.startswith("w2: kafka_connect_rest_port is 9000 but w1") for e in found["errors"])
    assert any(e.startswith("w3: kafka_connect_group_id is 'other' but w1") for e in found["errors"])


def test_a_cluster_needs_three_distinct_topics():
    found = clusters({"w1": {"kafka_connect_offset_topic": "x", "kafka_connect_status_topic": "x"}})
    assert "its config, offset and status topics must be three different topics" in found["errors"][0]


@pytest.mark.parametrize("variables, message", [
    ({"kafka_connect_replication_factor": 4}, "kafka_connect_replication_factor 4 is more than the 3 broker(s)"),
    ({"kafka_connect_replication_factor": -1}, "must be a positive integer, got -1"),
    ({"kafka_connect_replication_factor": True}, "must be a positive integer, got True"),
    ({"kafka_connect_rest_port": 70000}, "kafka_connect_rest_port must be a port number"),
    ({"kafka_connect_rest_port": "8083"}, "kafka_connect_rest_port must be a port number"),
    ({"kafka_connect_cluster": "a b"}, "kafka_connect_cluster 'a b' must be a name"),
    ({"kafka_connect_cluster": "cdc\n"}, "kafka_connect_cluster 'cdc\\n' must be a name"),
    ({"kafka_connect_group_id": "g\n"}, "kafka_connect_group_id 'g\\n' must be"),
    ({"kafka_connect_config_topic": "../etc"}, "kafka_connect_config_topic '../etc' is not a Kafka topic name"),
    ({"kafka_connect_status_topic": "t" * 250}, "is not a Kafka topic name"),
    ({"kafka_connect_offset_topic": "offsets\n"}, "kafka_connect_offset_topic 'offsets\\n' is not a Kafka topic name"),
    ({"address": 10}, "platform_host_address 10 must be a host name or an IP address"),
    ({"address": "10.0.0.21\n"}, "platform_host_address '10.0.0.21\\n' must be a host name or an IP address"),
])
def test_bad_values_name_the_host_and_the_variable(variables, message):
    found = clusters({"w1": variables})
    assert any(e.startswith("w1: ") and message in e for e in found["errors"]), found["errors"]


def test_replication_factor_below_min_isr_is_refused():
    found = clusters({"w1": {"kafka_connect_replication_factor": 1}}, min_isr=2)
    assert found["errors"] == ["Connect cluster 'connect': kafka_connect_replication_factor 1 is below the brokers' "
                               "min.insync.replicas 2; Connect writes its internal topics with acks=all and would fail"]


ALICE = {"name": "alice", "password": "Al1ce-secret"}
BOB = {"name": "bob", "password": "B0b-secret"}


def test_rest_users_are_shared_by_name_and_never_shown():
    found = clusters({"w1": {"kafka_connect_rest_users": [BOB, ALICE], "kafka_connect_rest_user": "bob"},
                      "w2": {"kafka_connect_rest_users": [ALICE, BOB]}})
    assert found["errors"] == []
    assert found["clusters"]["connect"]["rest_users"] == ["alice", "bob"]
    assert "secret" not in repr(found)


@pytest.mark.parametrize("users, chosen, message", [
    ([{"name": "a:b", "password": "p"}], None, "kafka_connect_rest_users[0].name 'a:b' must be a user name without ':'"),
    ([{"name": "a b", "password": "p"}], None, "name 'a b' must be a user name"),
    ([{"name": "a\n", "password": "p"}], None, "name 'a\\n' must be a user name"),
    ([{"name": "", "password": "p"}], None, "name '' must be a user name"),
    ([{"name": 7, "password": "p"}], None, "name 7 must be a user name"),
    ([{"name": "a", "password": ""}], None, "kafka_connect_rest_users[0].password must be a non-empty string"),
    ([{"name": "a", "password": 1234}], None, "password must be a non-empty string (quote a number)"),
    ([{"name": "a"}], None, "password must be a non-empty string"),
    ([ALICE, dict(ALICE, password="other")], None, "kafka_connect_rest_users[1].name 'alice' is declared twice"),
    (["alice"], None, "kafka_connect_rest_users[0] must be a mapping with name and password"),
    ({"alice": "x"}, None, "kafka_connect_rest_users must be a list of {name, password}, got dict"),
    ([ALICE], "carol", "kafka_connect_rest_user 'carol' is not one of kafka_connect_rest_users (alice)"),
    ([], "carol", "kafka_connect_rest_user 'carol' names a user but kafka_connect_rest_users is empty"),
])
def test_bad_rest_users_are_refused_without_their_passwords(users, chosen, message):
    found = clusters({"w1": {"kafka_connect_rest_users": users, "kafka_connect_rest_user": chosen}})
    assert any(e.startswith("w1: ") and message in e for e in found["errors"]), found["errors"]
    assert not any(secret in e for e in found["errors"] for secret in ("Al1ce-secret", "other", "1234"))


def test_workers_of_one_cluster_must_agree_on_the_users_and_their_passwords():
    found = clusters({"w1": {"kafka_connect_rest_users": [ALICE, BOB]},
                      "w2": {"kafka_connect_rest_users": [ALICE]},
                      "w3": {"kafka_connect_rest_users": [dict(ALICE, password="changed"), BOB]},
                      "w4": {"kafka_connect_cluster": "other", "kafka_connect_rest_users": [dict(ALICE, password="x")]}})
    assert found["errors"] == [
        "w2: kafka_connect_rest_users is ['alice'] but w1 of the same Connect cluster 'connect' has ['alice', 'bob']; "
        "every worker of a cluster must agree",
        "w3: kafka_connect_rest_users gives alice another password than w1 of the same Connect cluster 'connect' does; "
        "every worker of a cluster must agree (a worker forwards a request to the leader with the caller's "
        "credentials)"]
    assert "changed" not in repr(found) and "Al1ce" not in repr(found)


def test_hosts_must_be_a_mapping():
    with pytest.raises(cc.ConnectError, match="mapping of host name"):
        cc.connect_clusters(None, 3)


@given(st.dictionaries(st.sampled_from(["w1", "w2", "w3", "w4"]),
                       st.fixed_dictionaries({}, optional={
                           "kafka_connect_cluster": st.sampled_from(["a", "b", "", None, "bad name"]),
                           "kafka_connect_group_id": st.sampled_from(["a", "g", ""]),
                           "kafka_connect_rest_port": st.sampled_from([8083, 8084, 0]),
                           "kafka_connect_replication_factor": st.integers(-1, 5)})),
       st.integers(0, 5))
def test_every_host_lands_in_exactly_one_cluster(hosts, brokers):
    found = cc.connect_clusters(hosts, brokers)
    placed = [h for cluster in found["clusters"].values() for h in cluster["hosts"]]
    assert sorted(placed) == sorted(hosts)
    assert all(isinstance(e, str) for e in found["errors"])


def test_maven_plugin_resolves_to_one_directory_per_version():
    found = cc.plugin_sources([{
        "name": "debezium-postgres", "maven": "io.debezium:debezium-connector-postgres:3.6.1.Final:plugin",
        "checksum": SHA256, "classes": ["io.debezium.connector.postgresql.PostgresConnector"]}],
        repository="http://mirror:8000/maven2/", root="/opt/plugins/")
    assert found["errors"] == []
    assert found["plugins"] == [{
        "name": "debezium-postgres", "version": "3.6.1.Final", "directory": "debezium-postgres-3.6.1.Final",
        "path": "/opt/plugins/debezium-postgres-3.6.1.Final",
        "download": "/opt/plugins/.downloads/debezium-postgres-3.6.1.Final-debezium-connector-postgres-3.6.1.Final-plugin.tar.gz",
        "url": "http://mirror:8000/maven2/io/debezium/debezium-connector-postgres/3.6.1.Final/"
               "debezium-connector-postgres-3.6.1.Final-plugin.tar.gz",
        "src": "", "checksum": SHA256, "filename": "debezium-connector-postgres-3.6.1.Final-plugin.tar.gz",
        "unpack": True, "classes": ["io.debezium.connector.postgresql.PostgresConnector"]}]


def test_a_plain_jar_is_copied_and_a_url_or_src_needs_a_version():
    found = cc.plugin_sources([
        {"name": "smt", "maven": "com.example:smt:1.2", "checksum": "sha1:" + "0" * 40},
        {"name": "local", "src": "/tmp/local-plugin-2.0.zip", "version": "2.0"},
        {"name": "web", "url": "https://example.invalid/p.tgz", "checksum": SHA256},
    ], repository="http://r")
    assert [p["unpack"] for p in found["plugins"]] == [False, True]
    assert found["plugins"][0]["url"] == "http://r/com/example/smt/1.2/smt-1.2.jar"
    assert found["errors"] == ["kafka_connect_plugins[2] (web).version None must be a version such as 3.6.1.Final "
                               "(it names the plugin's directory)"]


@pytest.mark.parametrize("entry, message", [
    ({"name": "p", "url": "https://h/p.tgz", "version": "1"}, "p).checksum must be ALGORITHM:HEX"),
    ({"name": "p", "maven": "g:a:1"}, "checksum must be ALGORITHM:HEX"),
    ({"name": "p", "maven": "g:a:1", "checksum": "sha256:abc"}, "a sha256 digest has 64 hex digits, this one 3"),
    ({"name": "p", "maven": "g:a", "checksum": SHA256}, "maven must be group:artifact:version"),
    ({"name": "p", "maven": "g:a:1", "url": "https://h/p.jar", "checksum": SHA256}, "exactly one of maven, url or src, got maven, url"),
    ({"name": "p"}, "exactly one of maven, url or src, got none"),
    ({"name": "p\n", "src": "/x.jar", "version": "1"}, "name 'p\\n' must be a name"),
    ({"name": "p", "src": "/x.txt", "version": "1"}, "'x.txt' is not a .tar.gz, .tgz, .zip or .jar file"),
    ({"name": "p", "url": "file:///etc/passwd.jar", "version": "1", "checksum": SHA256}, "url must be an http or https URL"),
    ({"name": "p", "src": "/x.jar", "version": "../1"}, "version '../1' must be a version"),
    ({"name": "p", "src": "/x.jar", "version": "1", "classes": "a.B"}, "classes must be a list"),
])
def test_bad_plugins_are_reported(entry, message):
    found = cc.plugin_sources([entry], repository="http://r")
    assert any(message in e for e in found["errors"]), found["errors"]


def test_maven_needs_a_repository_and_names_are_unique():
    found = cc.plugin_sources([{"name": "p", "maven": "g:a:1", "checksum": SHA256},
                               {"name": "p", "src": "/x.jar", "version": "1"}])
    assert "needs kafka_connect_maven_repository" in found["errors"][0]
    assert "the name 'p' is declared twice" in found["errors"][1]
    assert cc.plugin_sources("p")["errors"] == ["kafka_connect_plugins must be a list, got str"]
    assert cc.plugin_sources(None) == {"plugins": [], "errors": []}


def _spec(**changes):
    cluster = clusters({"w1": {"address": "10.0.0.21"}})["clusters"]["connect"]
    spec = {"cluster": cluster, "address": "10.0.0.21", "bootstrap_servers": ["b1:9092", "b2:9092"],
            "client": {"security.protocol": "SASL_SSL", "producer.security.protocol": "SASL_SSL"},
            "plugin_path": "/opt/plugins", "secrets_dir": "/etc/kafka/kafka-connect/secrets", "overrides": {}}
    spec.update(changes)
    return spec


def test_worker_properties_combine_cluster_security_and_providers():
    found = cc.worker_properties(_spec(overrides={"offset.flush.interval.ms": 500, "key.converter": None}))
    assert found["bootstrap.servers"] == "b1:9092,b2:9092"
    assert found["group.id"] == "connect"
    assert found["offset.storage.topic"] == "connect-offsets"
    assert found["status.storage.replication.factor"] == 3
    assert found["listeners"] == "http://0.0.0.0:8083"
    assert found["rest.advertised.host.name"] == "10.0.0.21"
    assert found["security.protocol"] == found["producer.security.protocol"] == "SASL_SSL"
    assert found["connector.client.config.override.policy"] == "None"
    assert found["config.providers"] == "file,directory,env"
    assert found["config.providers.file.param.allowed.paths"] == "/etc/kafka/kafka-connect/secrets"
    assert found["config.providers.env.class"] == "org.apache.kafka.common.config.provider.EnvVarConfigProvider"
    assert found["offset.flush.interval.ms"] == 500
    assert "key.converter" not in found


def test_rest_users_load_the_basic_auth_extension():
    cluster = clusters({"w1": {"kafka_connect_rest_users": [ALICE]}})["clusters"]["connect"]
    found = cc.worker_properties(_spec(cluster=cluster))
    assert found["rest.extension.classes"] == (
        "org.apache.kafka.connect.rest.basic.auth.extension.BasicAuthSecurityRestExtension")
    assert "Al1ce-secret" not in repr(found)
    assert "rest.extension.classes" not in cc.worker_properties(_spec())
    assert "rest.extension.classes" not in cc.worker_properties(_spec(cluster=cluster, overrides={
        "rest.extension.classes": None}))


def test_rest_auth_files_and_jvm_option():
    found = cc.rest_auth([ALICE, {"name": "b=c#!", "password": "p w\n:x"}], "/etc/kafka/kafka-connect/")
    jaas, users = found["files"]
    assert found["paths"] == [jaas["path"], users["path"]] == [
        "/etc/kafka/kafka-connect/rest-jaas.conf", "/etc/kafka/kafka-connect/rest-users.properties"]
    assert jaas["content"] == (
        "KafkaConnect {\n"
        "  org.apache.kafka.connect.rest.basic.auth.extension.PropertyFileLoginModule required\n"
        '  file="/etc/kafka/kafka-connect/rest-users.properties";\n'
        "};\n")
    # read back as java.util.Properties.load would: every name and password intact
    assert properties.parse_java_properties(users["content"]) == {"alice": "Al1ce-secret", "b=c#!": "p w\n:x"}
    assert found["jvm_options"] == ["-Djava.security.auth.login.config=/etc/kafka/kafka-connect/rest-jaas.conf"]


def test_rest_auth_without_users_writes_nothing_and_checks_its_input():
    # the login module lets every request in when its file is empty: no file, no extension
    assert cc.rest_auth([], "/etc/kafka/kafka-connect") == {
        "files": [], "jvm_options": [],
        "paths": ["/etc/kafka/kafka-connect/rest-jaas.conf", "/etc/kafka/kafka-connect/rest-users.properties"]}
    assert cc.rest_auth(None, "/c")["files"] == []
    with pytest.raises(cc.ConnectError, match="must be a non-empty string") as caught:
        cc.rest_auth([{"name": "a", "password": ""}, {"name": "b:", "password": "hunter2"}], "/c")
    assert "hunter2" not in str(caught.value)
    with pytest.raises(cc.ConnectError, match="must be an absolute path"):
        cc.rest_auth([ALICE], "relative")
    with pytest.raises(cc.ConnectError, match="must be an absolute path"):
        cc.rest_auth([ALICE], "/etc/\nx")
    quoted = cc.rest_auth([ALICE], '/odd "dir"\\')["files"][0]["content"]
    assert 'file="/odd \\"dir\\"\\\\/rest-users.properties";' in quoted


@given(st.lists(st.fixed_dictionaries({
    "name": st.text(alphabet=st.characters(blacklist_categories=("Cs",)), min_size=1, max_size=12),
    "password": st.text(alphabet=st.characters(blacklist_categories=("Cs",)), min_size=1, max_size=12)}),
    max_size=4, unique_by=lambda user: user["name"]))
def test_every_accepted_user_reads_back_from_the_users_file(users):
    if cc.rest_user_errors(users):
        assert any(":" in u["name"] or any(c.isspace() or ord(c) < 32 or ord(c) == 127 for c in u["name"])
                   for u in users)
        return
    content = cc.rest_auth(users, "/c")["files"][1]["content"] if users else ""
    assert properties.parse_java_properties(content) == {u["name"]: u["password"] for u in users}


def test_https_rest_listener_reads_pkcs12_stores():
    cluster = clusters({"w1": {}}, rest_tls=True)["clusters"]["connect"]
    found = cc.worker_properties(_spec(cluster=cluster, rest_tls={"keystore": "/k.p12", "truststore": "/t.p12",
                                                                  "password": "pw", "client_auth": True}))
    assert found["listeners"] == "https://0.0.0.0:8083"
    assert found["rest.advertised.listener"] == "https"
    assert found["listeners.https.ssl.keystore.location"] == "/k.p12"
    # Jetty reads Java key stores: PEM, which Kafka's own listeners take, would not load
    assert found["listeners.https.ssl.keystore.type"] == found["listeners.https.ssl.truststore.type"] == "PKCS12"
    assert found["listeners.https.ssl.keystore.password"] == found["listeners.https.ssl.truststore.password"] == "pw"
    assert found["listeners.https.ssl.client.auth"] == "required"
    with pytest.raises(cc.ConnectError, match="needs a keystore, a truststore and their password"):
        cc.worker_properties(_spec(cluster=cluster, rest_tls={"keystore": "/k.p12", "truststore": "/t.p12"}))


def test_malformed_worker_descriptions_are_refused():
    for changes, message in (({"cluster": None}, "the worker description's cluster must be a mapping, got null"),
                             ({"cluster": {"group_id": "g"}}, "the worker description's cluster has no config_topic"),
                             ({"plugin_path": None}, "the worker's plugin_path must be a string, got null"),
                             ({"address": "10.0.0.21\n"}, "the worker's address '10.0.0.21\\n' holds a control character"),
                             ({"bootstrap_servers": "b1:9092"}, "the worker's bootstrap_servers must be a list, got a string"),
                             ({"overrides": ["a=b"]}, "the worker's overrides must be a mapping, got a list"),
                             ({"client": "x"}, "the worker's client must be a mapping, got a string")):
        with pytest.raises(cc.ConnectError) as caught:
            cc.worker_properties(_spec(**changes))
        assert str(caught.value).startswith(message)
    spec = _spec()
    del spec["secrets_dir"]
    with pytest.raises(cc.ConnectError, match="the worker description has no secrets_dir"):
        cc.worker_properties(spec)
    with pytest.raises(cc.ConnectError, match="the worker description must be a mapping, got null"):
        cc.worker_properties(None)


def test_malformed_cluster_arguments_are_refused():
    with pytest.raises(cc.ConnectError, match="the number of brokers must be an integer, got 2.5"):
        clusters({"w1": {}}, brokers=2.5)
    with pytest.raises(cc.ConnectError, match="a host of the kafka_connect group must be a string, got an integer"):
        clusters({1: {}})
    with pytest.raises(cc.ConnectError, match="the plugin root must be an absolute path, got 'plugins'"):
        cc.plugin_sources([], root="plugins")
    with pytest.raises(cc.ConnectError, match="kafka_connect_maven_repository must be a string, got a list"):
        cc.plugin_sources([], repository=["https://repo"])
