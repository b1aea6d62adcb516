# Copyright: kafkaops.platform contributors
# Apache-2.0 (see LICENSE)
"""Tests of _kubernetes.diagnosis: the message that says why pods did not become ready, from Pods,
Events, PersistentVolumeClaims and log lines shaped as the API server and k8s_log return them."""

from __future__ import annotations

import pytest
from ansible.errors import AnsibleFilterError
from hypothesis import given
from hypothesis import strategies as st

from ansible_collections.kafkaops.platform.plugins.filter import platform
from ansible_collections.kafkaops.platform.plugins.module_utils._kubernetes import diagnosis as diag

IMAGE_MESSAGE = 'Container image "kafkaops/kafka:4.3.1" is not present with pull policy of Never'
UNBOUND = "0/1 nodes are available: pod has unbound immediate PersistentVolumeClaims. preemption: 0/1 nodes are available: " \
          "1 Preemption is not helpful for scheduling."


def pod(name, phase="Running", ready=False, containers=(), init_containers=(), conditions=None, claims=()):
    """A Pod as k8s_info returns it (a StatefulSet pod: its claims in spec.volumes)."""
    if conditions is None:
        conditions = [{"type": "PodScheduled", "status": "True"},
                      {"type": "Ready", "status": "True" if ready else "False", "reason": "ContainersNotReady",
                       "message": "containers with unready status: [kafka]"}]
    volumes = [{"name": "data", "persistentVolumeClaim": {"claimName": claim}} for claim in claims]
    volumes.append({"name": "kube-api-access-x", "projected": {"sources": []}})
    status = {"phase": phase, "conditions": conditions}
    if containers:
        status["containerStatuses"] = list(containers)
    if init_containers:
        status["initContainerStatuses"] = list(init_containers)
    return {"kind": "Pod", "metadata": {"name": name, "namespace": "kafka-pods"},
            "spec": {"containers": [{"name": "kafka"}], "volumes": volumes}, "status": status}


def container(name="kafka", state=None, last=None, restarts=0, ready=False):
    return {"name": name, "ready": ready, "restartCount": restarts, "image": "kafkaops/kafka:4.3.1",
            "state": state or {"running": {"startedAt": "2026-01-01T10:00:00Z"}}, "lastState": last or {}}


def event(kind, name, reason, message, type_="Warning", count=1, time="2026-01-01T10:00:00Z", **extra):
    found = {"kind": "Event", "metadata": {"name": "%s.%s" % (name, reason), "namespace": "kafka-pods"},
             "involvedObject": {"kind": kind, "name": name, "namespace": "kafka-pods"},
             "type": type_, "reason": reason, "message": message, "count": count, "lastTimestamp": time}
    found.update(extra)
    return found


def claim(name, phase="Pending"):
    return {"kind": "PersistentVolumeClaim", "metadata": {"name": name, "namespace": "kafka-pods"},
            "spec": {"storageClassName": "nope"}, "status": {"phase": phase}}


def ready_pod(name):
    return pod(name, ready=True, containers=[container(ready=True)])


def test_image_not_present():
    pods = [pod("kafka-combined-0", phase="Pending", containers=[
        container(state={"waiting": {"reason": "ErrImageNeverPull", "message": IMAGE_MESSAGE}})])]
    events = [event("Pod", "kafka-combined-0", "Scheduled", "Successfully assigned kafka-pods/kafka-combined-0 to node1",
                    type_="Normal", time="2026-01-01T09:59:00Z"),
              event("Pod", "kafka-combined-0", "ErrImageNeverPull", IMAGE_MESSAGE, count=3),
              event("Pod", "other-0", "ErrImageNeverPull", "not this pod")]
    message = diag.pod_problems(pods, ["kafka-combined-0"], events=events, timeout=300, namespace="kafka-pods")
    assert message == (
        "pods not ready after 300s in namespace kafka-pods: kafka-combined-0 (Pending; container kafka waiting: "
        "ErrImageNeverPull: %s; events: Warning ErrImageNeverPull x3: %s)" % (IMAGE_MESSAGE, IMAGE_MESSAGE))


def test_claim_cannot_bind():
    conditions = [{"type": "PodScheduled", "status": "False", "reason": "Unschedulable", "message": UNBOUND}]
    pods = [pod("kafka-combined-0", phase="Pending", conditions=conditions, claims=["data-kafka-combined-0"])]
    events = [event("Pod", "kafka-combined-0", "FailedScheduling", UNBOUND),
              event("PersistentVolumeClaim", "data-kafka-combined-0", "ProvisioningFailed",
                    'storageclass.storage.k8s.io "nope" not found', count=12),
              event("PersistentVolumeClaim", "data-kafka-combined-1", "ProvisioningFailed", "another pod's claim")]
    claims = [claim("data-kafka-combined-0"), claim("data-kafka-combined-1")]
    message = diag.pod_problems(pods, ["kafka-combined-0"], events=events, claims=claims, timeout=300, namespace="kafka-pods")
    assert message == (
        "pods not ready after 300s in namespace kafka-pods: kafka-combined-0 (Pending; "
        "not scheduled: Unschedulable: %s; events: Warning FailedScheduling: %s; "
        "volume claim data-kafka-combined-0: Pending, events: Warning ProvisioningFailed x12: "
        'storageclass.storage.k8s.io "nope" not found)' % (UNBOUND, UNBOUND))
    assert "another pod's claim" not in message


def test_bound_claims_without_warnings_are_left_out_and_waiting_claims_show_their_normal_events():
    pods = [pod("kafka-0", phase="Pending", claims=["data-kafka-0", "logs-kafka-0"])]
    events = [event("PersistentVolumeClaim", "data-kafka-0", "ProvisioningSucceeded", "volume created", type_="Normal"),
              event("PersistentVolumeClaim", "logs-kafka-0", "WaitForFirstConsumer",
                    "waiting for first consumer to be created before binding", type_="Normal")]
    message = diag.pod_problems(pods, ["kafka-0"], events=events, claims=[claim("data-kafka-0", "Bound"), claim("logs-kafka-0")])
    assert message == ("pods not ready: kafka-0 (Pending; volume claim logs-kafka-0: Pending, events: "
                       "Normal WaitForFirstConsumer: waiting for first consumer to be created before binding)")


def test_crash_loop_with_exit_code_and_log_lines():
    crashed = container(state={"waiting": {"reason": "CrashLoopBackOff",
                                           "message": "back-off 5m0s restarting failed container=kafka pod=kafka-combined-0_kafka-pods(1)"}},
                        last={"terminated": {"reason": "Error", "exitCode": 1, "startedAt": "2026-01-01T10:00:00Z"}},
                        restarts=7)
    pods = [pod("kafka-combined-0", containers=[crashed],
                init_containers=[container("config", state={"terminated": {"reason": "Completed", "exitCode": 0}})])]
    logs = {"kafka-combined-0": ["[2026-01-01 10:00:01,000] INFO starting (kafka.Kafka$)",
                                 "[2026-01-01 10:00:02,000] ERROR Exiting Kafka due to fatal exception (kafka.Kafka$)",
                                 "java.lang.IllegalArgumentException: requirement failed:\tnode.id must be set", ""]}
    events = [event("Pod", "kafka-combined-0", "BackOff", "Back-off restarting failed container kafka in pod kafka-combined-0",
                    count=30)]
    message = diag.pod_problems(pods, ["kafka-combined-0"], events=events, logs=logs, timeout="5m")
    assert message == (
        "pods not ready after 5m: kafka-combined-0 (Running; container kafka waiting: CrashLoopBackOff: back-off 5m0s restarting "
        "failed container=kafka pod=kafka-combined-0_kafka-pods(1), last terminated: Error, exit code 1, restarts: 7; "
        "events: Warning BackOff x30: Back-off restarting failed container kafka in pod kafka-combined-0; "
        "last log lines: [2026-01-01 10:00:01,000] INFO starting (kafka.Kafka$) | [2026-01-01 10:00:02,000] ERROR Exiting "
        "Kafka due to fatal exception (kafka.Kafka$) | java.lang.IllegalArgumentException: requirement failed: node.id must be set)")
    assert "init container" not in message  # the init container did its work


def test_a_failing_init_container_a_killed_container_and_a_running_one_that_is_not_ready():
    pods = [pod("kafka-0", phase="Pending", init_containers=[
                container("plugins", state={"terminated": {"reason": "Error", "exitCode": 2, "message": "sha256\nmismatch"}},
                          restarts=1)]),
            pod("kafka-1", containers=[container(last={"terminated": {"reason": "OOMKilled", "exitCode": 137}}, restarts=1)])]
    message = diag.pod_problems(pods, ["kafka-0", "kafka-1"], namespace="kafka-pods")
    assert message.splitlines() == [
        "pods not ready in namespace kafka-pods: kafka-0 (Pending; init container plugins terminated: Error, exit code 2: "
        "sha256 mismatch, restarts: 1)",
        "kafka-1 (Running; container kafka running, not ready, last terminated: OOMKilled, exit code 137, restarts: 1)"]


def test_ready_pods_are_left_out_and_missing_pods_are_not_created():
    pods = [ready_pod("kafka-combined-0"), pod("kafka-combined-1", phase="Pending"), ready_pod("unrelated-0")]
    events = [event("StatefulSet", "kafka-combined", "FailedCreate",
                    'create Pod kafka-combined-2 in StatefulSet kafka-combined failed error: pods "kafka-combined-2" is '
                    "forbidden: violates PodSecurity"),
              event("StatefulSet", "kafka-combined", "FailedCreate", "create Pod kafka-combined-20 in StatefulSet failed")]
    message = diag.pod_problems(pods, ["kafka-combined-0", "kafka-combined-1", "kafka-combined-2", "kafka-combined-1"],
                                events=events, claims=[claim("data-kafka-combined-2", "Lost"), claim("data-kafka-combined-0")],
                                timeout=60)
    assert message.splitlines() == [
        "pods not ready after 60s: kafka-combined-1 (Pending)",
        "kafka-combined-2 (not created; events: StatefulSet/kafka-combined Warning FailedCreate: create Pod kafka-combined-2 "
        'in StatefulSet kafka-combined failed error: pods "kafka-combined-2" is forbidden: violates PodSecurity; '
        "volume claim data-kafka-combined-2: Lost)"]


def test_all_ready_is_empty():
    pods = [ready_pod("kafka-combined-0"), ready_pod("kafka-combined-1")]
    assert diag.pod_problems(pods, ["kafka-combined-0", "kafka-combined-1"], events=[event("Pod", "kafka-combined-0", "x", "y")],
                             timeout=300, namespace="kafka-pods") == ""
    assert diag.pod_problems([], []) == ""


def test_log_lines_are_cut_and_only_the_last_ones_kept():
    lines = ["line %d" % number for number in range(20)] + ["x" * 1000, "\x1b[31mred\x1b[0m  and\ttabs"]
    message = diag.pod_problems([pod("kafka-0")], ["kafka-0"], logs={"kafka-0": lines})
    shown = message.split("last log lines: ", 1)[1].rstrip(")").split(" | ")
    assert shown == ["line %d" % number for number in range(12, 20)] + ["x" * 297 + "...", "red and tabs"]
    assert len(shown[-2]) == diag.LINE_LIMIT
    # the text of a log (k8s_log's ``log``) is split into lines
    assert diag.pod_problems([pod("kafka-0")], ["kafka-0"], logs={"kafka-0": "a\r\nb\n\n"}).endswith("last log lines: a | b)")


def test_java_stack_frames_are_left_out_of_the_log_lines():
    lines = ["[2026-12-04 21:40:01] ERROR Exiting Kafka due to fatal exception (kafka.Kafka$)",
             "org.apache.kafka.common.config.ConfigException: Invalid value com.example.NoSuchBuilder for configuration "
             "principal.builder.class: Class com.example.NoSuchBuilder could not be found."]
    lines += ["\tat org.apache.kafka.common.config.ConfigDef.parseType(ConfigDef.java:%d)" % number for number in range(30)]
    lines += ["Caused by: java.lang.ClassNotFoundException: com.example.NoSuchBuilder", "\t... 12 more",
              "  at kafka.Kafka$.main(Kafka.scala:99)"]
    message = diag.pod_problems([pod("kafka-0")], ["kafka-0"], logs={"kafka-0": lines})
    assert message.split("last log lines: ", 1)[1].rstrip(")").split(" | ") == [
        lines[0], lines[1], "Caused by: java.lang.ClassNotFoundException: com.example.NoSuchBuilder"]
    # a line that only looks like a frame inside other text is kept
    assert "a shell said: at line 3" in diag.pod_problems([pod("kafka-0")], ["kafka-0"], logs={"kafka-0": ["a shell said: at line 3"]})


def test_the_instance_before_a_restart_comes_before_the_last_lines_and_the_kubelets_no_log_answer_is_left_out():
    # what the real node answered: a crashed container that waits for its restart gives its own lines
    # without ``previous``, and with it the kubelet's message about the instance it has removed
    gone = "unable to retrieve container logs for containerd://4e71310d7a8e53511d72ae3815c19682c4d11955b515c3e3bf75d395bdd669d8"
    message = diag.pod_problems([pod("kafka-0")], ["kafka-0"], logs={"kafka-0": ["Invalid value com.example.X"]},
                                previous_logs={"kafka-0": [gone]})
    assert message.endswith("(Running; last log lines: Invalid value com.example.X)"), message
    assert "unable to retrieve" not in diag.pod_problems([pod("kafka-0")], ["kafka-0"], logs={"kafka-0": gone + "\n"})
    # a container that runs again: why the instance before it exited, then what the new one said so far
    message = diag.pod_problems([pod("kafka-0"), pod("kafka-1")], ["kafka-0", "kafka-1"],
                                logs={"kafka-0": ["starting again"], "kafka-1": ["waiting for the quorum"]},
                                previous_logs={"kafka-0": "Invalid value com.example.X\n\tat a.B.c(B.java:1)\nExiting\n"})
    assert message.splitlines()[0].endswith(
        "kafka-0 (Running; log lines before the last restart: Invalid value com.example.X | Exiting; "
        "last log lines: starting again)"), message
    assert message.splitlines()[1] == "kafka-1 (Running; last log lines: waiting for the quorum)"
    # a line that only mentions the kubelet's words is the container's own
    assert "unable to retrieve container logs for x, retrying" in diag.pod_problems(
        [pod("kafka-0")], ["kafka-0"], logs={"kafka-0": ["unable to retrieve container logs for x, retrying"]})


def test_more_than_five_events_keep_the_newest_warnings():
    events = [event("Pod", "kafka-0", "Unhealthy%d" % minute, "probe %d" % minute,
                    time="2026-01-01T10:%02d:00Z" % minute) for minute in (7, 1, 3, 0, 6, 2, 5, 4)]
    events += [event("Pod", "kafka-0", "Pulled", "normal, left out", type_="Normal", time="2026-01-01T11:00:00Z"),
               # eventTime (events.k8s.io) instead of lastTimestamp, and one without any time: the oldest
               event("Pod", "kafka-0", "Unhealthy8", "probe 8", time=None, eventTime="2026-01-01T10:08:00.000001Z"),
               event("Pod", "kafka-0", "Untimed", "no time", time=None)]
    message = diag.pod_problems([pod("kafka-0")], ["kafka-0"], events=events)
    assert message == ("pods not ready: kafka-0 (Running; events: Warning Unhealthy4: probe 4 | Warning Unhealthy5: probe 5 | "
                       "Warning Unhealthy6: probe 6 | Warning Unhealthy7: probe 7 | Warning Unhealthy8: probe 8)")


def test_partial_objects_do_not_raise():
    pods = [{"metadata": {"name": "kafka-0"}},
            {"metadata": {"name": "kafka-1"}, "status": {"conditions": None, "containerStatuses": [None, {"state": None}]},
             "spec": {"volumes": None}},
            {"metadata": {"name": "kafka-2"}, "status": {"phase": "Pending", "containerStatuses": [
                {"name": "kafka", "state": {"waiting": {}}, "lastState": {"terminated": {"exitCode": "x"}}, "restartCount": None}]},
             "spec": {"volumes": [{"persistentVolumeClaim": None}, {"persistentVolumeClaim": {"claimName": "data-kafka-2"}}]}},
            {"metadata": None}, {}]
    events = [{}, {"involvedObject": None}, {"involvedObject": {"kind": "Pod", "name": "kafka-0"}},
              {"involvedObject": {"kind": "PersistentVolumeClaim", "name": "data-kafka-2"}, "type": "Warning", "count": "many"}]
    message = diag.pod_problems(pods, ["kafka-0", "kafka-1", "kafka-2"], events=events, claims=[{"status": None}],
                                logs={"kafka-1": [None, 3, "ok"], "kafka-2": None})
    assert message.splitlines() == [
        "pods not ready: kafka-0 (phase unknown; events: ? ?)",
        "kafka-1 (phase unknown; last log lines: 3 | ok)",
        "kafka-2 (Pending; container kafka waiting, last terminated: terminated; volume claim data-kafka-2: events: Warning ?)"]


@pytest.mark.parametrize("args, kwargs, message", [
    (("pods", ["kafka-0"]), {}, r"pods must be a list, got a string \('pods'\)"),
    ((None, ["kafka-0"]), {}, "pods must be a list, got null"),
    ((["pod"], ["kafka-0"]), {}, r"pods\[0\] must be a mapping, got a string \('pod'\)"),
    (([], "kafka-0"), {}, r"expected \(the pod names\) must be a list, got a string \('kafka-0'\)"),
    (([], [0]), {}, r"expected\[0\] must be a string, got an integer \(0\)"),
    (([], ["kafka-0"]), {"events": {"a": 1}}, "events must be a list, got a mapping"),
    (([], ["kafka-0"]), {"events": [None]}, r"events\[0\] must be a mapping, got null"),
    (([], ["kafka-0"]), {"claims": "data"}, "claims must be a list"),
    (([], ["kafka-0"]), {"logs": ["line"]}, "logs must be a mapping, got a list"),
    (([], ["kafka-0"]), {"logs": {"kafka-0": 42}}, r"logs\['kafka-0'\] must be a list of log lines or text, got an integer"),
    (([], ["kafka-0"]), {"previous_logs": "line"}, "previous_logs must be a mapping, got a string"),
    (([], ["kafka-0"]), {"previous_logs": {"kafka-0": {}}}, r"previous_logs\['kafka-0'\] must be a list of log lines or text"),
    (([], ["kafka-0"]), {"timeout": [300]}, "timeout must be a number of seconds or a duration like 5m, got a list"),
    (([], ["kafka-0"]), {"timeout": True}, "timeout must be a number of seconds"),
    (([], ["kafka-0"]), {"namespace": 7}, r"namespace must be a string, got an integer \(7\)"),
    (([], ["kafka-0"]), {"namespace": "kafka\n"}, "holds a control character"),
])
def test_bad_input_types_raise(args, kwargs, message):
    with pytest.raises(diag.PodDiagnosisError, match=message):
        diag.pod_problems(*args, **kwargs)


def test_the_filter():
    problems = platform.FilterModule().filters()["kafka_kubernetes_pod_problems"]
    pods = [pod("kafka-0", phase="Pending", containers=[
        container(state={"waiting": {"reason": "ErrImageNeverPull", "message": IMAGE_MESSAGE}})])]
    assert problems(pods, ["kafka-0"], events=[], logs={}, claims=[], timeout=300, namespace="kafka-pods") == (
        "pods not ready after 300s in namespace kafka-pods: kafka-0 (Pending; container kafka waiting: ErrImageNeverPull: %s)"
        % IMAGE_MESSAGE)
    assert problems([ready_pod("kafka-0")], ["kafka-0"]) == ""
    with pytest.raises(AnsibleFilterError, match="^kafka_kubernetes_pod_problems: pods must be a list, got a mapping$"):
        problems({"resources": []}, ["kafka-0"])


JUNK = st.recursive(st.none() | st.booleans() | st.integers() | st.text(max_size=8),
                    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(
                        st.sampled_from(["metadata", "name", "status", "phase", "conditions", "type", "containerStatuses",
                                         "initContainerStatuses", "state", "waiting", "lastState", "terminated", "spec",
                                         "volumes", "persistentVolumeClaim", "claimName", "involvedObject", "kind",
                                         "reason", "message", "count", "lastTimestamp", "restartCount", "exitCode"]),
                        inner, max_size=4), max_leaves=12)


@given(st.lists(st.dictionaries(st.sampled_from(["metadata", "status", "spec"]), JUNK, max_size=3), max_size=3),
       st.lists(st.dictionaries(st.sampled_from(["involvedObject", "type", "reason", "message", "count", "lastTimestamp"]),
                                JUNK, max_size=5), max_size=4))
def test_any_shape_inside_the_objects_gives_one_line_per_pod(pods, events):
    named = [dict(found, metadata={"name": "kafka-%d" % index}) for index, found in enumerate(pods)]
    expected = ["kafka-%d" % index for index in range(len(pods) + 1)]
    message = diag.pod_problems(named, expected, events=events, claims=pods)
    not_ready = [name for name in expected if not diag.is_ready(next((p for p in named if p["metadata"]["name"] == name), None))]
    lines = message.splitlines()
    if lines:
        assert lines[0].startswith("pods not ready: ")
        lines[0] = lines[0][len("pods not ready: "):]
    assert [line.split(" (", 1)[0] for line in lines] == not_ready
    assert all(line.endswith(")") for line in lines)
