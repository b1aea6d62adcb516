"""The Connect part of the dedicated scenario, checked on the real hosts and through real clients:
rows PostgreSQL holds against records Kafka received (lost and duplicated), the secret nowhere it
must not be, the files' owners and modes, the plugin in its own directory. connect_side_effect.yml
measured the lifecycle (pause, resume, failover) and left its figures in cdc.json."""
import json
import os
import subprocess
import sys
import urllib.request

import pytest
import testinfra

HERE = os.path.dirname(os.path.abspath(__file__))


@pytest.fixture(scope="module")
def cdc():
    path = os.path.join(os.environ.get("MOLECULE_EPHEMERAL_DIRECTORY", "/tmp"), "cdc.json")
    with open(path) as handle:
        return json.load(handle)


def _host(name):
    return testinfra.get_host("podman://" + name)


def _records(cdc):
    out = subprocess.run([sys.executable, os.path.join(os.path.dirname(HERE), "cdc_records.py"), cdc["bootstrap"],
                          cdc["topic"], "--absent", cdc["secret"]], capture_output=True, text=True, check=True)
    return json.loads(out.stdout)


def test_every_row_arrived_once(cdc):
    rows = int(_host(cdc["postgres"]).check_output(
        "runuser -u postgres -- psql -d inventory -tAc 'SELECT count(*) FROM orders'"))
    found = _records(cdc)
    print("figures: rows in PostgreSQL %d, records in %s %d (distinct %d, lost %d, duplicated %d), failover %.1f s"
          % (rows, cdc["topic"], found["records"], found["distinct"], rows - found["distinct"], found["duplicates"],
             cdc["failover_seconds"]))
    assert rows >= 150
    assert found["distinct"] == rows, "lost %d row(s)" % (rows - found["distinct"])
    assert found["max_id"] == rows
    assert not found["secret_found"]
    # pause held the rows back, resume and the failover delivered them
    assert cdc["paused"]["max_id"] == cdc["before_pause"]["max_id"]
    assert cdc["after_failover"]["max_id"] == cdc["before_pause"]["max_id"] + 50


def _get(url):
    with urllib.request.urlopen(url, timeout=30) as answer:
        return answer.read().decode()


def test_the_secret_is_in_no_api_answer(cdc):
    name = cdc["connector"]
    for url in cdc["workers"].values():
        for path in ("/connectors?expand=status&expand=info", "/connectors/%s" % name, "/connectors/%s/config" % name,
                     "/connectors/%s/tasks" % name, "/connectors/%s/status" % name):
            body = _get(url + path)
            assert cdc["secret"] not in body, path
        assert "${file:" in _get(url + "/connectors/%s/config" % name)


def test_the_secret_is_in_no_log_and_not_in_the_config_topic(cdc):
    for host in cdc["workers"]:
        node = _host(host)
        logs = node.check_output("journalctl -u kafka-connect --no-pager; cat /var/log/kafka/kafka-connect/*.log")
        assert "PostgresConnector" in logs  # the logs are the worker's
        assert cdc["secret"] not in logs, host
    config_topic = subprocess.run([sys.executable, os.path.join(os.path.dirname(HERE), "cdc_records.py"),
                                   cdc["bootstrap"], cdc["config_topic"], "--absent", "${file:"],
                                  capture_output=True, text=True, check=True)
    assert json.loads(config_topic.stdout)["secret_found"], "the config topic holds the provider reference"
    stored = subprocess.run([sys.executable, os.path.join(os.path.dirname(HERE), "cdc_records.py"),
                             cdc["bootstrap"], cdc["config_topic"], "--absent", cdc["secret"]],
                            capture_output=True, text=True, check=True)
    assert not json.loads(stored.stdout)["secret_found"]


def test_files_and_plugin_directory(cdc):
    for host in cdc["workers"]:
        node = _host(host)
        secret = node.file("/etc/kafka/kafka-connect/secrets/postgres.properties")
        assert (secret.user, secret.mode) == ("kafka", 0o600)
        assert cdc["secret"] in secret.content_string
        worker = node.file("/etc/kafka/kafka-connect/worker.properties")
        assert (worker.user, worker.group, worker.mode) == ("root", "kafka", 0o640)
        text = worker.content_string
        assert "connector.client.config.override.policy=None" in text
        assert "plugin.path=/opt/kafka-connect/plugins" in text
        plugins = node.check_output("ls /opt/kafka-connect/plugins").split()
        assert plugins == ["debezium-postgres-3.6.1.Final"]
        assert node.service("kafka-connect").is_running
