"""Upgrade the ZooKeeper-mode cluster from the release converge.yml deployed to the one the inventory
names, through upgrade.yml, while numbered messages are produced with acks=all (idempotent), then read
them back and count them. The same run changes a zoo.cfg setting, so the ensemble rolls once for both.

    upgrade_under_load.py SPEC.json

SPEC: project, inventory (molecule's sources), workdir, bootstrap (the brokers), hosts (the test
hosts running Kafka or ZooKeeper: {name: service}), release (the inventory's), extra_vars (for
upgrade.yml), result_file (JSON: the counts, the playbook's seconds, and the release each process
has loaded, asked of the process: the Kafka jar it holds open).
"""
import json
import subprocess
import sys

from numbered_load import NumberedLoad
from playbook_runs import Playbooks

from ansible_collections.kafkaops.platform.plugins.module_utils.kafka_admin import KafkaAdmin

TOPIC = "upgrade-under-load"


def loaded_release(host, service):
    """The Kafka release whose jars the running ``service`` holds open on ``host`` (from /proc, so
    it is what the process runs, whatever the files on disk say), or None when it does not run.
    /proc/PID/fd is read as the process's own user: root in a test host lacks the ptrace right."""
    script = ("pid=$(systemctl show --property=MainPID --value %s); [ \"$pid\" -gt 0 ] || exit 0; "
              "runuser -u \"$(stat -c %%U /proc/$pid)\" -- sh -c \"readlink /proc/$pid/fd/*\" 2>/dev/null"
              " | sed -n 's|.*/kafka_2.13-\\([0-9.]*\\)/libs/.*|\\1|p' | sort -u" % service)
    found = subprocess.run(["podman", "exec", host, "sh", "-c", script], capture_output=True, text=True,
                           check=True).stdout.split()
    return found[0] if len(found) == 1 else (found or None)


def main(path):
    with open(path, encoding="utf-8") as handle:
        spec = json.load(handle)
    with KafkaAdmin(spec["bootstrap"]) as client:
        client.create_topic(TOPIC, partitions=3, replication_factor=3, configs={"min.insync.replicas": "2"})
    before = {host: loaded_release(host, service) for host, service in sorted(spec["hosts"].items())}
    load = NumberedLoad(spec["bootstrap"], TOPIC)
    load.start()
    report = Playbooks(spec["project"], spec["inventory"], spec["workdir"], "upgrade").run("upgrade.yml", spec["extra_vars"])
    counts = load.count()
    after = {host: loaded_release(host, service) for host, service in sorted(spec["hosts"].items())}
    result = dict(counts, playbook_seconds=report["seconds"], release_before=before, release_after=after,
                  changed={h: s["changed"] for h, s in sorted(report["stats"].items())})
    print(json.dumps(result, sort_keys=True))
    with open(spec["result_file"], "w", encoding="utf-8") as handle:
        json.dump(result, handle, sort_keys=True)


if __name__ == "__main__":
    main(sys.argv[1])
