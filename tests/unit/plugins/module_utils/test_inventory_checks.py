# Copyright: kafkaops.platform contributors
# Apache-2.0 (see LICENSE)
"""The inventory's own text: control characters found, named by host, variable and key, never shown;
the property overrides that hold secrets found."""
from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ansible_collections.kafkaops.platform.plugins.module_utils import inventory_checks as checks

SUFFIX = ": values written into properties files, JAAS lines, zoo.cfg and systemd units must be one line of printable text"


def test_a_newline_in_a_property_value_is_named_with_its_hosts_and_position():
    hosts = {"k1": {"kafka_broker_properties": {"log.retention.ms": "1000\nsuper.users=User:evil"}},
             "k2": {"kafka_broker_properties": {"log.retention.ms": "1000\nsuper.users=User:evil"}},
             "k3": {"kafka_broker_properties": {"log.retention.ms": "1000"}}}
    assert checks.text_errors(hosts) == [
        "k1, k2: kafka_broker_properties['log.retention.ms'] contains a control character (U+000A at position 4)" + SUFFIX]


@pytest.mark.parametrize("variables,message", [
    ({"kafka_broker_environment": {"KAFKA_OPTS": "-Xss1m\nExecStartPre=+/bin/sh"}},
     "kafka_broker_environment['KAFKA_OPTS'] contains a control character (U+000A at position 6)"),
    ({"kafka_broker_properties": {"log.retention.ms\nsuper.users": "x"}},
     "kafka_broker_properties['log.retention.ms\\nsuper.users'] is a key with a control character (U+000A at position 16)"),
    ({"kafka_broker_jvm_options": ["-Xss1m", "-Dx=\ty"]},
     "kafka_broker_jvm_options[1] contains a control character (U+0009 at position 4)"),
    ({"platform_host_address": "k1.example.com\r"},
     "platform_host_address contains a control character (U+000D at position 14)"),
    ({"zookeeper_settings": {"tickTime": "2000\x00"}},
     "zookeeper_settings['tickTime'] contains a control character (U+0000 at position 4)"),
    ({"kafka_broker_rack": "a\x85b"}, "kafka_broker_rack contains a control character (U+0085 at position 1)"),
    ({"kafka_broker_properties": {"ssl.keystore.key": "-----BEGIN KEY-----\n\x07\n-----END KEY-----"}},
     "kafka_broker_properties['ssl.keystore.key'] contains a control character (U+0007 at position 20)"),
])
def test_control_characters_are_named(variables, message):
    assert checks.text_errors({"h": variables}) == ["h: " + message + SUFFIX]


@pytest.mark.parametrize("variables", [
    {"kafka_broker_properties": {"ssl.keystore.key": "-----BEGIN PRIVATE KEY-----\nMII\r\n-----END PRIVATE KEY-----\n"}},
    {"kafka_connect_secrets": {"postgres": {"password": "s3cret", "key": "-----BEGIN PRIVATE KEY-----\nMII\n"}}},
    {"ksqldb_queries": "CREATE STREAM s\n  WITH (kafka_topic='t');"},
    {"platform_tls_extra_ca_certs": ["-----BEGIN CERTIFICATE-----\nMII\n-----END CERTIFICATE-----"]},
    {"schema_registry_schemas": [{"subject": "s", "schema": "{\n  \"type\": \"string\"\n}"}]},
    {"kafka_connect_connectors": [{"name": "c", "config": {"transforms.x.regex": "a\nb"}}]},
    {"platform_security": {"tls": {"keystore": {"certificate_chain": "-----BEGIN CERTIFICATE-----\n..."}}}},
    {"ansible_host": "not\na role variable"},
    {"kafka_node_id": 1, "kafka_broker_log_dirs": ["/var/lib/kafka/a", "/var/lib/kafka/b"], "platform_kafka_mode": "kraft"},
])
def test_what_may_span_lines_or_is_checked_elsewhere_passes(variables):
    assert checks.text_errors({"h": variables}) == []


def test_the_value_itself_is_never_in_a_message():
    secret = "Top-Secret-Value"
    hosts = {"h": {"kafka_broker_properties": {"ssl.key.password": secret + "\n"},
                   "kafka_connect_secrets": {"db": {"password": secret + "\x00"}}}}
    errors = checks.text_errors(hosts)
    assert len(errors) == 2
    assert not any(secret in error for error in errors)


@pytest.mark.parametrize("name", ["../etc/passwd", "a/b", ".hidden", "-rf", "", "a\nb", "x" * 129])
def test_a_connect_secret_file_name_must_be_a_plain_file_name(name):
    errors = checks.text_errors({"w1": {"kafka_connect_secrets": {name: {"password": "x"}}}})
    assert any("kafka_connect_secrets[%r] names a file (<key>.properties)" % name in error for error in errors), errors


@given(st.text())
def test_any_text_is_either_one_printable_line_or_refused(text):
    errors = checks.text_errors({"h": {"kafka_broker_rack": text}})
    has_control = any(ord(c) < 0x20 or 0x7f <= ord(c) <= 0x9f for c in text)
    assert bool(errors) == has_control


def test_malformed_input_raises_the_collections_error():
    with pytest.raises(checks.InventoryError, match="expected a mapping of host names"):
        checks.text_errors(None)
    with pytest.raises(checks.InventoryError, match="the variables of k1 are not a mapping but list"):
        checks.text_errors({"k1": []})
    with pytest.raises(checks.InventoryError, match="platform_secret_properties must be a list"):
        checks.secret_properties({}, marked="ssl.key.password")


@pytest.mark.parametrize("key,secret", [
    ("ssl.key.password", True), ("ssl.keystore.password", True), ("sasl.jaas.config", True),
    ("listener.name.client.plain.sasl.jaas.config", True), ("ssl.keystore.key", True),
    ("sasl.oauthbearer.client.credentials.client.secret", True), ("basic.auth.user.info", True),
    ("schema.registry.basic.auth.user.info", True), ("delegation.token.secret.key", True),
    ("aws.secret.access.key", True), ("password.encoder.secret", True),
    ("log.retention.ms", False), ("ssl.keystore.location", False), ("sasl.enabled.mechanisms", False),
    ("ssl.client.auth", False), ("ssl.keystore.type", False), ("num.partitions", False),
])
def test_secret_property_keys(key, secret):
    assert checks.is_secret_key(key) is secret


def test_secret_properties_are_listed_with_their_hosts_and_marked_ones_count():
    hosts = {"k1": {"kafka_broker_properties": {"ssl.key.password": "x", "num.partitions": 3}},
             "k2": {"kafka_broker_properties": {"ssl.key.password": "x"}, "kafka_broker_environment": {"PASSWORD": "y"}},
             "c1": {"kafka_connect_properties": {"consumer.custom.value": "z"}}}
    assert checks.secret_properties(hosts) == ["k1, k2: kafka_broker_properties['ssl.key.password']"]
    assert checks.secret_properties(hosts, marked=["consumer.custom.value"]) == [
        "c1: kafka_connect_properties['consumer.custom.value']", "k1, k2: kafka_broker_properties['ssl.key.password']"]


@pytest.mark.parametrize("name", ["KAFKA OPTS", "1X", "A-B", "", 5])
def test_an_environment_key_must_be_a_variable_name(name):
    errors = checks.text_errors({"k1": {"kafka_broker_environment": {name: "x"}}})
    assert any("kafka_broker_environment[%r] is not an environment variable name" % (name,) in error for error in errors), errors


@pytest.mark.parametrize("variable,value,message", [
    ("kafka_connect_replication_factor", -1, "kafka_connect_replication_factor must be at least 0, got -1"),
    ("platform_kubernetes_wait_delay", 0, "platform_kubernetes_wait_delay must be at least 1, got 0"),
    ("kafka_broker_limit_nofile", -1, "kafka_broker_limit_nofile must be at least 1, got -1"),
    ("schema_registry_replication_factor", True, "schema_registry_replication_factor must be a whole number, got True"),
    ("ksqldb_port", 70000, "ksqldb_port must be a port number (1 to 65535), got 70000"),
    ("platform_admin_timeout", 1.5, "platform_admin_timeout must be a whole number, got 1.5"),
    ("kafka_connect_rest_port", "８０８３", "kafka_connect_rest_port must be a whole number, got '８０８３'"),
])
def test_counts_ports_and_times_are_whole_numbers_from_one(variable, value, message):
    assert checks.text_errors({"h": {variable: value}}) == ["h: " + message]


@pytest.mark.parametrize("variable,value", [
    ("kafka_connect_replication_factor", 3), ("ksqldb_replication_factor", 0), ("kafka_broker_limit_nofile", "100000"), ("ksqldb_port", 8088),
    ("platform_rebalance_max_moves", None), ("kafka_node_id", 0),
])
def test_good_numbers_pass(variable, value):
    assert checks.text_errors({"h": {variable: value}}) == []


def test_the_filter_looks_at_the_documented_role_variables_only():
    from ansible_collections.kafkaops.platform.plugins.filter import inventory

    names = inventory.role_variable_names()
    assert {"kafka_broker_properties", "zookeeper_settings", "kafka_connect_secrets", "platform_host_address",
            "kafka_node_id", "ksqldb_environment"} <= names
    hostvars = {"k1": {"kafka_broker_rack": "r1\n", "platform_kubernetes_applied": {"data": "a\nb"}}}
    assert inventory.kafka_inventory_text_errors(["k1"], hostvars=hostvars) == [
        "k1: kafka_broker_rack contains a control character (U+000A at position 2)" + SUFFIX]
