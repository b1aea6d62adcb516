"""Schema Registry's and ksqlDB's files as their roles render them (confluent_units.yml) on a test host:
every key is one the product defines (key names read from the products' sources, the data files
of the unit tests), the files that hold passwords are not world-readable, and the units run the
archive's start scripts as the service user. Confluent's software itself is not installed here."""
import json
import os

import pytest
import testinfra

from ansible_collections.kafkaops.platform.plugins.module_utils import properties

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
DATA = os.path.join(ROOT, "tests", "unit", "data", "confluent")
FILES = {"schema-registry": ("schema-registry.properties", "schema_registry.keys", set()),
         # ksqlDB also resolves unprefixed Kafka client keys; the role writes only this one
         "ksqldb": ("ksql-server.properties", "ksqldb.keys", {"bootstrap.servers"})}


def known(name):
    exact, prefixes = set(), []
    with open(os.path.join(DATA, name)) as handle:
        for line in (raw.strip() for raw in handle):
            if line and not line.startswith("#"):
                (prefixes.append(line[:-1]) if line.endswith("*") else exact.add(line))
    return exact, prefixes


@pytest.fixture(scope="module")
def node():
    path = os.path.join(os.environ.get("MOLECULE_EPHEMERAL_DIRECTORY", "/tmp"), "cdc.json")
    with open(path) as handle:
        workers = json.load(handle)["workers"]
    for name in sorted(workers):
        host = testinfra.get_host("podman://" + name)
        if host.file("/etc/systemd/system/schema-registry.service").exists:
            return host
    pytest.fail("no Connect host has the rendered Schema Registry unit (confluent_units.yml did not run)")


@pytest.mark.parametrize("service", sorted(FILES))
def test_every_rendered_key_is_the_products_own(node, service):
    filename, keys, extra = FILES[service]
    rendered = node.file("/etc/kafka/%s/%s" % (service, filename))
    assert (rendered.user, rendered.group, rendered.mode) == ("root", "kafka", 0o640)
    values = properties.parse_java_properties(rendered.content_string)
    exact, prefixes = known(keys)
    unknown = sorted(k for k in values if k not in exact and k not in extra and not any(k.startswith(p) for p in prefixes))
    assert len(values) >= 8 and unknown == []


def test_units_start_the_archives_scripts_as_the_service_user(node):
    registry = node.file("/etc/systemd/system/schema-registry.service").content_string
    assert "ExecStart=/opt/confluent/current/bin/schema-registry-start /etc/kafka/schema-registry/schema-registry.properties" in registry
    assert "User=kafka" in registry and "SCHEMA_REGISTRY_HEAP_OPTS=-Xms512m -Xmx512m" in registry
    ksql = node.file("/etc/systemd/system/ksqldb.service").content_string
    assert "ExecStart=/opt/confluent/current/bin/ksql-server-start /etc/kafka/ksqldb/ksql-server.properties" in ksql
    values = properties.parse_java_properties(node.file("/etc/kafka/ksqldb/ksql-server.properties").content_string)
    assert values["ksql.service.id"] == "ksql_" and values["ksql.queries.file"] == "/etc/kafka/ksqldb/queries.sql"
