# Copyright: kafkaops.platform contributors
# Apache-2.0 (see LICENSE)
"""Schema Registry and ksqlDB: their properties, the inventory checks, the restart order."""
from __future__ import annotations

import pytest

from ansible_collections.kafkaops.platform.plugins.module_utils import confluent as cf

TLS = {"keystore": "/etc/kafka/tls/sr-keystore.p12", "truststore": "/etc/kafka/tls/sr-truststore.p12", "password": "pw"}


def registry_spec(**changes):
    spec = {"group_id": "schema-registry", "address": "10.0.0.31", "port": 8081,
            "bootstrap_servers": ["b1:9092", "b2:9092"],
            "client": {"kafkastore.security.protocol": "SASL_SSL", "kafkastore.sasl.mechanism": "SCRAM-SHA-512"},
            "topic": "_schemas", "replication_factor": 3, "leader_eligible": False, "tls": None, "overrides": {}}
    spec.update(changes)
    return spec


def ksqldb_spec(**changes):
    spec = {"service_id": "analytics_", "address": "10.0.0.41", "port": 8088, "bootstrap_servers": ["b1:9092"],
            "client": {"ksql.streams.security.protocol": "SSL"}, "replication_factor": 3,
            "state_dir": "/var/lib/kafka/ksqldb", "schema_registry_url": "https://10.0.0.31:8081", "queries_file": "",
            "tls": None, "overrides": {}}
    spec.update(changes)
    return spec


def test_registry_properties_from_the_store_and_the_instance():
    found = cf.schema_registry_properties(registry_spec(overrides={"schema.compatibility.level": "full",
                                                                   "inter.instance.protocol": None}))
    assert found == {
        "kafkastore.security.protocol": "SASL_SSL", "kafkastore.sasl.mechanism": "SCRAM-SHA-512",
        "listeners": "http://0.0.0.0:8081", "host.name": "10.0.0.31",
        "schema.registry.group.id": "schema-registry", "leader.eligibility": False,
        "kafkastore.bootstrap.servers": "b1:9092,b2:9092", "kafkastore.topic": "_schemas",
        "kafkastore.topic.replication.factor": 3, "schema.compatibility.level": "full"}


def test_registry_over_tls_reads_pkcs12_stores():
    found = cf.schema_registry_properties(registry_spec(tls=dict(TLS, client_auth=True)))
    assert found["listeners"] == "https://0.0.0.0:8081" and found["inter.instance.protocol"] == "https"
    assert found["ssl.keystore.type"] == found["ssl.truststore.type"] == "PKCS12"
    assert found["ssl.keystore.location"] == TLS["keystore"] and found["ssl.key.password"] == "pw"
    assert found["ssl.client.authentication"] == "REQUIRED"
    with pytest.raises(cf.ConfluentError, match="needs password"):
        cf.schema_registry_properties(registry_spec(tls={"keystore": "/k", "truststore": "/t"}))


def test_ksqldb_properties_processing_log_and_headless_mode():
    found = cf.ksqldb_properties(ksqldb_spec(queries_file="/etc/kafka/ksqldb/queries.sql", address="::1"))
    assert found["ksql.service.id"] == "analytics_"
    assert found["ksql.advertised.listener"] == "http://[::1]:8088"
    assert found["ksql.logging.processing.topic.name"] == "analytics_ksql_processing_log"
    assert found["ksql.logging.processing.stream.auto.create"] is True
    assert found["ksql.internal.topic.replicas"] == found["ksql.logging.processing.topic.replication.factor"] == 3
    assert found["ksql.queries.file"] == "/etc/kafka/ksqldb/queries.sql"
    assert found["ksql.schema.registry.url"] == "https://10.0.0.31:8081"
    assert found["ksql.streams.security.protocol"] == "SSL"
    interactive = cf.ksqldb_properties(ksqldb_spec(schema_registry_url="", tls=TLS))
    assert "ksql.queries.file" not in interactive and "ksql.schema.registry.url" not in interactive
    assert interactive["listeners"] == "https://0.0.0.0:8088"


def hosts(**per_host):
    return {name: dict(values) for name, values in per_host.items()}


def test_registry_hosts_must_agree_and_one_must_lead():
    errors = cf.schema_registry_errors(hosts(
        sr1={"schema_registry_leader_eligible": False, "schema_registry_port": 8081},
        sr2={"schema_registry_leader_eligible": False, "schema_registry_port": 8082}), 3, False)
    assert "sr2: schema_registry_port is 8082 but sr1 has 8081; every schema_registry host must agree" in errors
    assert any(e.startswith("no Schema Registry host may become leader") for e in errors)


@pytest.mark.parametrize("variables, tls_required, message", [
    ({"schema_registry_group_id": "a b"}, False, "schema_registry_group_id 'a b' must be"),
    ({"schema_registry_topic": "_schemas\n"}, False, "schema_registry_topic '_schemas\\n' is not a Kafka topic name"),
    ({"schema_registry_replication_factor": 4}, False, "schema_registry_replication_factor 4 is more than the 3 broker(s)"),
    ({"schema_registry_replication_factor": "3"}, False, "must be 0 (min(3, brokers)) or a positive integer"),
    ({"schema_registry_rest_tls": False}, True, "schema_registry_rest_tls is false but the security description requires TLS"),
    ({}, True, "needs schema_registry_keystore_password"),
])
def test_registry_bad_values(variables, tls_required, message):
    errors = cf.schema_registry_errors({"sr1": variables}, 3, tls_required)
    assert any(e.startswith("sr1: ") and message in e for e in errors), errors


@pytest.mark.parametrize("variables, message", [
    ({"ksqldb_service_id": "bad id"}, "ksqldb_service_id 'bad id' must be"),
    ({"ksqldb_schema_registry_url": "http://sr1:8081"}, "is plain http but the security description requires TLS"),
    ({"ksqldb_schema_registry_url": "https://sr1:8081,http://sr2:8081"}, "is plain http"),
    ({"ksqldb_schema_registry_url": "sr1:8081"}, "must be http(s) URLs"),
    ({"ksqldb_rest_tls": False}, "ksqldb_rest_tls is false but the security description requires TLS"),
    ({"ksqldb_replication_factor": 9}, "ksqldb_replication_factor 9 is more than the 3 broker(s)"),
])
def test_ksqldb_bad_values_with_tls_required(variables, message):
    errors = cf.ksqldb_errors({"k1": dict({"ksqldb_keystore_password": "pw"}, **variables)}, 3, True)
    assert any(e.startswith("k1: ") and message in e for e in errors), errors


def test_good_groups_have_no_errors():
    assert cf.schema_registry_errors({"sr1": {"schema_registry_keystore_password": "pw"}}, 3, True) == []
    assert cf.ksqldb_errors({"k1": {"ksqldb_schema_registry_url": "https://sr1:8081", "ksqldb_keystore_password": "pw"}},
                            3, True) == []
    assert cf.ksqldb_errors({"k1": {}, "k2": {}}, 1, False) == []


def test_service_id_change_is_refused_but_a_first_deploy_is_not():
    assert cf.service_id_change({"k1": "", "k2": "ksql_"}, "ksql_") == []
    errors = cf.service_id_change({"k1": "ksql_", "k2": ""}, "analytics_")
    assert errors == ["k1: ksqldb_service_id would change from 'ksql_' to 'analytics_' on a running ksqlDB cluster; "
                      "its persistent queries and command topic belong to 'ksql_'. Keep the old id, or deploy the new "
                      "one as a new cluster on other hosts and migrate the queries"]


def test_roll_order_never_leaders_first_leader_last():
    assert cf.schema_registry_roll_order(["sr3", "sr1", "sr2", "sr4"], {"sr4": False, "sr1": False}, leader="sr2") \
        == ["sr1", "sr4", "sr3", "sr2"]
    assert cf.schema_registry_roll_order(["b", "a"], {}) == ["a", "b"]


# -- every generated key is one the product defines -----------------------------------------------
# The key names are data, read from the products' own config definitions at the commits the files'
# headers name (tests/unit/data/confluent/*.keys); a line ending in * is a prefix the product passes
# to its Kafka clients. ksqlDB also resolves unprefixed Kafka client keys (KsqlConfig), of which the
# role writes only bootstrap.servers.
DATA = __file__.rsplit("/tests/", 1)[0] + "/tests/unit/data/confluent/"
KSQLDB_KAFKA_CLIENT_KEYS = {"bootstrap.servers"}


def known_keys(name):
    exact, prefixes = set(), []
    with open(DATA + name) as handle:
        for line in (raw.strip() for raw in handle):
            if line and not line.startswith("#"):
                (prefixes.append(line[:-1]) if line.endswith("*") else exact.add(line))
    return exact, prefixes


def unknown(properties, name, extra=()):
    exact, prefixes = known_keys(name)
    return sorted(k for k in properties if k not in exact and k not in extra and not any(k.startswith(p) for p in prefixes))


def client(prefix):
    from ansible_collections.kafkaops.platform.plugins.module_utils import security

    description = {"listeners": [{"name": "CLIENT", "port": 9092, "protocol": "SASL_SSL", "authentication": "scram-sha-512"},
                                 {"name": "INTERNAL", "port": 9091, "protocol": "SSL", "authentication": "mtls"},
                                 {"name": "CONTROLLER", "port": 9093, "protocol": "PLAINTEXT"}],
                   "tls": {"keystore": {"path": "/k.pem", "type": "PEM"}, "truststore": {"path": "/t.pem", "type": "PEM"}},
                   "credentials": {"broker": {"username": "broker", "password": "b"}, "admin": {"username": "admin", "password": "a"},
                                   "users": [{"username": "registry", "password": "r"}]}}
    return security.client_properties(description, prefix, identity="registry")


def test_schema_registry_keys_are_the_products_own():
    exact, prefixes = known_keys("schema_registry.keys")
    assert {"kafkastore.bootstrap.servers", "leader.eligibility", "host.name"} <= exact and prefixes == ["kafkastore."]
    properties = cf.schema_registry_properties(registry_spec(client=client("schema_registry"), tls=dict(TLS, client_auth=True)))
    assert any(k.startswith("kafkastore.sasl.") for k in properties)
    assert unknown(properties, "schema_registry.keys") == []
    # the check can fail: a misspelt key is caught
    assert unknown({"leader.eligible": True}, "schema_registry.keys") == ["leader.eligible"]


def test_ksqldb_keys_are_the_products_own():
    properties = cf.ksqldb_properties(ksqldb_spec(client=client("ksqldb"), tls=dict(TLS, client_auth=True),
                                                  queries_file="/q.sql"))
    assert unknown(properties, "ksqldb.keys", KSQLDB_KAFKA_CLIENT_KEYS) == []
    assert unknown({"ksql.service_id": "x"}, "ksqldb.keys", KSQLDB_KAFKA_CLIENT_KEYS) == ["ksql.service_id"]


# -- HTTP basic auth on the REST API (rest-utils: Jetty's JAAS property-file login) --------------------
USERS = [{"name": "ops", "password": "Ops-pw"}, {"name": "ci", "password": "Ci-pw", "roles": ["developer", "user"]}]


@pytest.mark.parametrize("role, realm", [("schema_registry", "SchemaRegistry-Props"), ("ksqldb", "KsqlServer-Props")])
def test_rest_auth_files_option_and_properties(role, realm):
    found = cf.rest_auth(role, USERS, "/etc/kafka/x", "7.9.0")
    jaas, users = found["files"]
    assert jaas["path"] == "/etc/kafka/x/rest-jaas.conf" and users["path"] == "/etc/kafka/x/rest-users.properties"
    assert jaas["content"] == ('%s {\n  org.eclipse.jetty.jaas.spi.PropertyFileLoginModule required\n'
                               '  file="/etc/kafka/x/rest-users.properties";\n};\n' % realm)
    from ansible_collections.kafkaops.platform.plugins.module_utils import properties as props
    assert props.parse_java_properties(users["content"]) == {"ops": "Ops-pw,user", "ci": "Ci-pw,developer,user"}
    assert found["jvm_options"] == ["-Djava.security.auth.login.config=/etc/kafka/x/rest-jaas.conf"]
    assert found["properties"] == {"authentication.method": "BASIC", "authentication.realm": realm,
                                   "authentication.roles": "developer,user"}
    # Jetty 12 (Confluent Platform 8) moved the login module
    assert "org.eclipse.jetty.security.jaas.spi.PropertyFileLoginModule required" in \
        cf.rest_auth(role, USERS, "/etc/kafka/x", "8.0.1")["files"][0]["content"]
    # no users: nothing to write, the files are removed, the API is open
    assert cf.rest_auth(role, [], "/etc/kafka/x", "7.9.0") == {
        "files": [], "paths": ["/etc/kafka/x/rest-jaas.conf", "/etc/kafka/x/rest-users.properties"],
        "jvm_options": [], "properties": {}}
    # the properties are the product's own keys
    assert unknown(found["properties"], "%s.keys" % role) == []


def test_ksqldb_logs_in_to_a_registry_with_basic_auth():
    found = cf.ksqldb_properties(ksqldb_spec(schema_registry_user_info="registry-ops:pw"))
    assert found["ksql.schema.registry.basic.auth.credentials.source"] == "USER_INFO"
    assert found["ksql.schema.registry.basic.auth.user.info"] == "registry-ops:pw"
    assert unknown(found, "ksqldb.keys", KSQLDB_KAFKA_CLIENT_KEYS) == []
    # no registry URL: nothing to log in to
    bare = cf.ksqldb_properties(ksqldb_spec(schema_registry_url="", schema_registry_user_info="registry-ops:pw"))
    assert not any(k.startswith("ksql.schema.registry.") for k in bare)


@pytest.mark.parametrize("users, message", [
    ([{"name": "a", "password": "x,admin"}], "password cannot be kept in Jetty's users file"),
    ([{"name": "a", "password": " x"}], "password cannot be kept"),
    ([{"name": "a", "password": "OBF:1v2j"}], "password cannot be kept"),
    ([{"name": "a=b", "password": "x"}], "must be a user name without ':', '='"),
    ([{"name": "a", "password": "x", "roles": []}], "roles must be a non-empty list"),
    ([{"name": "a", "password": "x", "roles": ["a b"]}], "roles must be a non-empty list"),
])
def test_rest_auth_refuses_what_jettys_users_file_cannot_hold(users, message):
    with pytest.raises(cf.ConfluentError, match=message) as caught:
        cf.rest_auth("ksqldb", users, "/etc/kafka/x", "7.9.0")
    assert "x,admin" not in str(caught.value) and "OBF:1v2j" not in str(caught.value)
    with pytest.raises(cf.ConfluentError, match="not a version"):
        cf.rest_auth("ksqldb", USERS, "/etc/kafka/x", "latest")
    with pytest.raises(cf.ConfluentError, match="absolute path"):
        cf.rest_auth("ksqldb", USERS, "etc", "7.9.0")


def test_every_instance_must_have_the_same_rest_users():
    same = {"schema_registry_rest_users": USERS, "schema_registry_keystore_password": "pw"}
    assert cf.schema_registry_errors({"sr1": same, "sr2": same}, 3, True) == []
    other = dict(same, schema_registry_rest_users=[USERS[0], dict(USERS[1], password="Other-pw")])
    errors = cf.schema_registry_errors({"sr1": same, "sr2": other}, 3, True)
    assert errors == ["sr2: schema_registry_rest_users differs from sr1's for ci; every instance must have the same users "
                      "(they forward requests to each other with the caller's credentials)"]
    assert not any("Other-pw" in e or "Ci-pw" in e for e in errors)
    errors = cf.ksqldb_errors({"k1": {"ksqldb_rest_users": USERS, "ksqldb_rest_user": "nobody"}}, 3, False)
    assert errors == ["k1: ksqldb_rest_user 'nobody' is not one of ksqldb_rest_users (ops, ci)"]


@pytest.mark.parametrize("spec, message", [
    (None, "the Schema Registry description must be a mapping, got null"),
    (registry_spec(port="http"), "the Schema Registry description port must be a port number (1-65535), got 'http'"),
    (registry_spec(address=None), "the Schema Registry description address must be a string, got null"),
    (registry_spec(address="10.0.0.31\n"), "the Schema Registry description address '10.0.0.31\\n' holds a control"),
    (registry_spec(bootstrap_servers="b1:9092"), "the Schema Registry description bootstrap_servers must be a list"),
    (registry_spec(overrides=["a=b"]), "the Schema Registry description overrides must be a mapping, got a list"),
    (registry_spec(tls="yes"), "the Schema Registry description tls must be a mapping"),
])
def test_malformed_registry_descriptions_are_refused(spec, message):
    with pytest.raises(cf.ConfluentError) as caught:
        cf.schema_registry_properties(spec)
    assert str(caught.value).startswith(message)


def test_malformed_ksqldb_descriptions_and_arguments_are_refused():
    spec = ksqldb_spec()
    del spec["state_dir"]
    with pytest.raises(cf.ConfluentError, match="the ksqlDB description has no state_dir"):
        cf.ksqldb_properties(spec)
    with pytest.raises(cf.ConfluentError, match="the ksqlDB description service_id must be a string, got a list"):
        cf.ksqldb_properties(ksqldb_spec(service_id=["a"]))
    with pytest.raises(cf.ConfluentError, match="basic auth is for ksqldb and schema_registry, not"):
        cf.rest_auth(["ksqldb"], [], "/etc/k", "7.9.0")
    with pytest.raises(cf.ConfluentError, match="ksqldb_service_id must be a string, got null"):
        cf.service_id_change({"k1": "old_"}, None)
    with pytest.raises(cf.ConfluentError, match="the ksql.service.id running on k1 must be a string, got a list"):
        cf.service_id_change({"k1": ["old_"]}, "new_")
    with pytest.raises(cf.ConfluentError, match="hosts .the schema_registry group. must be a list, got a string"):
        cf.schema_registry_roll_order("sr1", {})
    with pytest.raises(cf.ConfluentError, match="leader must be a host name or null, got a list"):
        cf.schema_registry_roll_order(["sr1"], {}, ["sr1"])
    with pytest.raises(cf.ConfluentError, match="urls .host -> REST URL. must be a mapping, got a list"):
        cf.schema_registry_leader_host({"host": "sr1"}, ["http://sr1:8081"])
    with pytest.raises(cf.ConfluentError, match="the ksqldb hosts must be a mapping, got a list"):
        cf.ksqldb_errors(["k1"], 3, False)
    # "²" passes str.isdigit() but is no port (int() refuses it): no host matches, and nothing crashes
    assert cf.schema_registry_leader_host({"host": "sr1", "port": 8081}, {"sr1": "http://sr1:\u00b2"}) is None


def test_a_schema_registry_url_that_is_no_text_is_an_error_not_a_crash():
    errors = cf.ksqldb_errors({"k1": {"ksqldb_schema_registry_url": 8081}}, 3, False)
    assert errors == ["k1: ksqldb_schema_registry_url 8081 must be http(s) URLs, comma-separated"]
