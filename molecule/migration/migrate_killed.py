"""Migrate with zookeeper_to_kraft.yml killed (SIGKILL, its whole process tree) right after its first
broker restart, as an operator whose job was cancelled would see it; the side effect then runs the
playbook again to the end.

    migrate_killed.py SPEC.json

SPEC: project, inventory (molecule's sources), workdir, brokers ({inventory name: [node id, "address:port"]}),
extra_vars (for zookeeper_to_kraft.yml), result_file (JSON written at the end: the mode each broker
runs after the kill, as the broker itself reports it).

What a broker runs is asked of the broker (DescribeConfigs), not read from its files: KRaft mode when
it runs with process.roles, migration mode when it runs with zookeeper.metadata.migration.enable,
ZooKeeper mode otherwise.
"""
import json
import sys
import time

from playbook_runs import Playbooks, kill_after_first_restart

from ansible_collections.kafkaops.platform.plugins.module_utils.kafka_admin import KafkaAdmin


def running_mode(node_id, address):
    """The metadata mode broker ``node_id`` (at ``address``) runs, or None while it does not answer."""
    try:
        with KafkaAdmin([address], request_timeout=5) as client:
            configs = client.configs("broker", [node_id])[str(node_id)]
    except Exception as exc:  # starting: not answering is an answer too
        print("%s: %s" % (address, exc))
        return None
    if configs.get("process.roles"):
        return "kraft"
    if str(configs.get("zookeeper.metadata.migration.enable", "")).lower() == "true":
        return "migration"
    return "zookeeper"


def modes(brokers, seconds=300):
    """``{name: mode}`` once every broker answers."""
    deadline = time.monotonic() + seconds
    while True:
        found = {name: running_mode(node_id, address) for name, (node_id, address) in sorted(brokers.items())}
        if None not in found.values() or time.monotonic() > deadline:
            return found
        time.sleep(2)


def main(path):
    with open(path, encoding="utf-8") as handle:
        spec = json.load(handle)
    playbooks = Playbooks(spec["project"], spec["inventory"], spec["workdir"], "migration")
    before = modes(spec["brokers"])
    run = playbooks.run("zookeeper_to_kraft.yml", spec["extra_vars"], background=True)
    kill_after_first_restart(run, sorted(spec["brokers"]))
    after_kill = modes(spec["brokers"])
    print("brokers before: %s; after the kill: %s" % (before, after_kill))
    with open(spec["result_file"], "w", encoding="utf-8") as handle:
        json.dump({"before": before, "after_kill": after_kill}, handle)


if __name__ == "__main__":
    main(sys.argv[1])
