"""After the migration: ZooKeeper is stopped, no Kafka process knows it any more (its files, and
what every broker says it runs), the controllers report the finished migration, and every message
produced before the migration is read back."""
import json
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))


def record(expected):
    with open(os.path.join(os.path.dirname(os.environ["KAFKAOPS_EXPECTED"]), "migration.json"), encoding="utf-8") as handle:
        return json.load(handle)


def test_zookeeper_is_stopped(host, me):
    if "controller" in me["roles"]:
        service = host.service("zookeeper")
        assert not service.is_running and not service.is_enabled


def test_no_process_knows_zookeeper(host, me):
    content = host.file("/etc/kafka/%s/server.properties" % me["service"]).content_string
    assert "zookeeper." not in content
    assert "inter.broker.protocol.version" not in content


def test_every_broker_runs_in_kraft_mode(expected):
    """Asked of the brokers (DescribeConfigs): the migration was killed after its first broker restart
    and run again; every broker must now run with process.roles and without the migration flag."""
    from ansible_collections.kafkaops.platform.plugins.module_utils.kafka_admin import KafkaAdmin

    brokers = sorted(h["node_id"] for h in expected["hosts"].values() if "broker" in h["roles"])
    with KafkaAdmin(expected["bootstrap_servers"]) as client:
        running = client.configs("broker", brokers)
    modes = {node: (values.get("process.roles"), values.get("zookeeper.metadata.migration.enable"),
                    values.get("zookeeper.connect")) for node, values in running.items()}
    assert modes == {str(node): ("broker", None, None) for node in brokers}, modes


def test_every_message_survived(expected):
    migration = record(expected)
    result = subprocess.run([sys.executable, os.path.join(os.path.dirname(HERE), "messages.py"), "consume",
                             ",".join(expected["bootstrap_servers"]), str(migration["messages"])],
                            capture_output=True, text=True, timeout=300, check=False)
    print("migration took %.1fs; %s" % (migration["seconds"], result.stdout.strip()))
    assert result.returncode == 0, result.stdout + result.stderr
