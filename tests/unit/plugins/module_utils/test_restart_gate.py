# Copyright: kafkaops.platform contributors
# Apache-2.0 (see LICENSE)
"""Tests of plugins/module_utils/restart_gate.py on made-up cluster states (plain dicts shaped as
KafkaAdmin.quorum(), health(), partitions() and log_dir_states() return them), and of read_state()
and wait() with a fake admin client, a fake clock and a sleep that takes no time."""

from __future__ import annotations

import pytest

from ansible_collections.kafkaops.platform.plugins.module_utils import restart_gate as gate
from ansible_collections.kafkaops.platform.plugins.module_utils.restart_gate import GateError, GateTimeout
from ansible_collections.kafkaops.platform.tests.unit.plugins.modules.utils import Clock

NOW_MS = 1_700_000_000_000  # the leader's clock in DescribeQuorum's answers


# -- made-up states -----------------------------------------------------------------------------
def part(topic, partition, replicas, isr, leader=None):
    """A partition as KafkaAdmin.partitions() returns it."""
    return {"topic": topic, "partition": partition, "leader": isr[0] if leader is None and isr else leader,
            "replicas": list(replicas), "isr": list(isr)}


def voter(node, high_watermark=1000, behind_ms=0, lag=0, timestamps=True):
    """A voter as KafkaAdmin.quorum() returns it: ``behind_ms`` behind the leader's last caught-up
    moment (KIP-836), ``lag`` records behind the high watermark; without ``timestamps`` (Kafka before
    3.3) both timestamps are -1."""
    leo = high_watermark - lag
    return {"id": node, "log_end_offset": leo, "lag": lag,
            "last_fetch_timestamp": NOW_MS - behind_ms if timestamps else -1,
            "last_caught_up_timestamp": NOW_MS - behind_ms if timestamps else -1}


def quorum(leader=1, voters=(1, 2, 3), lagging=(), high_watermark=1000, timestamps=True, behind_ms=60_000, lag=500):
    """A DescribeQuorum answer: ``lagging`` voters are ``behind_ms`` and ``lag`` records behind."""
    return {"leader_id": leader, "leader_epoch": 7, "high_watermark": high_watermark,
            "voters": [voter(v, high_watermark, behind_ms if v in lagging else 0, lag if v in lagging else 0, timestamps)
                       for v in voters],
            "observers": []}


def healthy_partitions():
    """Three brokers, every partition replicated three times and fully in sync."""
    return [part(topic, p, [1, 2, 3], [1, 2, 3]) for topic in ("orders", "payments") for p in range(3)]


def before_state(partitions=None, min_isr=None, log_dirs=None, quorum_state=None, **extra):
    state = {"partitions": healthy_partitions() if partitions is None else partitions,
             "min_isr": {"orders": 2, "payments": 2} if min_isr is None else min_isr,
             "log_dirs": [{"broker": b, "log_dirs": [{"log_dir": "/var/lib/kafka/data", "error_code": 0}]} for b in (1, 2, 3)]
             if log_dirs is None else log_dirs,
             "quorum": quorum() if quorum_state is None else quorum_state}
    state.update(extra)
    return state


def health(*problems):
    """KafkaAdmin.health()'s answer, with ``problems``."""
    return {"healthy": not problems, "problems": list(problems), "partitions": 6,
            "offline_partitions": [], "under_replicated_partitions": [],
            "cluster": {"cluster_id": "AQIDBAUGBwgJCgsMDQ4PEA", "controller_id": 1, "brokers": []}}


# -- min_isr_blockers ---------------------------------------------------------------------------
def test_a_healthy_cluster_lets_broker_2_restart():
    found = gate.min_isr_blockers(2, healthy_partitions(), {"orders": 2, "payments": 2})
    assert found == {"blocking": [], "unavoidable": [], "under_min_isr": []}
    answer = gate.judge(2, ["broker"], "before", before_state())
    assert answer == {"ready": True, "problems": [], "unavoidable": []}


def test_min_isr_at_the_edge_blocks_the_broker_in_the_isr():
    found = gate.min_isr_blockers(2, [part("orders", 0, [1, 2, 3], [1, 2])], {"orders": 2})
    assert found["blocking"] == ["orders-0 (isr [1, 2], min.insync.replicas 2)"]
    assert found["unavoidable"] == [] and found["under_min_isr"] == []


def test_a_full_isr_at_the_same_min_isr_allows_it():
    found = gate.min_isr_blockers(2, [part("orders", 0, [1, 2, 3], [1, 2, 3])], {"orders": 2})
    assert found == {"blocking": [], "unavoidable": [], "under_min_isr": []}


def test_judge_names_the_blocking_partitions():
    parts = healthy_partitions()
    parts[1] = part("orders", 1, [1, 2, 3], [2, 3])
    answer = gate.judge(2, ["broker"], "before", before_state(partitions=parts))
    assert answer["ready"] is False
    assert answer["problems"] == ["1 partition(s) would fall below min.insync.replicas without broker 2: "
                                  "orders-1 (isr [2, 3], min.insync.replicas 2)"]
    # the other brokers of that ISR block too, broker 1 (not in it) does not
    assert gate.judge(3, ["broker"], "before", before_state(partitions=parts))["ready"] is False
    assert gate.judge(1, ["broker"], "before", before_state(partitions=parts))["ready"] is True


def test_judge_shows_five_blocking_partitions_and_counts_the_rest():
    parts = [part("orders", p, [1, 2, 3], [1, 2]) for p in range(7)]
    problem = gate.judge(2, ["broker"], "before", before_state(partitions=parts, min_isr={"orders": 2}))["problems"][0]
    assert problem.startswith("7 partition(s) would fall below min.insync.replicas without broker 2: orders-0 (isr")
    assert "orders-4 (isr" in problem and "orders-5" not in problem
    assert problem.endswith(" and 2 more")


def test_a_partition_already_under_min_isr_is_reported_not_blocking():
    parts = [part("orders", 0, [1, 2, 3], [2])]
    found = gate.min_isr_blockers(2, parts, {"orders": 2})
    assert found == {"blocking": [], "unavoidable": [], "under_min_isr": ["orders-0 (isr [2], min.insync.replicas 2)"]}
    assert gate.judge(2, ["broker"], "before", before_state(partitions=parts))["ready"] is True


@pytest.mark.parametrize("replicas,isr,wanted", [
    ([1, 2], [1, 2], 2),        # RF == min ISR
    ([2], [2], 1),              # a single replica
    ([1, 2], [1, 2], 3),        # RF below min ISR: under min ISR already, never blocking
])
def test_no_more_replicas_than_min_isr_does_not_block(replicas, isr, wanted):
    found = gate.min_isr_blockers(2, [part("logs", 0, replicas, isr)], {"logs": wanted})
    assert found["blocking"] == []
    assert len(found["unavoidable"] + found["under_min_isr"]) == 1


def test_an_unavoidable_partition_is_returned_by_judge():
    parts = healthy_partitions() + [part("logs", 0, [1, 2], [1, 2])]
    answer = gate.judge(2, ["broker"], "before", before_state(partitions=parts, min_isr={"orders": 2, "payments": 2, "logs": 2}))
    assert answer == {"ready": True, "problems": [], "unavoidable": ["logs-0 (isr [1, 2], min.insync.replicas 2)"]}


def test_a_broker_outside_the_isr_changes_nothing():
    parts = [part("orders", 0, [1, 2, 3], [1, 3]), part("orders", 1, [1, 3, 4], [1, 3])]
    assert gate.min_isr_blockers(2, parts, {"orders": 2}) == {"blocking": [], "unavoidable": [], "under_min_isr": []}


def test_missing_replica_and_isr_lists_count_as_empty():
    parts = [{"topic": "orders", "partition": 0, "replicas": None, "isr": None}]
    assert gate.min_isr_blockers(2, parts, {"orders": 2}) == {"blocking": [], "unavoidable": [], "under_min_isr": []}


def test_per_topic_min_isr_wins_over_the_default():
    parts = [part("orders", 0, [1, 2, 3], [1, 2]), part("logs", 0, [1, 2, 3], [1, 2])]
    found = gate.min_isr_blockers(2, parts, {"orders": 1}, default_min_isr=2)
    assert found["blocking"] == ["logs-0 (isr [1, 2], min.insync.replicas 2)"]
    found = gate.min_isr_blockers(2, parts, {"orders": 2}, default_min_isr=1)
    assert found["blocking"] == ["orders-0 (isr [1, 2], min.insync.replicas 2)"]
    # the default of the default is 1
    assert gate.min_isr_blockers(2, parts, {})["blocking"] == []


def test_judge_uses_the_states_default_min_isr():
    parts = [part("logs", 0, [1, 2, 3], [1, 2])]
    assert gate.judge(2, ["broker"], "before", before_state(partitions=parts, min_isr={}))["ready"] is True
    answer = gate.judge(2, ["broker"], "before", before_state(partitions=parts, min_isr={}, default_min_isr=2))
    assert answer["ready"] is False
    assert "logs-0 (isr [1, 2], min.insync.replicas 2)" in answer["problems"][0]


def test_min_isr_given_as_text_is_read_as_a_number():
    found = gate.min_isr_blockers(2, [part("orders", 0, [1, 2, 3], [1, 2])], {"orders": "2"})
    assert found["blocking"] == ["orders-0 (isr [1, 2], min.insync.replicas 2)"]


def test_a_controller_restart_does_not_look_at_min_isr():
    parts = [part("orders", 0, [1, 2, 3], [1, 2])]
    assert gate.judge(2, ["controller"], "before", before_state(partitions=parts))["ready"] is True
    assert gate.judge(2, ["broker", "controller"], "before", before_state(partitions=parts))["ready"] is False


# -- the "after" phase: KafkaAdmin.health()'s problems --------------------------------------------
@pytest.mark.parametrize("problem", [
    "brokers not registered or fenced: 2",
    "2 offline partition(s)",
    "4 under-replicated partition(s)",
])
def test_after_a_restart_health_problems_keep_the_gate_closed(problem):
    answer = gate.judge(2, ["broker"], "after", {"health": health(problem), "quorum": quorum()})
    assert answer == {"ready": False, "problems": [problem], "unavoidable": []}


def test_after_a_restart_a_healthy_cluster_opens_the_gate():
    assert gate.judge(2, ["broker"], "after", {"health": health(), "quorum": quorum()})["ready"] is True


def test_after_a_restart_all_health_problems_are_listed_before_the_quorums():
    state = {"health": health("brokers not registered or fenced: 2", "3 under-replicated partition(s)"),
             "quorum": quorum(voters=(1, 3))}
    answer = gate.judge(2, ["broker", "controller"], "after", state, expected_voters=[1, 2, 3])
    assert answer["problems"] == ["brokers not registered or fenced: 2", "3 under-replicated partition(s)",
                                  "voters missing from the quorum: 2", "controller 2 is not a voter of the quorum"]


def test_after_a_restart_min_isr_and_log_dirs_are_not_asked():
    state = {"health": health(), "partitions": [part("orders", 0, [1, 2, 3], [2])], "min_isr": {"orders": 2},
             "log_dirs": [{"broker": 2, "log_dirs": [{"log_dir": "/data", "error_code": 56}]}]}
    assert gate.judge(2, ["broker"], "after", state)["ready"] is True


def test_after_without_a_health_answer_is_ready_only_on_the_quorum():
    assert gate.judge(2, ["broker"], "after", {})["ready"] is True


# -- log directories ------------------------------------------------------------------------------
def test_log_dir_problems_name_offline_and_other_errors():
    log_dirs = [{"broker": 1, "log_dirs": [{"log_dir": "/data/a", "error_code": 0}, {"log_dir": "/data/b", "error_code": 56}]},
                {"broker": 3, "log_dirs": [{"log_dir": "/data/a", "error_code": 57}, {"log_dir": "/data/c"}]},
                {"broker": 2}]
    assert gate.log_dir_problems(log_dirs) == ["broker 1: log directory /data/b is offline",
                                               "broker 3: log directory /data/a is error code 57"]


def test_log_dir_problems_of_working_directories_are_none():
    assert gate.log_dir_problems([{"broker": 1, "log_dirs": [{"log_dir": "/data", "error_code": 0}]}]) == []
    assert gate.log_dir_problems([]) == []


@pytest.mark.parametrize("roles", [["broker"], ["controller"], ["broker", "controller"]])
def test_an_offline_log_dir_of_any_broker_blocks_any_restart_before(roles):
    log_dirs = [{"broker": 3, "log_dirs": [{"log_dir": "/var/lib/kafka/data", "error_code": 56}]}]
    answer = gate.judge(1, roles, "before", before_state(log_dirs=log_dirs))
    assert answer["ready"] is False
    assert answer["problems"] == ["broker 3: log directory /var/lib/kafka/data is offline"]


# -- caught_up ------------------------------------------------------------------------------------
def test_caught_up_without_a_leader_is_false():
    assert gate.caught_up(voter(2), None, 2000) is False


def test_the_leader_is_caught_up_with_itself():
    leader = voter(1)
    assert gate.caught_up(dict(leader, log_end_offset=-1, lag=None), leader, 2000) is True


@pytest.mark.parametrize("leo", [None, -1])
def test_a_voter_without_a_log_end_offset_is_not_caught_up(leo):
    assert gate.caught_up(dict(voter(2), log_end_offset=leo), voter(1), 2000) is False


@pytest.mark.parametrize("behind_ms,expected", [(0, True), (1999, True), (2000, True), (2001, False), (60_000, False)])
def test_caught_up_with_timestamps_uses_the_window(behind_ms, expected):
    # the lag does not count when the timestamps are known
    assert gate.caught_up(voter(2, behind_ms=behind_ms, lag=1000), voter(1), 2000) is expected


def test_a_wider_window_accepts_a_voter_further_behind():
    assert gate.caught_up(voter(2, behind_ms=4000), voter(1), 2000) is False
    assert gate.caught_up(voter(2, behind_ms=4000), voter(1), 5000) is True


@pytest.mark.parametrize("lag,max_lag,expected", [(0, 0, True), (1, 0, False), (5, 5, True), (6, 5, False), (None, 0, False)])
def test_without_timestamps_caught_up_falls_back_to_the_lag(lag, max_lag, expected):
    ours = dict(voter(2, timestamps=False), lag=lag)
    assert gate.caught_up(ours, voter(1, timestamps=False), 2000, max_lag=max_lag) is expected


def test_one_missing_timestamp_is_enough_to_fall_back_to_the_lag():
    late_by_time = voter(2, behind_ms=60_000, lag=0)
    assert gate.caught_up(late_by_time, voter(1), 2000) is False
    assert gate.caught_up(late_by_time, dict(voter(1), last_caught_up_timestamp=-1), 2000) is True
    assert gate.caught_up(dict(late_by_time, last_caught_up_timestamp=None), voter(1), 2000) is True
    assert gate.caught_up(dict(voter(2, lag=3), last_caught_up_timestamp=-1), voter(1), 2000) is False


# -- quorum_problems --------------------------------------------------------------------------------
def test_a_controller_may_restart_when_every_voter_is_caught_up():
    assert gate.quorum_problems(1, quorum(leader=2), "before") == []


def test_a_lagging_voter_blocks_a_controller_restart():
    problems = gate.quorum_problems(1, quorum(leader=2, lagging=(3,)), "before")
    assert problems == ["only 1 of the 2 other voters are caught up (lagging: 3), 2 needed to keep a majority "
                        "while controller 1 restarts"]


def test_a_lagging_voter_without_timestamps_blocks_too():
    assert gate.quorum_problems(1, quorum(leader=2, lagging=(3,), timestamps=False), "before") != []
    assert gate.quorum_problems(1, quorum(leader=2, timestamps=False), "before") == []


def test_the_leader_may_restart_when_both_followers_are_caught_up():
    assert gate.quorum_problems(1, quorum(leader=1), "before") == []
    problems = gate.quorum_problems(1, quorum(leader=1, lagging=(2,)), "before")
    assert problems == ["only 1 of the 2 other voters are caught up (lagging: 2), 2 needed to keep a majority "
                        "while controller 1 restarts"]


def test_the_lagging_voter_itself_may_restart():
    # voter 3 lags, but without it voters 1 and 2 still are a majority of three
    assert gate.quorum_problems(3, quorum(leader=1, lagging=(3,)), "before") == []


def test_five_voters_keep_a_majority_with_one_lagging():
    state = quorum(leader=1, voters=(1, 2, 3, 4, 5), lagging=(5,))
    assert gate.quorum_problems(2, state, "before") == []
    problems = gate.quorum_problems(2, quorum(leader=1, voters=(1, 2, 3, 4, 5), lagging=(4, 5)), "before")
    assert problems == ["only 2 of the 4 other voters are caught up (lagging: 4, 5), 3 needed to keep a majority "
                        "while controller 2 restarts"]


def test_one_or_two_voters_cannot_keep_a_majority_so_a_restart_is_not_refused():
    # as a partition with no more replicas than min.insync.replicas: unavoidable, not blocking
    assert gate.quorum_problems(1, quorum(leader=1, voters=(1,)), "before") == []
    assert gate.quorum_problems(2, quorum(leader=1, voters=(1, 2)), "before") == []
    # and three voters still need both others caught up
    assert gate.quorum_problems(1, quorum(leader=2, lagging=(3,)), "before") != []


def test_a_single_voter_quorum_can_be_rolled():
    assert gate.judge(1, ["broker", "controller"], "before",
                      before_state(partitions=[part("orders", 0, [1], [1])], min_isr={"orders": 1},
                                   quorum_state=quorum(leader=1, voters=(1,))))["ready"] is True


def test_a_wider_window_counts_a_slow_voter_as_caught_up():
    state = quorum(leader=2, lagging=(3,), behind_ms=3000)
    assert gate.quorum_problems(1, state, "before") != []
    assert gate.quorum_problems(1, state, "before", window_ms=5000) == []


@pytest.mark.parametrize("leader_id", [-1, None, 9])
@pytest.mark.parametrize("is_controller", [True, False])
@pytest.mark.parametrize("phase", ["before", "after"])
def test_a_quorum_without_leader_refuses(leader_id, is_controller, phase):
    state = dict(quorum(), leader_id=leader_id)
    problems = gate.quorum_problems(2, state, phase, is_controller=is_controller)
    assert problems == ["the controller quorum has no leader (leader id %s)" % leader_id]


@pytest.mark.parametrize("roles", [["broker"], ["controller"], ["broker", "controller"]])
def test_judge_refuses_without_a_quorum_leader(roles):
    state = before_state(quorum_state={"leader_id": None, "voters": [], "error": "timed out"})
    answer = gate.judge(2, roles, "before", state)
    assert answer["ready"] is False
    assert answer["problems"] == ["the controller quorum has no leader (leader id None: timed out)"]
    after = gate.judge(2, roles, "after", {"health": health(), "quorum": dict(quorum(), leader_id=-1)})
    assert after["problems"] == ["the controller quorum has no leader (leader id -1)"]


def test_a_broker_restart_ignores_voter_lag_and_missing_voters():
    state = quorum(leader=1, voters=(1, 3), lagging=(3,))
    assert gate.quorum_problems(2, state, "before", is_controller=False) == []
    assert gate.quorum_problems(2, state, "after", expected_voters=[1, 2, 3], is_controller=False) == []
    assert gate.judge(2, ["broker"], "before", before_state(quorum_state=state), expected_voters=[1, 2, 3])["ready"] is True
    assert gate.judge(2, ["controller"], "before", before_state(quorum_state=state))["ready"] is False


def test_a_missing_voter_is_named_after():
    problems = gate.quorum_problems(2, quorum(leader=1, voters=(1, 2)), "after", expected_voters=[1, 2, 3])
    assert problems == ["voters missing from the quorum: 3"]


def test_before_the_restarted_voter_may_be_missing_but_no_other():
    state = quorum(leader=1, voters=(1, 3, 4))
    assert gate.quorum_problems(2, state, "before", expected_voters=[1, 2, 3, 4]) == []
    problems = gate.quorum_problems(2, quorum(leader=1, voters=(1, 4, 5)), "before", expected_voters=[1, 2, 3, 4, 5])
    assert problems == ["voters missing from the quorum: 3"]


def test_after_the_restarted_controller_must_be_a_voter():
    problems = gate.quorum_problems(2, quorum(leader=1, voters=(1, 3)), "after")
    assert problems == ["controller 2 is not a voter of the quorum"]


def test_after_the_restarted_voter_must_catch_up():
    behind = quorum(leader=1, lagging=(2,), high_watermark=1000, behind_ms=30_000, lag=250)
    assert gate.quorum_problems(2, behind, "after", expected_voters=[1, 2, 3]) == [
        "controller 2 is not caught up yet (log end offset 750, high watermark 1000)"]
    assert gate.judge(2, ["controller"], "after", {"health": health(), "quorum": behind})["ready"] is False
    # a later answer: caught up
    caught = quorum(leader=1, high_watermark=1010)
    assert gate.quorum_problems(2, caught, "after", expected_voters=[1, 2, 3]) == []
    assert gate.judge(2, ["controller"], "after", {"health": health(), "quorum": caught}) == {
        "ready": True, "problems": [], "unavoidable": []}


def test_after_a_restart_another_lagging_voter_does_not_count():
    assert gate.quorum_problems(2, quorum(leader=1, lagging=(3,)), "after") == []


def test_a_restarted_voter_without_a_log_end_offset_yet_is_not_caught_up():
    state = quorum(leader=1)
    state["voters"][1].update(log_end_offset=-1, lag=None, last_caught_up_timestamp=-1)
    assert gate.quorum_problems(2, state, "after") == ["controller 2 is not caught up yet (log end offset -1, high watermark 1000)"]


def test_quorum_problems_refuses_an_unknown_phase():
    with pytest.raises(GateError, match="phase must be one of before, after, not 'during'"):
        gate.quorum_problems(1, quorum(), "during")


def test_zookeeper_mode_has_no_quorum_to_ask():
    state = before_state()
    state["quorum"] = None
    assert gate.judge(1, ["controller"], "before", state)["ready"] is True


def test_judge_passes_the_window_and_expected_voters_on():
    state = before_state(quorum_state=quorum(leader=2, lagging=(3,), behind_ms=3000))
    assert gate.judge(1, ["controller"], "before", state)["ready"] is False
    assert gate.judge(1, ["controller"], "before", state, window_ms=5000)["ready"] is True
    answer = gate.judge(1, ["controller"], "before", before_state(), expected_voters=[1, 2, 3, 4])
    assert answer["problems"] == ["voters missing from the quorum: 4"]


# -- judge's input checks ---------------------------------------------------------------------------
@pytest.mark.parametrize("roles", [[], ["zookeeper"], ["broker", "connect"], "broker"])
def test_judge_refuses_bad_roles(roles):
    with pytest.raises(GateError, match="roles must be broker and/or controller"):
        gate.judge(1, roles, "before", before_state())


@pytest.mark.parametrize("phase", ["during", "", None, "Before"])
def test_judge_refuses_a_bad_phase(phase):
    with pytest.raises(GateError, match="phase must be one of before, after, not %r" % (phase,)):
        gate.judge(1, ["broker"], phase, before_state())


# -- wait -------------------------------------------------------------------------------------------


def answers(*items):
    """A check returning (or raising) ``items`` in turn, the last one for ever; ``calls`` counts."""
    items = list(items)

    def check():
        check.calls += 1
        item = items.pop(0) if len(items) > 1 else items[0]
        if isinstance(item, Exception):
            raise item
        return item

    check.calls = 0
    return check


READY = {"ready": True, "problems": [], "unavoidable": ["logs-0 (isr [1, 2], min.insync.replicas 2)"]}


def waiting(*problems):
    return {"ready": False, "problems": list(problems), "unavoidable": []}


def test_wait_returns_at_once_when_ready():
    clock, seen = Clock(), []
    check = answers(READY)
    answer = gate.wait(check, 60, progress=seen.append, clock=clock, sleep=clock.sleep)
    assert answer == dict(READY, waited=0.0)
    assert check.calls == 1
    assert clock.sleeps == []
    assert seen == ["ready"]


def test_wait_polls_until_ready_and_says_how_long():
    clock = Clock()
    check = answers(waiting("a"), waiting("a"), READY)
    answer = gate.wait(check, 60, interval=3, clock=clock, sleep=clock.sleep)
    assert answer["ready"] is True
    assert answer["waited"] == 6.0
    assert check.calls == 3
    assert clock.sleeps == [3, 3]


def test_wait_rounds_the_waited_seconds():
    clock = Clock()
    answer = gate.wait(answers(waiting("a"), READY), 60, interval=1.2345, clock=clock, sleep=clock.sleep)
    assert answer["waited"] == 1.2


def test_wait_reports_progress_only_on_change():
    clock, seen = Clock(), []
    check = answers(waiting("a"), waiting("a"), waiting("a", "b"), waiting("a", "b"), waiting("a"), READY)
    gate.wait(check, 60, progress=seen.append, clock=clock, sleep=clock.sleep)
    assert check.calls == 6
    assert seen == ["a", "a; b", "a", "ready"]


def test_wait_without_progress_callback_still_works():
    clock = Clock()
    assert gate.wait(answers(waiting("a"), READY), 60, clock=clock, sleep=clock.sleep)["ready"] is True


def test_wait_counts_an_exception_as_not_ready():
    clock, seen = Clock(), []
    check = answers(ConnectionError("broker 2 went away"), ConnectionError("broker 2 went away"), READY)
    answer = gate.wait(check, 60, progress=seen.append, clock=clock, sleep=clock.sleep)
    assert answer["ready"] is True and answer["waited"] == 4.0
    assert seen == ["not answering yet: broker 2 went away", "ready"]


def test_wait_counts_an_answer_without_problems_as_not_ready():
    clock, seen = Clock(), []
    gate.wait(answers({"ready": True}, READY), 60, progress=seen.append, clock=clock, sleep=clock.sleep)
    assert seen == ["not answering yet: 'problems'", "ready"]


def test_wait_times_out_with_the_last_problems():
    clock, seen = Clock(), []
    check = answers(waiting("a"), waiting("b", "c"))
    with pytest.raises(GateTimeout) as caught:
        gate.wait(check, 10, progress=seen.append, interval=2, clock=clock, sleep=clock.sleep)
    assert caught.value.problems == ["b", "c"]
    assert str(caught.value) == "still not ready after 10s: b; c"
    assert check.calls == 6  # at 0, 2, 4, 6, 8 and 10 s
    assert clock.sleeps == [2] * 5
    assert seen == ["a", "b; c"]


def test_wait_times_out_with_the_last_exception():
    clock = Clock()
    with pytest.raises(GateTimeout) as caught:
        gate.wait(answers(waiting("a"), OSError("refused")), 3, clock=clock, sleep=clock.sleep)
    assert caught.value.problems == ["not answering yet: refused"]
    assert str(caught.value) == "still not ready after 3s: not answering yet: refused"


def test_wait_with_no_time_asks_once():
    clock = Clock()
    check = answers(waiting("a"))
    with pytest.raises(GateTimeout) as caught:
        gate.wait(check, 0, clock=clock, sleep=clock.sleep)
    assert check.calls == 1 and clock.sleeps == []
    assert caught.value.problems == ["a"]
    # ready with no time left is still ready
    assert gate.wait(answers(READY), 0, clock=clock, sleep=clock.sleep)["ready"] is True


def test_wait_on_judge_end_to_end():
    clock = Clock()
    states = [before_state(partitions=[part("orders", 0, [1, 2, 3], [1, 2])]), before_state()]
    check = answers(*[gate.judge(2, ["broker"], "before", s) for s in states])
    assert gate.wait(check, 60, clock=clock, sleep=clock.sleep)["waited"] == 2.0


# -- read_state -------------------------------------------------------------------------------------
class FakeAdmin:
    """The KafkaAdmin methods read_state uses, recording the calls."""

    def __init__(self, partitions=None, configs=None, quorum_answer=None, health_answer=None, log_dirs=None):
        self.calls = []
        self._partitions = healthy_partitions() if partitions is None else partitions
        self._configs = configs if configs is not None else {}
        self._quorum = quorum() if quorum_answer is None else quorum_answer
        self._health = health() if health_answer is None else health_answer
        self._log_dirs = [] if log_dirs is None else log_dirs

    def quorum(self):
        self.calls.append(("quorum",))
        if isinstance(self._quorum, Exception):
            raise self._quorum
        return self._quorum

    def log_dir_states(self):
        self.calls.append(("log_dir_states",))
        return self._log_dirs

    def partitions(self):
        self.calls.append(("partitions",))
        return self._partitions

    def configs(self, resource_type, names):
        names = list(names)
        self.calls.append(("configs", resource_type, names))
        return {name: self._configs.get(name, {}) for name in names}

    def health(self, expected_brokers=None):
        self.calls.append(("health", expected_brokers))
        return self._health


def test_read_state_before_a_broker_restart_asks_min_isr_of_its_isr_topics_only():
    parts = [part("payments", 0, [1, 2, 3], [1, 2, 3]), part("orders", 0, [1, 2, 3], [2, 3]),
             part("orders", 1, [1, 2, 3], [1, 3]), part("logs", 0, [1, 3], [1, 3]), part("audit", 0, [2, 3], [3])]
    admin = FakeAdmin(partitions=parts, configs={"orders": {"min.insync.replicas": "2", "retention.ms": "1000"}})
    state = gate.read_state(admin, 2, ["broker"], "before", quorum=True)
    assert admin.calls == [("quorum",), ("log_dir_states",), ("partitions",), ("configs", "topic", ["orders", "payments"])]
    assert state["min_isr"] == {"orders": 2, "payments": 1}
    assert state["partitions"] == parts
    assert state["quorum"] == admin._quorum
    assert state["log_dirs"] == []
    assert "health" not in state


def test_read_state_feeds_judge():
    parts = [part("orders", 0, [1, 2, 3], [1, 2])]
    admin = FakeAdmin(partitions=parts, configs={"orders": {"min.insync.replicas": "2"}})
    answer = gate.judge(2, ["broker"], "before", gate.read_state(admin, 2, ["broker"], "before", True))
    assert answer["ready"] is False and "orders-0" in answer["problems"][0]
    admin = FakeAdmin(partitions=parts, configs={"orders": {}})
    assert gate.judge(2, ["broker"], "before", gate.read_state(admin, 2, ["broker"], "before", True))["ready"] is True


def test_read_state_before_a_controller_restart_reads_no_partitions():
    admin = FakeAdmin()
    state = gate.read_state(admin, 1, ["controller"], "before", quorum=True)
    assert admin.calls == [("quorum",), ("log_dir_states",)]
    assert set(state) == {"quorum", "log_dirs"}


def test_read_state_after_reads_health_with_the_expected_brokers():
    admin = FakeAdmin(health_answer=health("2 offline partition(s)"))
    state = gate.read_state(admin, 2, ["broker", "controller"], "after", quorum=True, expected_brokers=[1, 2, 3])
    assert admin.calls == [("quorum",), ("health", [1, 2, 3])]
    assert state["health"]["problems"] == ["2 offline partition(s)"]
    assert set(state) == {"quorum", "health"}


def test_read_state_without_quorum_does_not_ask_it():
    admin = FakeAdmin()
    state = gate.read_state(admin, 2, ["broker"], "after", quorum=False)
    assert ("quorum",) not in admin.calls
    assert "quorum" not in state
    assert admin.calls == [("health", ())]


def test_a_quorum_that_does_not_answer_is_leaderless():
    admin = FakeAdmin(quorum_answer=TimeoutError("describe quorum timed out"))
    state = gate.read_state(admin, 1, ["controller"], "before", quorum=True)
    assert state["quorum"] == {"leader_id": None, "voters": [], "error": "describe quorum timed out"}
    answer = gate.judge(1, ["controller"], "before", state)
    assert answer["problems"] == ["the controller quorum has no leader (leader id None: describe quorum timed out)"]


@pytest.mark.parametrize("phase", ["before", "after"])
@pytest.mark.parametrize("leaderless", [TimeoutError("timed out"), dict(quorum(), leader_id=-1), dict(quorum(), leader_id=None)])
def test_without_a_quorum_leader_nothing_else_is_read(phase, leaderless):
    admin = FakeAdmin(quorum_answer=leaderless)
    state = gate.read_state(admin, 2, ["broker"], phase, quorum=True, expected_brokers=[1, 2, 3])
    assert admin.calls == [("quorum",)]
    assert set(state) == {"quorum"}
    assert gate.judge(2, ["broker"], phase, state)["ready"] is False
