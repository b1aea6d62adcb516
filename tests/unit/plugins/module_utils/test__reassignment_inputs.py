# Copyright: kafkaops.platform contributors
# Apache-2.0 (see LICENSE)
"""Tests of _reassignment.inputs: parsing and checking the planner's arguments."""

from __future__ import annotations

import json

import pytest

from ansible_collections.kafkaops.platform.plugins.module_utils._reassignment.errors import (
    InvalidAssignmentError,
    InvalidBrokersError,
    InvalidOptionError,
    ReplicationFactorError,
    UnknownTopicError,
)
from ansible_collections.kafkaops.platform.plugins.module_utils._reassignment.inputs import (
    Request,
    load_current,
    parse_brokers,
    parse_replication_factors,
    parse_request,
    parse_sizes,
    select_topic_names,
)


def current(*entries):
    return {"version": 1, "partitions": [{"topic": t, "partition": p, "replicas": r} for t, p, r in entries]}


BROKERS = [{"id": 2, "rack": None}, {"id": 1, "rack": None}, {"id": 3}]


def test_parse_request_splits_selected_partitions_and_applies_options():
    request = parse_request(
        current(("b", 1, [1, 2]), ("a", 0, [3]), ("b", 0, [2, 3])),
        BROKERS,
        {"exclude_topics": ["a"], "replication_factors": {"b": 3}, "partition_sizes": {"b-1": 7}, "max_moves": 4},
    )
    assert request == Request(
        racks_by_id={2: None, 1: None, 3: None},
        planned=[("b", 0, [2, 3]), ("b", 1, [1, 2])],
        others=[("a", 0, [3])],
        replication_factors=[3, 3],
        sizes=[0, 7],
        max_moves=4,
    )


def test_parse_request_checks_brokers_before_current():
    with pytest.raises(InvalidBrokersError):
        parse_request("not json", [], {})


def test_parse_request_refuses_a_replication_factor_above_the_broker_count():
    with pytest.raises(ReplicationFactorError, match="b-0 needs replication factor 4 but only 3 target brokers"):
        parse_request(current(("b", 0, [1, 2, 3])), BROKERS, {"replication_factors": {"b": 4}})


def test_parse_request_names_unknown_options():
    with pytest.raises(InvalidOptionError, match=r"unknown option\(s\) \['sizes'\]"):
        parse_request(current(("b", 0, [1])), BROKERS, {"sizes": {}})


def test_parse_brokers_keeps_racks_and_refuses_a_mix():
    assert parse_brokers([{"id": 4, "rack": "x"}, {"id": 0, "rack": "y"}]) == {4: "x", 0: "y"}
    with pytest.raises(InvalidBrokersError, match=r"brokers \[0\] have no rack"):
        parse_brokers([{"id": 4, "rack": "x"}, {"id": 0}])


def test_load_current_reads_json_text_and_sorts_by_topic_and_partition():
    text = json.dumps(current(("b", 0, [1]), ("a", 10, [2]), ("a", 9, [3])))
    assert load_current(text) == [("a", 9, [3]), ("a", 10, [2]), ("b", 0, [1])]


@pytest.mark.parametrize("entries, message", [
    ([("t", 0, [1]), ("t", 0, [2])], "t-0 is listed more than once"),
    ([("t", 0, [1, 1])], r"t-0: replicas \[1, 1\] name a broker more than once"),
    ([("t", -1, [1])], "t: partition must be a non-negative integer, got -1"),
    ([("t", 0, [True])], "t-0: replica True is not a broker id"),
])
def test_load_current_names_the_bad_entry(entries, message):
    with pytest.raises(InvalidAssignmentError, match=message):
        load_current(current(*entries))


def test_a_topic_name_selects_only_that_topic_and_a_pattern_matches_whole_names():
    topics = {"orders", "orders-v2", "payments"}
    assert select_topic_names(topics, ["orders"], None) == {"orders"}
    assert select_topic_names(topics, ["orders.*"], None) == {"orders", "orders-v2"}
    assert select_topic_names(topics, None, ["orders-v2", "pay.*"]) == {"orders"}
    with pytest.raises(UnknownTopicError, match="'order' is not a topic in current"):
        select_topic_names(topics, ["order"], None)


def test_replication_factors_must_name_selected_topics():
    assert parse_replication_factors(None, {"a"}, {"a"}) == {}
    with pytest.raises(InvalidOptionError, match="which include/exclude_topics leave out"):
        parse_replication_factors({"a": 2}, {"a", "b"}, {"b"})
    with pytest.raises(ReplicationFactorError, match=r"replication_factors\['a'\] must be a positive integer, got 0"):
        parse_replication_factors({"a": 0}, {"a"}, {"a"})


def test_sizes_accept_string_and_pair_keys_and_topics_with_dashes():
    known = {("my-topic", 3), ("t", 0)}
    assert parse_sizes({"my-topic-3": 10, ("t", 0): 2.5}, {"my-topic", "t"}, known) == {("my-topic", 3): 10, ("t", 0): 2.5}
    assert parse_sizes(None, set(), set()) is None
    with pytest.raises(InvalidOptionError, match="partition_sizes names t-1, which is not in current"):
        parse_sizes({"t-1": 1}, {"t"}, known)


@pytest.mark.parametrize("topic", ["a\nb", "orders\n", "../etc", "a b", "t" * 250, ".", "..", "caf\u00e9"])
def test_load_current_refuses_topic_names_kafka_would_refuse(topic):
    with pytest.raises(InvalidAssignmentError) as caught:
        load_current(current(("ok", 0, [1]), (topic, 0, [1]), (topic, 1, [2])))
    assert str(caught.value) == (
        "current['partitions'][1]: topic %r is not a Kafka topic name: 1 to 249 letters, digits, '.', '_' or '-', "
        "and neither '.' nor '..'" % topic)


def test_load_current_takes_every_name_kafka_takes():
    names = ["t" * 249, "a.b_c-D9", "...", "_"]
    assert [entry[0] for entry in load_current(current(*[(name, 0, [1]) for name in names]))] == sorted(names)


@pytest.mark.parametrize("size", [float("nan"), float("inf"), float("-inf"), -1, -0.5, True, False, "10", None, [1]])
def test_sizes_must_be_finite_non_negative_numbers(size):
    with pytest.raises(InvalidOptionError) as caught:
        parse_sizes({"orders-0": size}, {"orders"}, {("orders", 0)})
    assert str(caught.value) == "partition_sizes['orders-0'] must be a non-negative number of bytes"
    with pytest.raises(InvalidOptionError, match=r"partition_sizes\[\('orders', 0\)\] must be a non-negative number"):
        parse_sizes({("orders", 0): size}, {"orders"}, {("orders", 0)})


@pytest.mark.parametrize("key", ["orders-\u00b2", "orders-\u0663", "orders-0\n", "orders-+1"])
def test_size_keys_take_ascii_partition_numbers_only(key):
    with pytest.raises(InvalidOptionError, match="must be 'topic-partition' or"):
        parse_sizes({key: 1}, {"orders"}, {("orders", 0)})


def test_topic_selections_with_entries_that_are_no_strings_are_refused():
    with pytest.raises(InvalidOptionError, match="include_topics entries must be non-empty strings"):
        select_topic_names({"orders"}, ["orders", 1], None)
    with pytest.raises(InvalidOptionError, match="exclude_topics entries must be non-empty strings"):
        select_topic_names({"orders"}, None, [None, "orders"])


def test_broker_ids_are_int32():
    assert parse_brokers([{"id": 2 ** 31 - 1}]) == {2 ** 31 - 1: None}
    with pytest.raises(InvalidBrokersError, match=r"brokers\[0\]: id 2147483648 is out of range: Kafka broker ids are "
                                                  r"0..2147483647"):
        parse_brokers([{"id": 2 ** 31}])
