# Copyright: kafkaops.platform contributors
# Apache-2.0 (see LICENSE)
"""Rolling operations under load on the scenario's real cluster, in order (pytest -x):

a. a property changed everywhere: site.yml rolls the three combined nodes one at a time, the active
   controller last, while numbered messages are produced with acks=all;
d. site.yml with another value, killed (SIGKILL, the whole process tree) right after the first
   broker runs it: the next site.yml restarts exactly the brokers that still run the old value;
g. the restart gate on an unhealthy cluster: with one broker stopped it refuses to let another go
   down (min.insync.replicas), with two controllers stopped it says the quorum has no leader, and
   after the stopped ones start again it waits until they are back and caught up; with a log
   directory of broker 2 failed (made unwritable under the running broker, then a partition placed
   there) it refuses to restart any node and names the directory;
c. rebalance.yml moves data onto broker 3 with a throttle; broker 3 is killed (SIGKILL) mid-move and
   started again 20 s later; the move finishes, no throttle is left;
b. upgrade.yml from 4.2.0 to 4.3.1, killed after its first restart and run again, then a downgrade
   refused before any host changes.

After a, d, c and b the messages are read back and counted: none lost, none duplicated, no failed
send (c counts its failed sends; a broker is down for 20 s there).
What a broker runs is asked of the broker (DescribeConfigs), and the value expected is the one this
module passes to site.yml. Figures are printed and written to .cache/molecule/reliability-figures.json
(verify.yml shows them). Configuration comes from verify.yml in KAFKAOPS_RELIABILITY.
"""
from __future__ import annotations

import datetime
import json
import os
import subprocess
import sys
import time

from kafka import KafkaProducer
from numbered_load import NumberedLoad
from playbook_runs import Playbooks, failures, kill_after_first_restart

from ansible_collections.kafkaops.platform.plugins.module_utils.kafka_admin import KafkaAdmin

CONF = json.loads(os.environ["KAFKAOPS_RELIABILITY"])
HOSTS = CONF["hosts"]  # inventory name -> node id
BY_ID = {node: name for name, node in HOSTS.items()}
ADDRESS = CONF["addresses"]
PORT = 9092
BOOTSTRAP = ["%s:%d" % (ADDRESS[BY_ID[i]], PORT) for i in sorted(BY_ID)]
FIGURES = {}
RESTART = "Restart the Kafka process on"
BEFORE = "Wait until the cluster allows restarting"
AFTER = "Wait until every broker is back in sync"


def properties(retention_hours):
    """kafka_broker_properties as a person writes them in the inventory."""
    return {"kafka_broker_properties": {"min.insync.replicas": 2, "log.retention.hours": retention_hours}}


PLAYBOOKS = Playbooks(CONF["project"], CONF["inventory"], CONF["workdir"], "reliability")
playbook = PLAYBOOKS.run


def _time(text):
    return datetime.datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()


def roll_of(report):
    """The restarts of a site.yml report in order: ``[{"node", "start", "restarted", "end"}]`` (when the
    gate before it began, the restart command began, the gate after it ended)."""
    rolls, current = [], None
    for play in report["plays"]:
        for task in play["tasks"]:
            name = task["task"]["name"].split(" : ")[-1]
            if not task["hosts"]:
                continue
            result = next(iter(task["hosts"].values()))
            if result.get("skipped"):
                continue
            duration = task["task"]["duration"]
            begin, end = _time(duration["start"]), _time(duration["end"])
            if name.startswith(BEFORE):
                current = {"node": result["invocation"]["module_args"]["node_id"], "start": begin}
            elif name.startswith(RESTART) and current is not None:
                current["restarted"] = begin
            elif name.startswith(AFTER) and current is not None:
                current["end"] = end
                rolls.append(current)
                current = None
    return rolls


def roll_figures(rolls):
    """Wall time of the roll (from the first gate to the last) next to the sum of the processes' own
    restart-to-ready times (from the restart command to the end of the gate after it)."""
    own = [r["end"] - r["restarted"] for r in rolls]
    wall = rolls[-1]["end"] - rolls[0]["start"] if rolls else 0
    return {"restarts": [r["node"] for r in rolls], "roll_wall_s": round(wall, 1),
            "restart_to_ready_s": [round(s, 1) for s in own],
            "overhead_ratio": round(wall / sum(own), 2) if own else None}


def result_of(report, prefix):
    for play in report["plays"]:
        for task in play["tasks"]:
            if task["task"]["name"].split(" : ")[-1].startswith(prefix):
                for result in task["hosts"].values():
                    if not result.get("skipped"):
                        return result
    return None


def running_retention():
    """log.retention.hours as each broker runs it (DescribeConfigs asks the broker); a broker that
    does not answer is None."""
    found = {}
    for node in sorted(BY_ID):
        try:
            with KafkaAdmin(["%s:%d" % (ADDRESS[BY_ID[node]], PORT)], request_timeout=5) as client:
                found[node] = client.configs("broker", [node])[str(node)].get("log.retention.hours")
        except Exception as exc:  # restarting: not answering is an answer too
            print("broker %d: %s" % (node, exc))
            found[node] = None
    return found


def create_topic(name):
    with KafkaAdmin(BOOTSTRAP) as client:
        client.create_topic(name, partitions=3, replication_factor=3, configs={"min.insync.replicas": "2"})


def start_load(topic):
    create_topic(topic)
    load = NumberedLoad(BOOTSTRAP, topic)
    load.start()
    time.sleep(3)
    return load


def record(case, figures):
    FIGURES[case] = figures
    print("%s: %s" % (case, json.dumps(figures, sort_keys=True)))
    # kept beside the job logs of make molecule (.cache/molecule), after destroy removed the workdir
    folder = os.path.join(CONF["project"], ".cache", "molecule")
    os.makedirs(folder, exist_ok=True)
    with open(os.path.join(folder, "reliability-figures.json"), "w") as handle:
        json.dump(FIGURES, handle, indent=2, sort_keys=True)


def assert_nothing_lost(counts):
    assert counts["lost"] == 0, counts
    assert counts["duplicated"] == 0, counts
    assert counts["failed"] == 0, counts
    assert counts["unanswered"] == 0, counts
    assert counts["acknowledged"] == counts["sent"] > 100, counts


def podman(host, *command):
    return subprocess.run(["podman", "exec", host] + list(command), capture_output=True, text=True, check=True).stdout


def test_a_property_change_rolls_every_node_under_load():
    assert "100" not in running_retention().values()
    load = start_load("reliability-a")
    report = playbook("site.yml", properties(100))
    counts = load.count()
    rolls = roll_of(report)
    leader = result_of(report, "Read which controller leads the quorum")["quorum"]["leader_id"]
    record("a_property_change", dict(counts, **roll_figures(rolls), leader_before=leader))
    assert sorted(r["node"] for r in rolls) == [1, 2, 3], rolls
    assert rolls[-1]["node"] == leader, "the active controller %s was not restarted last: %s" % (leader, rolls)
    assert running_retention() == {1: "100", 2: "100", 3: "100"}
    assert_nothing_lost(counts)


def test_d_site_killed_after_its_first_restart_is_finished_by_the_next_run():
    load = start_load("reliability-d")
    run = playbook("site.yml", properties(101), background=True)
    kill_after_first_restart(run, HOSTS)
    after_kill = wait_for_answers(running_retention)
    stale = sorted(node for node, value in after_kill.items() if value != "101")
    print("killed after the first restart: brokers run %s" % after_kill)
    assert 1 <= len(stale) <= 2, "the kill was not between two restarts: %s" % after_kill
    report = playbook("site.yml", properties(101))
    counts = load.count()
    rolls = roll_of(report)
    record("d_killed_and_run_again", dict(counts, **roll_figures(rolls), stale_after_kill=stale))
    assert sorted(r["node"] for r in rolls) == stale, "the next run restarted %s, stale were %s" % (rolls, stale)
    assert running_retention() == {1: "101", 2: "101", 3: "101"}
    assert_nothing_lost(counts)


def wait_for_answers(read, seconds=300):
    """``read()`` once every broker answers (a restarted one is starting when the run is killed)."""
    deadline = time.monotonic() + seconds
    while True:
        found = read()
        if found is not None and None not in found.values() and len(found) == len(BY_ID):
            return found
        assert time.monotonic() < deadline, "the brokers did not all answer: %s" % (found,)
        time.sleep(1)


def gate(node, phase, timeout, expect_failure):
    """kafka_restart_gate from the control node, as the role calls it."""
    args = {"bootstrap_servers": BOOTSTRAP, "node_id": node, "roles": ["broker", "controller"], "phase": phase,
            "expected_brokers": [1, 2, 3], "expected_voters": [1, 2, 3], "timeout": timeout, "request_timeout": 5}
    cmd = [os.path.join(os.path.dirname(sys.executable), "ansible"), "localhost", "-m", "kafkaops.platform.kafka_restart_gate",
           "-a", json.dumps(args)]
    env = dict(os.environ, ANSIBLE_STDOUT_CALLBACK="json", ANSIBLE_LOAD_CALLBACK_PLUGINS="1", ANSIBLE_NOCOLOR="1")
    process = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=timeout + 120, check=False)
    report = json.loads(process.stdout[process.stdout.index("{"):])
    result = report["plays"][0]["tasks"][0]["hosts"]["localhost"]
    assert bool(result.get("failed")) == expect_failure, result
    return result


def test_g_gate_refuses_below_min_isr_and_without_a_leader_and_waits_for_the_return():
    three, two = BY_ID[3], BY_ID[2]
    podman(three, "systemctl", "stop", "kafka-broker")
    try:
        refused = gate(1, "before", 15, expect_failure=True)
        assert "would fall below min.insync.replicas without broker 1" in refused["msg"], refused["msg"]
        assert any("reliability-a-" in p for p in refused["problems"]), refused["problems"]
        podman(two, "systemctl", "stop", "kafka-broker")
        try:
            leaderless = gate(1, "before", 10, expect_failure=True)
            assert "the controller quorum has no leader" in leaderless["msg"], leaderless["msg"]
        finally:
            podman(two, "systemctl", "start", "kafka-broker")
    finally:
        podman(three, "systemctl", "start", "kafka-broker")
    back = gate(3, "after", 300, expect_failure=False)
    record("g_gate", {"refused_min_isr": refused["msg"][:300], "refused_no_leader": leaderless["msg"][:300],
                      "waited_for_return_s": back["waited"], "progress": back["progress"]})
    assert back["waited"] > 0 and len(back["progress"]) >= 2, back
    assert gate(1, "before", 30, expect_failure=False)["problems"] == []


def log_dirs_of(node):
    with KafkaAdmin(BOOTSTRAP, request_timeout=5) as client:
        return {d["log_dir"]: d["error_code"] for b in client.log_dir_states() if b["broker"] == node for d in b["log_dirs"]}


def test_g_gate_refuses_while_a_log_directory_is_offline():
    two, broken = BY_ID[2], "/var/lib/kafka/kafka-broker-2"
    assert log_dirs_of(2) == {"/var/lib/kafka/kafka-broker": 0, broken: 0}
    podman(two, "chmod", "000", broken)
    try:
        # broker 2 spreads partitions over both directories: the first write into the unwritable one
        # (a new partition placed there, a segment it holds) fails, and the broker takes the
        # directory offline and keeps running on the other
        with KafkaAdmin(BOOTSTRAP) as client:
            client.create_topic("reliability-g-disk", assignments={p: [2, 1, 3] for p in range(6)})
        deadline = time.monotonic() + 120
        while log_dirs_of(2).get(broken) != 56:  # KAFKA_STORAGE_ERROR
            assert time.monotonic() < deadline, "the log directory never went offline: %s" % log_dirs_of(2)
            time.sleep(1)
        refused = gate(1, "before", 10, expect_failure=True)
        assert "broker 2: log directory %s is offline" % broken in refused["msg"], refused["msg"]
    finally:
        podman(two, "chmod", "0750", broken)
    # an offline directory comes back only with a restart of its broker
    podman(two, "systemctl", "restart", "kafka-broker")
    back = gate(2, "after", 300, expect_failure=False)
    with KafkaAdmin(BOOTSTRAP) as client:
        client.delete_topic("reliability-g-disk")
    FIGURES["g_gate"].update(refused_log_dir_offline=refused["msg"][:300], back_after_log_dir_repair_s=back["waited"])
    record("g_gate", FIGURES["g_gate"])
    assert log_dirs_of(2) == {"/var/lib/kafka/kafka-broker": 0, broken: 0}


# -- c: a broker killed while a throttled reassignment moves data onto it -------------------------
THROTTLE_KEYS = ("leader.replication.throttled.rate", "follower.replication.throttled.rate",
                 "leader.replication.throttled.replicas", "follower.replication.throttled.replicas")


def throttles_left(client):
    found = {}
    for name, configs in client.configs("topic", ["reliability-c-data"]).items():
        found.update({("topic", name, k): v for k, v in configs.items() if k in THROTTLE_KEYS and v})
    for name, configs in client.configs("broker", sorted(BY_ID)).items():
        found.update({("broker", name, k): v for k, v in configs.items() if k in THROTTLE_KEYS and v})
    return found


def test_c_broker_killed_during_a_throttled_reassignment_is_restarted_later_and_the_move_finishes():
    with KafkaAdmin(BOOTSTRAP) as client:
        # 6 partitions on brokers 1 and 2 only: the rebalance moves a third of the replicas onto 3
        client.create_topic("reliability-c-data", assignments={p: [1 + p % 2, 2 - p % 2] for p in range(6)})
    with KafkaProducer(bootstrap_servers=BOOTSTRAP, acks="all", linger_ms=20) as producer:
        for number in range(24000):
            producer.send("reliability-c-data", value=b"%09d" % number + b"c" * 991)
        producer.flush()
    load = start_load("reliability-c")
    run = playbook("rebalance.yml", {"platform_rebalance_throttle": 1048576}, background=True)
    deadline = time.monotonic() + 600
    moving = {}
    while time.monotonic() < deadline and run.poll() is None and not moving:
        try:
            with KafkaAdmin(BOOTSTRAP, request_timeout=5) as client:
                moving = client.reassignments()
        except Exception as exc:
            print("reassignments: %s" % exc)
        time.sleep(0.5)
    assert moving, "no reassignment was seen moving (rebalance.yml rc %s)" % run.poll()
    podman(BY_ID[3], "systemctl", "kill", "--signal=SIGKILL", "kafka-broker")
    podman(BY_ID[3], "systemctl", "stop", "kafka-broker")  # no automatic restart: it comes back later
    killed_at = time.monotonic()
    time.sleep(20)
    podman(BY_ID[3], "systemctl", "start", "kafka-broker")
    run.wait(timeout=1200)
    assert run.returncode == 0, "rebalance.yml failed after the broker came back (rc %s): %s" % (run.returncode, failures(run))
    finished_after_kill = round(time.monotonic() - killed_at, 1)
    counts = load.count()
    with KafkaAdmin(BOOTSTRAP) as client:
        left = throttles_left(client)
        ongoing = client.reassignments()
        on_three = [p for p in client.partitions() if p["topic"] == "reliability-c-data" and 3 in p["replicas"]]
        # the moved partitions are in sync when the move ends; the restarted broker may still be
        # catching up on the other topics (a loaded machine recovers its logs slowly): it must get there
        health = client.wait_healthy([1, 2, 3], timeout=300)
    record("c_broker_killed_during_reassignment", dict(
        counts, moving_when_killed=len(moving), down_s=20, finished_after_kill_s=finished_after_kill,
        in_sync_after_kill_s=round(time.monotonic() - killed_at, 1), partitions_moved_onto_3=len(on_three)))
    assert ongoing == {} and left == {}, (ongoing, left)
    assert on_three and health["healthy"], (on_three, health)
    assert counts["lost"] == 0 and counts["duplicated"] == 0, counts
    assert counts["acknowledged"] + counts["failed"] == counts["sent"], counts


# metadata.version levels as Kafka's upgrade notes name them: 4.2's highest production level is
# 4.2-IV1 (29), 4.3's is 4.3-IV0 (30)
LEVEL_4_2, LEVEL_4_3 = 29, 30
UPGRADE = {"platform_kafka_version": "4.3.1",
           "platform_kafka_archive_src": os.path.join(CONF["project"], ".cache/kafka/kafka_2.13-4.3.1.tgz")}


def levels():
    """(each registered broker's highest supported metadata.version, the finalized one), asked of the
    brokers (ApiVersions), or None while the cluster does not answer."""
    try:
        with KafkaAdmin(BOOTSTRAP, request_timeout=5) as client:
            found = client.features()
    except Exception as exc:
        print("features: %s" % exc)
        return None
    return ({broker: high for broker, (_low, high) in found["supported"].get("metadata.version", {}).items()},
            found["finalized"].get("metadata.version"))


def wait_for_levels(predicate, seconds=300):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        found = levels()
        if found is not None and predicate(found):
            return found
        time.sleep(1)
    raise AssertionError("brokers never reached the expected metadata.version state: %s" % (levels(),))


def test_b_upgrade_killed_mid_roll_is_finished_by_the_next_run_and_finalized():
    assert levels() == ({1: LEVEL_4_2, 2: LEVEL_4_2, 3: LEVEL_4_2}, LEVEL_4_2)
    load = start_load("reliability-b")
    run = playbook("upgrade.yml", UPGRADE, background=True)
    kill_after_first_restart(run, HOSTS)
    mixed = wait_for_levels(lambda found: len(found[0]) == 3)
    print("killed mid-roll: brokers support %s, finalized %s" % mixed)
    old = sorted(broker for broker, level in mixed[0].items() if level == LEVEL_4_2)
    assert mixed[1] == LEVEL_4_2, "finalized before every broker ran 4.3: %s" % (mixed,)
    assert 1 <= len(old) <= 2, "the kill was not between two restarts: %s" % (mixed,)
    report = playbook("upgrade.yml", UPGRADE)
    counts = load.count()
    rolls = roll_of(report)
    record("b_upgrade_killed_and_run_again", dict(counts, **roll_figures(rolls), old_after_kill=old))
    assert sorted(r["node"] for r in rolls) == old, "the next run restarted %s, on 4.2 were %s" % (rolls, old)
    assert levels() == ({1: LEVEL_4_3, 2: LEVEL_4_3, 3: LEVEL_4_3}, LEVEL_4_3)
    assert_nothing_lost(counts)


def test_b_downgrade_past_the_finalized_version_is_refused_before_any_host_changes():
    # the inventory still names 4.2.0
    report = playbook("upgrade.yml", expect_failure=True)
    assert [name.split(" : ")[-1] for name, _host, _msg in report["failed"]] == [
        "Check that the cluster's metadata.version lets this release run, Kafka 4.2.0"], report["failed"]
    message = report["failed"][0][2]
    assert "Kafka 4.2.0 supports metadata.version up to 4.2-IV1 (29)" in message, message
    assert "finalized at 4.3-IV0 (30)" in message, message
    assert {host: stats["changed"] for host, stats in report["stats"].items()} == {host: 0 for host in HOSTS}
    assert levels() == ({1: LEVEL_4_3, 2: LEVEL_4_3, 3: LEVEL_4_3}, LEVEL_4_3)
