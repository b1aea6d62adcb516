# Copyright: kafkaops.platform contributors
# Apache-2.0 (see LICENSE)
"""The pure functions of plugins/module_utils/kafka_connect.py: config values as Connect stores
them, diffs, which values are secrets, states and failures read from status answers."""

from __future__ import annotations

import pytest

from ansible_collections.kafkaops.platform.plugins.module_utils import kafka_connect as kc
from ansible_collections.kafkaops.platform.plugins.module_utils import rest


@pytest.mark.parametrize("value, stored", [
    ("x", "x"), (1, "1"), (0.5, "0.5"), (True, "true"), (False, "false"), (["a", "b", 3], "a,b,3"), ([], ""),
])
def test_config_string(value, stored):
    assert kc.config_string("k", value) == stored


@pytest.mark.parametrize("value", [None, {"a": 1}, [True], [["a"]]])
def test_config_string_refuses(value):
    with pytest.raises(ValueError) as caught:
        kc.config_string("k", value)
    assert str(caught.value).startswith("config.k: a connector config value must be")


def test_desired_config_adds_the_name():
    assert kc.desired_config("c", {"connector.class": "X", "tasks.max": 2}) == {
        "connector.class": "X", "tasks.max": "2", "name": "c"}
    assert kc.desired_config("c", {"connector.class": "X", "name": "c"})["name"] == "c"


def test_config_diff():
    stored = {"name": "c", "a": "1", "b": "2"}
    assert kc.config_diff(stored, {"name": "c", "a": "1", "c": "3"}) == {"added": ["c"], "changed": [],
                                                                         "removed": ["b"]}
    assert not kc.has_changes(kc.config_diff(stored, dict(stored)))
    assert kc.config_diff(None, {"name": "c"}) == {"added": ["name"], "changed": [], "removed": []}


def test_secrets():
    declared = {"database.password"}
    assert kc.is_secret("database.password", "pw", declared)
    assert not kc.is_secret("database.password", "${file:/s/db.properties:password}", declared)
    # only a whole reference is one: a value with a line break or anything after it is masked
    assert kc.is_secret("database.password", "${file:/s/db.properties:password}\n", declared)
    assert kc.is_secret("database.password", "${file:/s/db.properties:\npassword}", declared)
    assert not kc.is_secret("database.user", "u", declared)
    # without a plugin's declarations, by name
    for key in ("database.password", "sasl.jaas.config", "aws.secret.access.key", "ssl.key.password", "api.key",
                "token"):
        assert kc.is_secret(key, "x", None), key
    for key in ("key.converter", "topic", "database.hostname", "tasks.max"):
        assert not kc.is_secret(key, "x", None), key
    assert kc.masked({"a.password": "x", "b": "y"}) == {"a.password": kc.MASK, "b": "y"}
    assert kc.masked(None) is None


def test_provider_files_are_the_files_a_config_reads():
    config = {
        "database.password": "${file:/etc/kafka/kafka-connect/secrets/postgres.properties:password}",
        # anywhere in a value, several in one, a directory reference names DIR/FILE, paths normalized
        "connection.url": "jdbc:postgresql://db/x?user=${file:/etc/s/../s/a.properties:user}&p=${directory:/etc/d/:pw}",
        "ssl.key": "${directory:/etc/kafka/kafka-connect/secrets:postgres.properties}",
        # not a file: another provider, no path, a relative path, no reference at all
        "home": "${env:HOME}", "short": "${file:key}", "relative": "${file:secrets/a.properties:k}", "plain": "x",
        "tasks.max": 1,
    }
    assert kc.provider_files(config) == ["/etc/d/pw", "/etc/kafka/kafka-connect/secrets/postgres.properties",
                                         "/etc/s/a.properties"]
    assert kc.provider_files(None) == [] == kc.provider_files({"a": "${file:/x"})
    # the key may hold ':' - the path ends at the first one, as in Kafka's ConfigTransformer
    assert kc.provider_files({"k": "${file:/a.properties:b:c}"}) == ["/a.properties"]


def test_password_keys_and_validation_errors():
    validation = {"configs": [
        {"definition": {"name": "db.password", "type": "PASSWORD"}, "value": {"name": "db.password", "errors": []}},
        {"definition": {"name": "topic", "type": "STRING"},
         "value": {"name": "topic", "errors": ["Missing required configuration \"topic\""]}},
    ]}
    assert kc.password_keys(validation) == {"db.password"}
    assert kc.password_keys(None) == set()
    assert kc.validation_errors(validation) == ['topic: Missing required configuration "topic"']


def status(connector, *tasks, trace=None):
    return {"connector": {"state": connector, "worker_id": "w1"},
            "tasks": [dict({"id": i, "state": s, "worker_id": "w%d" % i}, **({"trace": trace} if s == "FAILED" else {}))
                      for i, s in enumerate(tasks)], "type": "source"}


def test_reached():
    assert kc.reached(status("RUNNING", "RUNNING", "RUNNING"), "RUNNING", 1)
    assert not kc.reached(status("RUNNING"), "RUNNING", 1)
    assert kc.reached(status("RUNNING"), "RUNNING", 0)
    assert not kc.reached(status("RUNNING", "RUNNING", "UNASSIGNED"), "RUNNING", 1)
    assert kc.reached(status("STOPPED"), "STOPPED", 1)
    assert not kc.reached(status("STOPPED", "PAUSED"), "STOPPED", 1)
    assert not kc.reached(None, "RUNNING", 0)


def test_failures_carry_the_first_lines_of_the_trace():
    trace = ("org.apache.kafka.connect.errors.ConnectException: Couldn't find or create file '/o/x' for FileStreamSinkTask\n"
             "\tat a.B.c(B.java:1)\n" + "\tat x\n" * 20 + "Caused by: java.nio.file.NoSuchFileException: /o/x\n"
             "\tat y\n\t... 12 more\n")
    found = kc.failures(status("RUNNING", "RUNNING", "FAILED", trace=trace))
    assert found == ["task 1 on w1: org.apache.kafka.connect.errors.ConnectException: Couldn't find or create file '/o/x' "
                     "for FileStreamSinkTask | Caused by: java.nio.file.NoSuchFileException: /o/x"]
    assert kc.failures(status("FAILED")) == ["connector on w1: (no trace)"]
    assert kc.failures(None) == []


def test_offsets_equal():
    current = [{"partition": {"f": "a"}, "offset": {"p": 1}}, {"partition": {"f": "b"}, "offset": {"p": 2}}]
    assert kc.offsets_equal(current, [{"partition": {"f": "a"}, "offset": {"p": 1}}])
    assert not kc.offsets_equal(current, [{"partition": {"f": "a"}, "offset": {"p": 0}}])
    assert kc.offsets_equal(current, [{"partition": {"f": "c"}, "offset": None}])  # nothing to remove
    assert not kc.offsets_equal(current, [{"partition": {"f": "a"}, "offset": None}])
    assert kc.offsets_equal([], [])


def test_error_text():
    assert rest.error_text({"error_code": 400, "message": "bad"}, b"") == "bad"
    assert rest.error_text(None, b"<html>oops</html>") == "<html>oops</html>"
    assert rest.error_text(None, b"") == "(no body)"
