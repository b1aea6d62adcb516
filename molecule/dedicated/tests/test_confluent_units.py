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


@pytest.mark.parametrize("service", sorted(FILES))
def test_configuration_is_roots_and_closed_to_others(node, service):
    """Every file the role rendered (properties with the store and client passwords, logging, the REST
    login files) is root's, group kafka, 0640, in a root-owned 0750 directory: the service user reads
    them and can change none; the unit is root's and world-readable (it holds no secret)."""
    directory = "/etc/kafka/%s" % service
    lines = node.check_output("find %s -printf '%%y %%u %%g %%m %%p\\n'", directory).splitlines()
    found = {line.split(" ", 4)[4]: tuple(line.split(" ", 4)[:4]) for line in lines}
    required = [FILES[service][0], "rest-jaas.conf", "rest-users.properties"]
    assert [name for name in required if "%s/%s" % (directory, name) not in found] == []
    wrong = {path: entry for path, entry in found.items()
             if entry != {"d": ("d", "root", "kafka", "750"), "f": ("f", "root", "kafka", "640")}.get(entry[0])}
    assert wrong == {}, "not root:kafka 0640 (files) / 0750 (directories): %s" % wrong
    assert node.run("runuser -u kafka -- test -r %s/%s", directory, FILES[service][0]).rc == 0
    assert node.run("runuser -u kafka -- test -w %s/%s", directory, FILES[service][0]).rc != 0
    writable = node.run("runuser -u kafka -- find %s -writable", directory)
    assert (writable.rc, writable.stdout) == (0, ""), "kafka can write: %s%s" % (writable.stdout, writable.stderr)
    unit = node.file("/etc/systemd/system/%s.service" % service)
    assert (unit.user, unit.group, unit.mode) == ("root", "root", 0o644)


def test_units_start_the_archives_scripts_as_the_service_user(node):
    registry = node.file("/etc/systemd/system/schema-registry.service").content_string
    assert "ExecStart=/opt/confluent/current/bin/schema-registry-start /etc/kafka/schema-registry/schema-registry.properties" in registry
    assert "User=kafka" in registry and "SCHEMA_REGISTRY_HEAP_OPTS=-Xms512m -Xmx512m" in registry
    ksql = node.file("/etc/systemd/system/ksqldb.service").content_string
    assert "ExecStart=/opt/confluent/current/bin/ksql-server-start /etc/kafka/ksqldb/ksql-server.properties" in ksql
    values = properties.parse_java_properties(node.file("/etc/kafka/ksqldb/ksql-server.properties").content_string)
    assert values["ksql.service.id"] == "ksql_" and values["ksql.queries.file"] == "/etc/kafka/ksqldb/queries.sql"


@pytest.mark.parametrize("service, realm, option, user, password, roles", [
    ("schema-registry", "SchemaRegistry-Props", "SCHEMA_REGISTRY_OPTS", "registry-ops", "Sr-units-s3cret", "user"),
    ("ksqldb", "KsqlServer-Props", "KSQL_OPTS", "ksql-ops", "Ksql-units-s3cret", "admin,user"),
])
def test_basic_auth_files_are_readable_by_the_service_alone_and_named_by_the_unit(node, service, realm, option, user, password, roles):
    """schema_registry_rest_users / ksqldb_rest_users: the login config (the product's realm, Jetty's
    property-file login module of Confluent 7) and the users file, root's and readable by the service's
    group only (0640); the unit names the login config and the properties turn basic auth on; no
    password outside the users file."""
    jaas = node.file("/etc/kafka/%s/rest-jaas.conf" % service)
    users = node.file("/etc/kafka/%s/rest-users.properties" % service)
    for found in (jaas, users):
        assert (found.user, found.group, found.mode) == ("root", "kafka", 0o640)
    assert jaas.content_string.startswith(realm + " {\n  org.eclipse.jetty.jaas.spi.PropertyFileLoginModule required")
    assert 'file="/etc/kafka/%s/rest-users.properties";' % service in jaas.content_string
    assert properties.parse_java_properties(users.content_string) == {user: "%s,%s" % (password, roles)}
    unit = node.file("/etc/systemd/system/%s.service" % service).content_string
    line = next(line for line in unit.splitlines() if line.startswith('Environment="%s=' % option))
    assert "-Djava.security.auth.login.config=/etc/kafka/%s/rest-jaas.conf" % service in line
    filename = FILES[service][0]
    values = properties.parse_java_properties(node.file("/etc/kafka/%s/%s" % (service, filename)).content_string)
    assert (values["authentication.method"], values["authentication.realm"], values["authentication.roles"]) == ("BASIC", realm, roles)
    assert password not in unit and password not in str(values)
