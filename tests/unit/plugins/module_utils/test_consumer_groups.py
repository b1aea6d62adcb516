# Copyright: kafkaops.platform contributors
# Apache-2.0 (see LICENSE)
"""Tests of the consumer-group logic: lag, reset targets within the log, which partitions change, refusals."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ansible_collections.kafkaops.platform.plugins.module_utils import consumer_groups as cg

T0, T1 = ("orders", 0), ("orders", 1)


def test_lag_rows_and_total():
    rows = cg.lag_rows({T1: 5, T0: 10, ("gone", 0): 3}, {T0: 12, T1: 5})
    assert rows == [{"topic": "gone", "partition": 0, "committed": 3, "end": None, "lag": None},
                    {"topic": "orders", "partition": 0, "committed": 10, "end": 12, "lag": 2},
                    {"topic": "orders", "partition": 1, "committed": 5, "end": 5, "lag": 0}]
    assert cg.total_lag(rows) == 2


def test_reset_targets_per_mode_stay_within_the_log():
    earliest, latest = {T0: 4, T1: 0}, {T0: 20, T1: 7}
    assert cg.reset_targets([T0, T1], "earliest", earliest, latest) == {T0: 4, T1: 0}
    assert cg.reset_targets([T0, T1], "latest", earliest, latest) == {T0: 20, T1: 7}
    # no record at or after the time: the end; an offset from the broker is kept
    assert cg.reset_targets([T0, T1], "timestamp", earliest, latest, by_time={T0: 9, T1: -1}) == {T0: 9, T1: 7}
    # explicit offsets outside the log are clamped into it
    assert cg.reset_targets([T0, T1], "offset", earliest, latest, explicit={T0: 1, T1: 99}) == {T0: 4, T1: 7}
    with pytest.raises(cg.ConsumerGroupError, match="reset_to must be one of"):
        cg.reset_targets([T0], "beginning", earliest, latest)


@given(st.integers(0, 10**6), st.integers(0, 10**6), st.integers(-1, 2 * 10**6),
       st.sampled_from(cg.RESET_MODES))
def test_every_target_lies_within_the_log(low, span, wanted, mode):
    earliest, latest = {T0: low}, {T0: low + span}
    target = cg.reset_targets([T0], mode, earliest, latest, by_time={T0: wanted}, explicit={T0: max(wanted, 0)})[T0]
    assert low <= target <= low + span


def test_offset_changes_lists_only_what_moves():
    assert cg.offset_changes({T0: 5, T1: 7}, {T0: 5, T1: 0, ("new", 0): 3}) == [
        {"topic": "new", "partition": 0, "before": None, "after": 3},
        {"topic": "orders", "partition": 1, "before": 7, "after": 0}]
    assert cg.offset_changes({T0: 5}, {T0: 5}) == []


def test_reset_partitions():
    counts = {"orders": 2, "audit": 1}
    assert cg.reset_partitions("earliest", None, {T1: 3}, {}, counts) == [T1]
    assert cg.reset_partitions("latest", ["orders", "orders"], {}, {}, counts) == [T0, T1]
    assert cg.reset_partitions("offset", None, {}, {("audit", 0): 1}, counts) == [("audit", 0)]
    with pytest.raises(cg.ConsumerGroupError, match="no topic missing in the cluster"):
        cg.reset_partitions("earliest", ["orders", "missing"], {}, {}, counts)
    with pytest.raises(cg.ConsumerGroupError, match="no partition audit-4 in the cluster"):
        cg.reset_partitions("offset", None, {}, {("audit", 4): 1}, counts)
    with pytest.raises(cg.ConsumerGroupError, match="nothing to reset: the group has no committed offsets"):
        cg.reset_partitions("earliest", None, {}, {}, counts)


@pytest.mark.parametrize("entries, message", [
    ([{"topic": "t", "partition": 0}], "offsets[0] must be a mapping with exactly topic, partition and offset"),
    ([{"topic": "", "partition": 0, "offset": 1}], "offsets[0].topic must be a topic name"),
    ([{"topic": "t", "partition": -1, "offset": 1}], "offsets[0].partition must be a whole number from 0"),
    ([{"topic": "t", "partition": 0, "offset": True}], "offsets[0].offset must be a whole number from 0"),
    ([{"topic": "t", "partition": 0, "offset": 1}, {"topic": "t", "partition": 0, "offset": 2}],
     "offsets[1]: partition t-0 is given twice"),
])
def test_explicit_offsets_are_checked(entries, message):
    with pytest.raises(cg.ConsumerGroupError) as caught:
        cg.explicit_offsets(entries)
    assert str(caught.value).startswith(message)


def test_a_group_with_members_is_refused_unless_forced():
    members = [{"client_id": "billing-1", "client_host": "/10.0.0.7"}]
    assert cg.refusal("Empty", [], False, "reset its offsets") is None
    assert cg.refusal("Dead", [], False, "delete the group") is None
    message = cg.refusal("Stable", members, False, "reset its offsets")
    assert message.startswith("cannot reset its offsets while the group is Stable with 1 active member(s): "
                              "billing-1 (/10.0.0.7); stop the consumers, or set force=true")
    assert cg.refusal("Stable", members, True, "reset its offsets") is None


def test_diff_text():
    assert cg.diff_text({T1: 3, T0: None}) == "orders-0: -\norders-1: 3\n"
