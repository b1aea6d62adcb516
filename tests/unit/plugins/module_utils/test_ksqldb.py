# Copyright: kafkaops.platform contributors
# Apache-2.0 (see LICENSE)
"""The pure functions of plugins/module_utils/ksqldb.py (names, reading a CREATE statement, the
comparison rule, CREATE OR REPLACE, properties, refusals) and KsqlClient against stub answers."""

from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ansible_collections.kafkaops.platform.plugins.module_utils import ksqldb
from ansible_collections.kafkaops.platform.plugins.module_utils.rest import RestError

CSAS = "CREATE STREAM LARGE_ORDERS WITH (KAFKA_TOPIC='large') AS SELECT * FROM ORDERS WHERE NOTE = 'Big;' EMIT CHANGES;"


@pytest.mark.parametrize("written, stored", [
    ("orders", "ORDERS"), ("Orders_2", "ORDERS_2"), ("_x", "_X"), ("`Orders`", "Orders"), ("`a-b c`", "a-b c"),
])
def test_identifier(written, stored):
    assert ksqldb.identifier(written) == stored


@pytest.mark.parametrize("written", ["", "1orders", "a-b", "a.b", "``", "`a`b`", "`open", "örders"])
def test_identifier_refuses(written):
    with pytest.raises(ValueError, match="is not a ksqlDB name"):
        ksqldb.identifier(written)


def test_quote():
    assert ksqldb.quote("ORDERS") == "`ORDERS`"
    assert ksqldb.quote("a`b") == "`a``b`"


def test_tokens():
    assert [(k, v) for k, v, _s, _e in ksqldb.tokens("a 'it''s' `x``y` \"q\" -- c ; \n/* ; */(1.5);")] == [
        ("word", "a"), ("string", "it's"), ("name", "x`y"), ("quoted", "q"), ("punct", "("), ("word", "1"),
        ("punct", "."), ("word", "5"), ("punct", ")"), ("punct", ";")]
    with pytest.raises(ValueError, match=r"unterminated /\* comment \(from character 3\)"):
        ksqldb.tokens("a /* b")
    with pytest.raises(ValueError, match="unterminated ` quote"):
        ksqldb.tokens("a `b")


def test_parse_create():
    parsed = ksqldb.parse_create("  create or replace source table if not exists `Big` (ID INT PRIMARY KEY) "
                                 "with (kafka_topic='t', value_format='JSON')  ;  ")
    assert (parsed.kind, parsed.source, parsed.name, parsed.or_replace, parsed.if_not_exists) == (
        "TABLE", True, "Big", True, True)
    assert parsed.properties == {"KAFKA_TOPIC": (("string", "t"),), "VALUE_FORMAT": (("string", "JSON"),)}
    assert parsed.body == (("punct", "("), ("name", "ID"), ("name", "INT"), ("name", "PRIMARY"), ("name", "KEY"),
                           ("punct", ")"))
    assert parsed.text == ("create or replace source table if not exists `Big` (ID INT PRIMARY KEY) "
                           "with (kafka_topic='t', value_format='JSON');")
    assert parsed.tail == "`Big` (ID INT PRIMARY KEY) with (kafka_topic='t', value_format='JSON')"
    csas = ksqldb.parse_create(CSAS)
    assert csas.name == "LARGE_ORDERS" and csas.properties == {"KAFKA_TOPIC": (("string", "large"),)}
    assert csas.body[:3] == (("name", "AS"), ("name", "SELECT"), ("punct", "*"))
    assert ("string", "Big;") in csas.body  # a ';' in a string is no end of statement


@pytest.mark.parametrize("statement, message", [
    ("", "statement must be CREATE [OR REPLACE] [SOURCE] STREAM|TABLE ..., got ''"),
    ("SELECT * FROM X;", "statement must be CREATE [OR REPLACE] [SOURCE] STREAM|TABLE ..., got 'SELECT * FROM X;'"),
    ("CREATE CONNECTOR c WITH ('a'='b')", "statement must be CREATE [OR REPLACE] [SOURCE] STREAM|TABLE ..."),
    ("CREATE OR REPLACE STREAM", "statement names no stream after CREATE STREAM"),
    ("CREATE TABLE 'x' (A INT)", "statement names no table after CREATE TABLE"),
    ("CREATE STREAM 9x (A INT)", "statement: '9x' is not a ksqlDB name"),
    ("CREATE STREAM A (B INT); CREATE STREAM C (D INT);", "statement must be one statement, but more follows the ';' "
                                                          "at character 24"),
    ("CREATE STREAM A (B INT);;", "statement must be one statement"),
])
def test_parse_create_refuses(statement, message):
    with pytest.raises(ValueError) as caught:
        ksqldb.parse_create(statement)
    assert str(caught.value).startswith(message)


@pytest.mark.parametrize("stored, wanted", [
    (CSAS, CSAS.rstrip(";")),
    (CSAS, CSAS.replace(" ", "\n  ")),
    (CSAS, "create stream large_orders with (kafka_topic = 'large') as select * from orders where note='Big;' "
           "emit changes"),
    (CSAS, "CREATE OR REPLACE STREAM IF NOT EXISTS LARGE_ORDERS WITH (KAFKA_TOPIC='large') AS SELECT * FROM ORDERS "
           "WHERE NOTE = 'Big;' EMIT CHANGES /* why */ ; -- done"),
    (CSAS, CSAS.replace("LARGE_ORDERS", "`LARGE_ORDERS`")),  # a backquoted upper-case name is the unquoted one
    (CSAS.replace("(KAFKA_TOPIC='large')", "(PARTITIONS=1, KAFKA_TOPIC='large', REPLICAS=1)"), CSAS),
    (CSAS, CSAS.replace(" WITH (KAFKA_TOPIC='large')", "")),  # no property set: none compared
])
def test_same_definition(stored, wanted):
    assert ksqldb.same_definition(stored, ksqldb.parse_create(wanted))


@pytest.mark.parametrize("stored, wanted", [
    (CSAS, CSAS.replace("'Big;'", "'big;'")),  # string literals as written
    (CSAS, CSAS.replace("FROM ORDERS", "FROM `Orders`")),
    (CSAS, CSAS.replace("NOTE", "`note`")),  # a backquoted name as written
    (CSAS, CSAS.replace("STREAM", "TABLE")),
    (CSAS, CSAS.replace("CREATE", "CREATE SOURCE")),
    (CSAS, CSAS.replace("'large'", "'larger'")),
    (CSAS, CSAS.replace("(KAFKA_TOPIC='large')", "(KAFKA_TOPIC='large', PARTITIONS=6)")),
    (CSAS, CSAS.replace("EMIT CHANGES", "AND AMOUNT > 5 EMIT CHANGES")),
    (None, CSAS),
    ("", CSAS),
    ("not a statement at all", CSAS),
])
def test_different_definitions(stored, wanted):
    assert not ksqldb.same_definition(stored, ksqldb.parse_create(wanted))


def test_a_with_clause_that_is_not_name_value_pairs_is_compared_as_tokens():
    odd = "CREATE STREAM A (B INT) WITH (KAFKA_TOPIC)"
    parsed = ksqldb.parse_create(odd)
    assert parsed.properties == {} and ("name", "WITH") in parsed.body
    assert ksqldb.same_definition(odd.lower(), parsed)
    assert not ksqldb.same_definition("CREATE STREAM A (B INT) WITH (KAFKA_TOPIC='t')", parsed)


@pytest.mark.parametrize("wanted, replacement", [
    (CSAS, "CREATE OR REPLACE STREAM " + CSAS[len("CREATE STREAM "):]),
    ("create or replace stream if not exists x as select * from y -- end",
     "CREATE OR REPLACE STREAM x as select * from y;"),
    ("CREATE SOURCE TABLE `T` (K INT PRIMARY KEY) WITH (KAFKA_TOPIC='t');",
     "CREATE OR REPLACE SOURCE TABLE `T` (K INT PRIMARY KEY) WITH (KAFKA_TOPIC='t');"),
])
def test_replacing(wanted, replacement):
    assert ksqldb.replacing(ksqldb.parse_create(wanted)) == replacement


_WORDS = st.sampled_from(["SELECT", "*", "FROM", "orders", "WHERE", "amount", ">", "10", "'Mixed Case'", "`Quoted`",
                          "(", ")", ",", "AND", "note", "=", "'a;b'"])


_GAPS = st.lists(st.sampled_from([" ", "  ", "\n", "\t "]), min_size=13, max_size=13)


@given(body=st.lists(_WORDS, min_size=1, max_size=12), gaps=_GAPS, flips=st.lists(st.booleans(), min_size=12, max_size=12))
def test_whitespace_and_the_case_of_unquoted_words_never_count(body, gaps, flips):
    stored = "CREATE STREAM X AS " + " ".join(body) + ";"
    recased = [word if word[0] in "'`" or not flip else word.swapcase() for word, flip in zip(body, flips)]
    written = "create stream x as" + gaps[0] + "".join(w + g for w, g in zip(recased, gaps[1:]))
    assert ksqldb.same_definition(stored, ksqldb.parse_create(written))


@given(literal=st.text(alphabet="abAB;' ", min_size=1, max_size=6))
def test_string_literals_count_exactly(literal):
    escaped = literal.replace("'", "''")
    wanted = ksqldb.parse_create("CREATE STREAM X AS SELECT * FROM Y WHERE A = '%s'" % escaped)
    assert ksqldb.same_definition("CREATE STREAM X AS SELECT * FROM Y WHERE A = '%s';" % escaped, wanted)
    if literal.swapcase() != literal:
        assert not ksqldb.same_definition("CREATE STREAM X AS SELECT * FROM Y WHERE A = '%s';"
                                          % escaped.swapcase(), wanted)


def test_query_id():
    assert ksqldb.query_id({"id": "CSAS_X_1", "queryString": "..."}) == "CSAS_X_1"
    assert ksqldb.query_id({"id": {"id": "CSAS_X_1"}}) == "CSAS_X_1"  # older servers


def test_streams_properties():
    assert ksqldb.streams_properties({"a": "x", "b": 2, "c": True, "d": 0.5}) == {"a": "x", "b": "2", "c": "true",
                                                                                  "d": "0.5"}
    assert ksqldb.streams_properties(None) == {}
    with pytest.raises(ValueError, match=r"properties.d must be a string, number or boolean, got dict"):
        ksqldb.streams_properties({"d": {}})


def test_refusal():
    body = {"@type": "statement_error", "error_code": 40001, "message": "boom", "statementText": "DROP X;"}
    assert ksqldb.refusal("DROP X;", 400, body) == "ksqlDB refused DROP X; (HTTP 400, statement_error 40001): boom"
    assert ksqldb.refusal("A; B;", 400, dict(body, statementText="B;")) == (
        "ksqlDB refused A; B; (HTTP 400, statement_error 40001): boom [statementText: B;]")
    assert ksqldb.refusal("X;", 500, {"message": "down"}) == "ksqlDB refused X; (HTTP 500, error None): down"


class Stub:
    """Answers each request with the next (status, body); records what was sent."""

    def __init__(self, *answers):
        self.answers = list(answers)
        self.sent = []

    def __call__(self, url, method, data, headers, **options):
        self.sent.append((url, method, json.loads(data) if data else None, headers))
        status, body = self.answers.pop(0)
        return status, json.dumps(body).encode()


def test_client_sends_the_versioned_content_type_and_reads_sources():
    stub = Stub((200, [{"@type": "streams", "streams": [{"name": "A", "type": "STREAM"}]}]),
                (200, [{"@type": "tables", "tables": [{"name": "B", "type": "TABLE"}]}]))
    client = ksqldb.KsqlClient("http://k:8088/", request=stub)
    assert client.sources() == {"A": "STREAM", "B": "TABLE"}
    url, method, body, headers = stub.sent[0]
    assert (url, method, body) == ("http://k:8088/ksql", "POST", {"ksql": "SHOW STREAMS;", "streamsProperties": {}})
    assert headers == {"Accept": "application/vnd.ksql.v1+json", "Content-Type": "application/vnd.ksql.v1+json"}


def test_client_errors():
    refused = {"@type": "statement_error", "error_code": 40001, "message": "no", "statementText": "X;", "entities": []}
    client = ksqldb.KsqlClient("http://k:8088", request=Stub((400, refused)))
    with pytest.raises(RestError) as caught:
        client.ksql("X;")
    assert str(caught.value) == "ksqlDB refused X; (HTTP 400, statement_error 40001): no" and caught.value.status == 400
    failed = [{"@type": "currentStatus", "commandStatus": {"status": "ERROR", "message": "it broke"}}]
    with pytest.raises(RestError, match="ksqlDB accepted X; but running it failed: it broke"):
        ksqldb.KsqlClient("http://k:8088", request=Stub((200, failed))).ksql("X;")
    with pytest.raises(RestError, match=r"^POST /ksql: HTTP 401: \(no body\)$"):
        client = ksqldb.KsqlClient("http://k:8088", request=lambda *a, **k: (401, b""))
        client.ksql("X;")
    with pytest.raises(RestError, match="answered without a sourceDescription"):
        ksqldb.KsqlClient("http://k:8088", request=Stub((200, []))).describe("A")


def test_client_info():
    info = {"version": "0.29.0", "kafkaClusterId": "c", "ksqlServiceId": "default_", "serverStatus": "RUNNING"}
    assert ksqldb.KsqlClient("http://k:8088", request=Stub((200, {"KsqlServerInfo": info}))).info() == info
    assert ksqldb.KsqlClient("http://k:8088", request=Stub((200, []))).info() == {}
