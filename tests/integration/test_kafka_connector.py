# Copyright: kafkaops.platform contributors
# Apache-2.0 (see LICENSE)
"""kafka_connector and kafka_connect_info against two real Connect workers (distributed mode, from
the Kafka distribution the collection installs) on the shared one-node cluster, run through
ansible-playbook. One Connect cluster serves every case, in order: a FileStream source whose
input file is named through the ``file`` config provider (check mode, creation, records counted
in Kafka, idempotence, the resolved value in no answer); a config change with check mode and
diff; a config the plugin refuses; pause (no new records) and resume (they flow); stop and the
offset moved back in one task, and the file read again; a sink task that fails, its trace in
the error, and a restart of only the failed task; and last, the worker running a task killed
with SIGKILL, the task running again on the other worker."""

from __future__ import annotations

import secrets
import time

import pytest
from connect_local import LocalConnect
from kafka_local import quiet_kafka_python

SOURCE_CLASS = "org.apache.kafka.connect.file.FileStreamSourceConnector"
SINK_CLASS = "org.apache.kafka.connect.file.FileStreamSinkConnector"


@pytest.fixture(scope="module")
def connect(kafka_plaintext):
    with LocalConnect(kafka_plaintext, workers=2) as workers:
        yield workers


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    """Input and output files, and the secrets file the ``file`` provider reads (0600)."""
    base = tmp_path_factory.mktemp("connect")
    lines = base / "input.txt"
    lines.write_text("".join("line-%03d\n" % i for i in range(50)))
    secret_file = base / "secrets.properties"
    secret_file.write_text("input=%s\n" % lines)
    secret_file.chmod(0o600)
    return {"base": base, "input": lines, "secrets": secret_file}


def unique(prefix):
    return "%s-%s" % (prefix, secrets.token_hex(3))


def task(title, url, **options):
    return {"name": title, "kafkaops.platform.kafka_connector": dict({"url": url}, **options)}


def values(kafka, topic, expect=None, timeout=30.0):
    """Every value in ``topic``, read from the start; with ``expect``, read again until that many
    are there (or ``timeout``)."""
    from kafka import KafkaConsumer

    deadline = time.monotonic() + timeout
    while True:
        with quiet_kafka_python():
            consumer = KafkaConsumer(topic, **kafka.client_config(), auto_offset_reset="earliest",
                                     consumer_timeout_ms=3000, enable_auto_commit=False)
            try:
                found = [record.value.decode() for record in consumer]
            finally:
                consumer.close()
        if expect is None or len(found) >= expect or time.monotonic() >= deadline:
            return found


def status(connect, name, index=1):
    return connect.get("/connectors/%s/status" % name, index)


def wait_status(connect, name, check, timeout=60, index=1):
    deadline = time.monotonic() + timeout
    while True:
        found = status(connect, name, index)
        if check(found) or time.monotonic() >= deadline:
            return found
        time.sleep(0.5)


@pytest.fixture(scope="module")
def source(connect, files):
    return {"name": unique("lines"), "topic": unique("lines"),
            "config": {"connector.class": SOURCE_CLASS, "tasks.max": 1, "batch.size": 2000,
                       "file": "${file:%s:input}" % files["secrets"],
                       # the cluster does not create topics on use; the worker creates this one
                       "topic.creation.default.replication.factor": 1, "topic.creation.default.partitions": 1}}


def source_task(connect, source, title="Lines into Kafka", **options):
    config = dict(source["config"], topic=source["topic"])
    return task(title, connect.url(1), name=source["name"], config=config, **options)


def test_create_check_mode_records_and_idempotence(connect, kafka_plaintext, files, source, ansible_playbook):
    create = source_task(connect, source, state="running")
    checked = ansible_playbook([create], check=True, diff=True).results[0]
    assert checked["changed"] is True and checked["actions"] == ["created"]
    assert connect.get("/connectors") == [], "check mode created the connector"
    created, again = ansible_playbook([create, dict(create, name="Again")]).results
    assert created["changed"] is True and created["connector"] == "RUNNING"
    assert [t["state"] for t in created["tasks"]] == ["RUNNING"]
    assert again["changed"] is False and again["actions"] == []
    got = values(kafka_plaintext, source["topic"], expect=50)
    assert sorted(got) == ["line-%03d" % i for i in range(50)]
    # the provider resolved the file name for the connector; no answer shows it
    resolved = str(files["input"])
    stored = connect.get("/connectors/%s/config" % source["name"])
    assert stored["file"] == source["config"]["file"]
    for answer in (stored, connect.get("/connectors?expand=info&expand=status"), created, again):
        assert resolved not in repr(answer)


def test_config_change_check_mode_diff_and_refusal(connect, source, ansible_playbook):
    changed = source_task(connect, source, title="Bigger batches")
    # (a batch smaller than what one read of the file returns would leave lines unread until the
    # file grows: FileStreamSourceTask only splits lines after a read)
    changed["kafkaops.platform.kafka_connector"]["config"]["batch.size"] = 1000
    checked = ansible_playbook([changed], check=True, diff=True).results[0]
    assert checked["changed"] is True and checked["config_changes"]["changed"] == ["batch.size"]
    assert "batch.size=2000" in checked["diff"]["before"] and "batch.size=1000" in checked["diff"]["after"]
    assert connect.get("/connectors/%s/config" % source["name"])["batch.size"] == "2000"
    applied, again = ansible_playbook([changed, dict(changed, name="Again")]).results
    assert applied["changed"] is True and again["changed"] is False
    assert connect.get("/connectors/%s/config" % source["name"])["batch.size"] == "1000"
    source["config"]["batch.size"] = 1000
    # a config the plugin refuses: the key is named, nothing changes
    refused = task("No topic", connect.url(2), name=unique("refused"),
                   config={"connector.class": SINK_CLASS, "file": "/tmp/x"})
    run = ansible_playbook([refused], expect_failure=True)
    assert "the plugin refuses this config" in run.results[0]["msg"]
    assert "topics" in run.results[0]["msg"], run.results[0]["msg"]
    assert len(connect.get("/connectors")) == 1


def test_pause_stops_the_flow_and_resume_restarts_it(connect, kafka_plaintext, files, source, ansible_playbook):
    paused = ansible_playbook([source_task(connect, source, state="paused")]).results[0]
    assert paused["changed"] is True and paused["connector"] == "PAUSED"
    with open(files["input"], "a") as handle:
        handle.write("".join("more-%03d\n" % i for i in range(10)))
    time.sleep(5)
    assert len(values(kafka_plaintext, source["topic"])) == 50, "records flowed while paused"
    resumed = ansible_playbook([source_task(connect, source, state="running")]).results[0]
    assert resumed["changed"] is True and resumed["actions"] == ["resumed"] and resumed["connector"] == "RUNNING"
    assert len(values(kafka_plaintext, source["topic"], expect=60)) == 60


def test_stop_and_offsets_back_in_one_task_then_read_again(connect, kafka_plaintext, source, ansible_playbook):
    offsets = connect.get("/connectors/%s/offsets" % source["name"])["offsets"]
    assert len(offsets) == 1 and offsets[0]["offset"]["position"] > 0
    back = [{"partition": offsets[0]["partition"], "offset": {"position": 0}}]
    refused = ansible_playbook([source_task(connect, source, state="stopped", offsets=back)], expect_failure=True)
    assert "allow_offset_changes: true" in refused.results[0]["msg"]
    move = source_task(connect, source, state="stopped", offsets=back, allow_offset_changes=True)
    checked = ansible_playbook([move], check=True).results[0]
    assert checked["changed"] is True and checked["actions"] == ["stopped", "offsets altered"]
    assert status(connect, source["name"])["connector"]["state"] == "RUNNING"
    assert connect.get("/connectors/%s/offsets" % source["name"])["offsets"] == offsets
    # stopping and moving the offset in one task: the module waits for the stop before the offsets
    moved, again = ansible_playbook([move, dict(move, name="Again")]).results
    assert moved["actions"] == ["stopped", "offsets altered"]
    assert moved["connector"] == "STOPPED" and moved["tasks"] == []
    assert again["changed"] is False
    assert connect.get("/connectors/%s/offsets" % source["name"])["offsets"][0]["offset"]["position"] == 0
    ansible_playbook([source_task(connect, source, state="running")])
    assert len(values(kafka_plaintext, source["topic"], expect=120)) == 120  # the whole file once more


def test_a_failed_task_names_its_trace_and_only_it_restarts(connect, kafka_plaintext, files, source, ansible_playbook):
    out_dir = files["base"] / unique("out")
    sink = task("Topic into a file", connect.url(2), name=unique("sink"), state="running", timeout=30,
                config={"connector.class": SINK_CLASS, "tasks.max": 1, "topics": source["topic"],
                        "file": str(out_dir / "lines.txt")})
    run = ansible_playbook([sink], expect_failure=True)
    message = run.results[0]["msg"]
    assert "failed: task 0 on" in message and "NoSuchFileException" in message, message
    name = sink["kafkaops.platform.kafka_connector"]["name"]
    out_dir.mkdir()
    restart = task("Restart what failed", connect.url(1), name=name, restart=True)
    checked = ansible_playbook([restart], check=True).results[0]
    assert checked["changed"] is True and checked["restarted"][0].startswith("task 0 on")
    restarted, again = ansible_playbook([restart, dict(restart, name="Again")]).results
    assert restarted["changed"] is True and [t["state"] for t in restarted["tasks"]] == ["RUNNING"]
    assert again["changed"] is False
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and len((out_dir / "lines.txt").read_text().splitlines()) < 120:
        time.sleep(0.5)
    assert len((out_dir / "lines.txt").read_text().splitlines()) == 120
    info = ansible_playbook([{"name": "Describe", "kafkaops.platform.kafka_connect_info": {
        "url": connect.url(2), "wait_plugins": [SOURCE_CLASS, SINK_CLASS], "wait_running": True, "offsets": True}}])
    described = info.results[0]
    assert set(described["connectors"]) == {source["name"], name}
    with kafka_plaintext.admin() as admin:
        assert described["server"]["kafka_cluster_id"] == admin.cluster()["cluster_id"]
    removed = ansible_playbook([task("Remove", connect.url(1), name=name, state="absent")] * 2).results
    assert [r["changed"] for r in removed] == [True, False]


def test_a_killed_worker_s_task_runs_again_on_the_other(connect, kafka_plaintext, files, source, ansible_playbook):
    found = status(connect, source["name"])
    victim = next(w for w in connect.workers.values() if w.worker_id == found["tasks"][0]["worker_id"])
    survivor = next(w for w in connect.workers.values() if w is not victim)
    started = time.monotonic()
    connect.kill_worker(victim.index)
    moved = wait_status(connect, source["name"], lambda s: s["tasks"] and s["tasks"][0]["state"] == "RUNNING"
                        and s["tasks"][0]["worker_id"] == survivor.worker_id, timeout=90, index=survivor.index)
    failover = time.monotonic() - started
    assert moved["tasks"][0]["worker_id"] == survivor.worker_id, moved
    print("\nfailover of the killed worker's task: %.1f s" % failover)
    report = ansible_playbook([task("Still running", connect.url(survivor.index), name=source["name"],
                                    state="running")]).results[0]
    assert report["changed"] is False and report["connector"] == "RUNNING"
    assert report["tasks"][0]["worker_id"] == survivor.worker_id
    with open(files["input"], "a") as handle:
        handle.write("after-failover\n")
    assert "after-failover" in values(kafka_plaintext, source["topic"], expect=121)
