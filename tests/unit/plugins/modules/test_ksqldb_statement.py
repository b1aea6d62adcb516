# Copyright: kafkaops.platform contributors
# Apache-2.0 (see LICENSE)
"""ksqldb_statement through main() against FakeKsqlDB, a FAKE that follows ksqlDB's documented
REST API (tests/unit/plugins/ksqldb_fake.py): no ksqlDB server can be installed here. Creation in
check mode, for real and again; the same statement written otherwise; another statement with and
without replace; drops with and without running queries, of a missing object, with the topic;
ksqlDB's refusals; input refused before any request; a refused connection."""

from __future__ import annotations

import pytest

from ansible_collections.kafkaops.platform.plugins.module_utils import rest
from ansible_collections.kafkaops.platform.plugins.modules import ksqldb_statement
from ansible_collections.kafkaops.platform.tests.unit.plugins.ksqldb_fake import FakeKsqlDB
from ansible_collections.kafkaops.platform.tests.unit.plugins.modules.utils import (
    ExitJson,
    FailJson,
    raise_on_exit,
    run_main,
)

ORDERS = ("CREATE STREAM ORDERS (ID BIGINT KEY, CUSTOMER STRING, AMOUNT DOUBLE) "
          "WITH (KAFKA_TOPIC='orders', VALUE_FORMAT='JSON');")
LARGE = "CREATE STREAM LARGE_ORDERS AS SELECT * FROM ORDERS WHERE AMOUNT > 1000 EMIT CHANGES;"


@pytest.fixture
def ksql(monkeypatch):
    raise_on_exit(monkeypatch)
    fake = FakeKsqlDB()
    fake.topics.add("orders")
    monkeypatch.setattr(rest, "open_url_request", fake.request)
    return fake


def run(args, expect=ExitJson, check=False, diff=False):
    return run_main(ksqldb_statement.main, dict({"url": "https://ksqldb1:8088"}, **args), expect, check, diff)


def test_create_in_check_mode_then_for_real_then_nothing(ksql):
    args = {"name": "orders", "statement": ORDERS}
    checked = run(args, check=True, diff=True)
    assert checked["changed"] is True and checked["actions"] == ["created"]
    assert checked["name"] == "ORDERS" and checked["type"] == "STREAM" and checked["statement"] == ORDERS
    assert checked["diff"] == {"before": "", "after": ORDERS + "\n"}
    assert checked["server"]["version"] == "0.29.0"
    assert ksql.writes() == [] and ksql.sources == {}
    created = run(args)
    assert created["changed"] is True and created["actions"] == ["created"]
    assert ksql.writes() == [ORDERS]
    assert created["statement"] == ORDERS and created["type"] == "STREAM" and created["queries"] == []
    again = run(args, diff=True)
    assert again["changed"] is False and again["actions"] == []
    assert again["diff"] == {"before": ORDERS + "\n", "after": ORDERS + "\n"}
    assert ksql.writes() == [ORDERS]
    # what a check run sends: reads only
    assert [(m, p) for m, p, _b in ksql.calls[:3]] == [("GET", "/info"), ("POST", "/ksql"), ("POST", "/ksql")]


def test_the_same_statement_written_otherwise_changes_nothing(ksql):
    run({"name": "orders", "statement": ORDERS})
    run({"name": "large_orders", "statement": LARGE})
    before = ksql.writes()
    for name, written in (
        ("orders", "create stream orders (id bigint key, customer string, amount double)\n"
                   "  with (value_format='JSON', kafka_topic='orders')"),
        ("ORDERS", "CREATE OR REPLACE STREAM IF NOT EXISTS Orders ( ID BIGINT KEY , CUSTOMER STRING,AMOUNT DOUBLE ) "
                   "WITH ( KAFKA_TOPIC = 'orders' , VALUE_FORMAT = 'JSON' ) ; "),
        ("large_orders", "-- the large ones\nCREATE STREAM large_orders AS\n  SELECT *\n  FROM orders\n"
                         "  WHERE amount > 1000\n  EMIT CHANGES"),
    ):
        result = run({"name": name, "statement": written})
        assert result["changed"] is False, written
    assert ksql.writes() == before


def test_server_added_with_properties_are_no_difference_but_a_set_one_is(ksql):
    run({"name": "orders", "statement": ORDERS})
    # as ksqlDB stores it: with the properties it added, in its own order
    ksql.sources["ORDERS"]["statement"] = (
        "CREATE STREAM ORDERS (ID BIGINT KEY, CUSTOMER STRING, AMOUNT DOUBLE) WITH (CLEANUP_POLICY='delete', "
        "KAFKA_TOPIC='orders', KEY_FORMAT='KAFKA', PARTITIONS=1, REPLICAS=1, VALUE_FORMAT='JSON');")
    assert run({"name": "orders", "statement": ORDERS})["changed"] is False
    six = ORDERS.replace("VALUE_FORMAT='JSON'", "VALUE_FORMAT='JSON', PARTITIONS=6")
    failed = run({"name": "orders", "statement": six}, expect=FailJson)
    assert "exists with another statement" in failed["msg"]


def test_another_statement_without_replace_fails_showing_both(ksql):
    run({"name": "orders", "statement": ORDERS})
    run({"name": "large_orders", "statement": LARGE})
    other = LARGE.replace("1000", "5000")
    failed = run({"name": "large_orders", "statement": other}, expect=FailJson)
    assert failed["msg"] == (
        "STREAM LARGE_ORDERS exists with another statement; set replace=true to apply yours with CREATE OR REPLACE "
        "(ksqlDB takes only changes its running queries can follow), or drop it first.\n"
        "stored: %s\nwanted: %s" % (LARGE, other))
    assert failed["changed"] is False and failed["statement"] == LARGE
    assert failed["queries"] == ["CSAS_LARGE_ORDERS_2"]
    assert ksql.writes() == [ORDERS, LARGE]
    # a string literal is compared as written
    cased = run({"name": "orders", "statement": ORDERS.replace("'JSON'", "'json'")}, expect=FailJson)
    assert "stored: %s" % ORDERS in cased["msg"]


def test_replace_sends_create_or_replace(ksql):
    run({"name": "orders", "statement": ORDERS})
    run({"name": "large_orders", "statement": LARGE})
    other = "CREATE STREAM IF NOT EXISTS large_orders AS SELECT * FROM orders WHERE amount > 5000 EMIT CHANGES"
    replacement = "CREATE OR REPLACE STREAM large_orders AS SELECT * FROM orders WHERE amount > 5000 EMIT CHANGES;"
    args = {"name": "large_orders", "statement": other, "replace": True}
    checked = run(args, check=True, diff=True)
    assert checked["actions"] == ["replaced"] and checked["statement"] == replacement
    assert checked["diff"] == {"before": LARGE + "\n", "after": replacement + "\n"}
    assert ksql.writes() == [ORDERS, LARGE]
    replaced = run(args)
    assert replaced["changed"] is True and replaced["actions"] == ["replaced"]
    assert ksql.writes()[-1] == replacement
    assert replaced["statement"] == replacement and replaced["queries"] == ["CSAS_LARGE_ORDERS_2"]
    assert run(args)["changed"] is False


def test_a_stream_is_not_replaced_by_a_table(ksql):
    run({"name": "orders", "statement": ORDERS})
    table = "CREATE TABLE ORDERS (ID BIGINT PRIMARY KEY) WITH (KAFKA_TOPIC='orders', VALUE_FORMAT='JSON')"
    failed = run({"name": "orders", "statement": table, "replace": True}, expect=FailJson)
    assert failed["msg"] == "ORDERS is a STREAM, and the statement creates a TABLE: drop it first (state=absent)"
    assert ksql.writes() == [ORDERS]


def test_absent_terminates_the_writing_query_then_drops(ksql):
    run({"name": "orders", "statement": ORDERS})
    run({"name": "large_orders", "statement": LARGE})
    args = {"name": "large_orders", "state": "absent"}
    checked = run(args, check=True, diff=True)
    assert checked["changed"] is True and checked["actions"] == ["terminated CSAS_LARGE_ORDERS_2", "dropped"]
    assert checked["diff"] == {"before": LARGE + "\n", "after": ""}
    assert "LARGE_ORDERS" in ksql.sources and ksql.writes() == [ORDERS, LARGE]
    dropped = run(args)
    assert dropped["actions"] == ["terminated CSAS_LARGE_ORDERS_2", "dropped"]
    assert dropped["queries"] == ["CSAS_LARGE_ORDERS_2"] and dropped["statement"] == LARGE
    assert ksql.writes()[2:] == ["TERMINATE CSAS_LARGE_ORDERS_2;", "DROP STREAM IF EXISTS `LARGE_ORDERS`;"]
    assert "LARGE_ORDERS" not in ksql.sources and ksql.queries == {}
    assert "LARGE_ORDERS" in ksql.topics  # the topic stays without delete_topic
    again = run(args)
    assert again["changed"] is False and again["actions"] == [] and again["type"] is None


def test_running_queries_without_terminate_queries_fail_naming_them(ksql):
    run({"name": "orders", "statement": ORDERS})
    run({"name": "large_orders", "statement": LARGE})
    failed = run({"name": "large_orders", "state": "absent", "terminate_queries": False}, expect=FailJson)
    assert failed["msg"] == ("LARGE_ORDERS is written by queries CSAS_LARGE_ORDERS_2; set terminate_queries=true to "
                             "terminate them before the drop")
    assert ksql.writes() == [ORDERS, LARGE]


def test_a_source_other_queries_read_is_not_dropped(ksql):
    run({"name": "orders", "statement": ORDERS})
    run({"name": "large_orders", "statement": LARGE})
    failed = run({"name": "orders", "state": "absent"}, expect=FailJson)
    assert failed["msg"] == ("ORDERS cannot be dropped while queries read from it: CSAS_LARGE_ORDERS_2; drop the "
                             "streams and tables they build first")
    assert ksql.writes() == [ORDERS, LARGE]


def test_absent_of_a_missing_object_changes_nothing(ksql):
    result = run({"name": "nothing_here", "state": "absent"}, diff=True)
    assert result["changed"] is False and result["actions"] == [] and result["statement"] is None
    assert result["diff"] == {"before": "", "after": ""}
    assert ksql.writes() == []


def test_delete_topic(ksql):
    run({"name": "orders", "statement": ORDERS})
    dropped = run({"name": "orders", "state": "absent", "delete_topic": True})
    assert dropped["actions"] == ["dropped", "deleted topic orders"]
    assert ksql.writes()[-1] == "DROP STREAM IF EXISTS `ORDERS` DELETE TOPIC;"
    assert "orders" not in ksql.topics


def test_a_backquoted_name_is_case_sensitive(ksql):
    statement = "CREATE TABLE `Customers` (ID BIGINT PRIMARY KEY, NAME STRING) WITH (KAFKA_TOPIC='orders', " \
                "VALUE_FORMAT='JSON')"
    created = run({"name": "`Customers`", "statement": statement})
    assert created["name"] == "Customers" and created["type"] == "TABLE" and "Customers" in ksql.sources
    assert run({"name": "`Customers`", "statement": statement})["changed"] is False
    assert run({"name": "customers", "state": "absent"})["changed"] is False
    assert run({"name": "`Customers`", "state": "absent"})["actions"] == ["dropped"]
    assert ksql.writes()[-1] == "DROP TABLE IF EXISTS `Customers`;"


def test_properties_are_sent_as_streams_properties(ksql):
    run({"name": "orders", "statement": ORDERS})
    run({"name": "large_orders", "statement": LARGE,
         "properties": {"ksql.streams.auto.offset.reset": "earliest", "ksql.streams.num.stream.threads": 2}})
    sent = [body for _m, path, body in ksql.calls if path == "/ksql" and body["ksql"] == LARGE]
    assert sent == [{"ksql": LARGE, "streamsProperties": {"ksql.streams.auto.offset.reset": "earliest",
                                                          "ksql.streams.num.stream.threads": "2"}}]


def test_a_statement_error_is_surfaced_with_its_message(ksql):
    failed = run({"name": "large_orders", "statement": LARGE}, expect=FailJson)
    assert failed["msg"] == ("ksqlDB refused %s (HTTP 400, statement_error 40001): Exception while preparing "
                             "statement: ORDERS does not exist." % LARGE)
    assert failed["changed"] is False and failed["status"] == 400 and failed["actions"] == []
    no_topic = ORDERS.replace("'orders'", "'missing'")
    refused = run({"name": "orders", "statement": no_topic}, expect=FailJson)
    assert refused["msg"].startswith("ksqlDB refused %s (HTTP 400, statement_error 40001): Topic 'missing' does "
                                     "not exist." % no_topic)
    assert ksql.sources == {}


def test_a_refusal_after_a_terminate_reports_the_change(ksql):
    run({"name": "orders", "statement": ORDERS})
    run({"name": "large_orders", "statement": LARGE})
    # another query starts writing into LARGE_ORDERS after the module read the description
    original = ksql._terminate

    def terminate_and_insert(statement, query_id):
        answer = original(statement, query_id)
        ksql.queries["INSERTQUERY_9"] = {"id": "INSERTQUERY_9", "sink": "LARGE_ORDERS", "reads": ["ORDERS"],
                                         "queryString": "INSERT INTO LARGE_ORDERS SELECT * FROM ORDERS;"}
        return answer

    ksql._terminate = terminate_and_insert
    failed = run({"name": "large_orders", "state": "absent"}, expect=FailJson)
    assert failed["changed"] is True and failed["actions"] == ["terminated CSAS_LARGE_ORDERS_2"]
    assert "Cannot drop LARGE_ORDERS." in failed["msg"] and "[INSERTQUERY_9]" in failed["msg"]


@pytest.mark.parametrize("args, message", [
    ({"name": "orders"}, "state is present but all of the following are missing: statement"),
    ({"name": "bad-name", "state": "absent"},
     "name: 'bad-name' is not a ksqlDB name: letters, digits and underscores, not starting with a digit, or any name "
     "in backquotes (`Orders-2024`)"),
    ({"name": "1orders", "state": "absent"},
     "name: '1orders' is not a ksqlDB name: letters, digits and underscores, not starting with a digit, or any name "
     "in backquotes (`Orders-2024`)"),
    ({"name": "orders", "statement": ORDERS + " DROP STREAM X;"},
     "statement must be one statement, but more follows the ';' at character %d" % len(ORDERS)),
    ({"name": "orders", "statement": ORDERS + ";"},
     "statement must be one statement, but more follows the ';' at character %d" % len(ORDERS)),
    ({"name": "orders", "statement": LARGE}, "statement creates LARGE_ORDERS, not ORDERS (name): a task manages the "
                                             "object it names"),
    ({"name": "orders", "statement": "DROP STREAM ORDERS;"},
     "statement must be CREATE [OR REPLACE] [SOURCE] STREAM|TABLE ..., got 'DROP STREAM ORDERS;'"),
    ({"name": "orders", "statement": "CREATE TYPE ORDERS AS STRUCT<ID BIGINT>"},
     "statement must be CREATE [OR REPLACE] [SOURCE] STREAM|TABLE ..., got 'CREATE TYPE ORDERS AS ...'"),
    ({"name": "orders", "statement": "CREATE STREAM ORDERS WITH (KAFKA_TOPIC='orders)"},
     "statement has an unterminated ' quote (from character 40)"),
    ({"name": "orders", "statement": "CREATE STREAM"}, "statement names no stream after CREATE STREAM"),
    ({"name": "orders", "state": "absent", "statement": ORDERS},
     "state=absent drops ORDERS; statement only applies with state=present"),
    ({"name": "orders", "state": "absent", "replace": True, "statement": ORDERS},
     "state=absent drops ORDERS; statement and replace only apply with state=present"),
    ({"name": "orders", "statement": ORDERS, "delete_topic": True}, "delete_topic only applies with state=absent"),
    ({"name": "orders", "statement": ORDERS, "properties": {"a": [1]}},
     "properties.a must be a string, number or boolean, got list"),
])
def test_bad_input_is_refused_before_any_request(ksql, args, message):
    assert run(args, expect=FailJson)["msg"] == message
    assert ksql.calls == []


def test_a_refused_connection_names_the_url(monkeypatch):
    raise_on_exit(monkeypatch)

    def refuse(url, method, data, headers, **options):
        raise OSError("[Errno 111] Connection refused")

    monkeypatch.setattr(rest, "open_url_request", refuse)
    failed = run({"name": "orders", "statement": ORDERS}, expect=FailJson)
    assert failed["msg"] == "GET https://ksqldb1:8088/info: [Errno 111] Connection refused"
