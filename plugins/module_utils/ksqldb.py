# Copyright: kafkaops.platform contributors
# Apache-2.0 (see LICENSE)
"""ksqlDB's REST API: the client ksqldb_statement uses, and the pure functions that read a
CREATE statement and decide whether the server already holds it.

The requests follow ksqlDB's documented REST API: ``POST /ksql`` with ``{"ksql", "streamsProperties"}``
answering a JSON array of result objects (``streams``, ``tables``, ``sourceDescription``,
``currentStatus``), errors ``{"@type": "statement_error" | "generic_error", "error_code",
"message", "statementText"}``, and ``GET /info`` answering ``{"KsqlServerInfo": {...}}``.

Whether a stream or table is what a task asks for is decided by the server's own record of it,
the statement DESCRIBE ... EXTENDED returns, compared with the task's statement by this rule:

* Both are read as tokens: words, 'string literals', `backquoted names`, "double-quoted text" and
  single punctuation characters; whitespace and comments (``--`` to the end of the line,
  ``/* ... */``) only separate tokens, and one final ``;`` is left out.
* Unquoted words are compared upper-cased: ksqlDB keywords and unquoted identifiers are both
  case-insensitive (the server upper-cases unquoted identifiers), so ``create stream orders`` is
  ``CREATE STREAM ORDERS``. A backquoted name is compared as written (`Orders` is not `ORDERS`,
  while `ORDERS` is orders); string literals and double-quoted text are compared as written.
* The head ``CREATE [OR REPLACE] [SOURCE] STREAM|TABLE [IF NOT EXISTS] name`` counts for its kind,
  SOURCE and the name only: OR REPLACE and IF NOT EXISTS say how to apply a statement, not what
  it creates.
* The WITH clause (the one before AS SELECT, or after the columns) is compared as properties,
  in any order, and only those the task's statement sets: ksqlDB stores the statement with the
  properties it added itself (KAFKA_TOPIC, PARTITIONS, REPLICAS, KEY_FORMAT, CLEANUP_POLICY, ...),
  so a property the task leaves out says nothing.

Beyond that nothing is interpreted: ksqlDB also rewrites the query of a CREATE ... AS SELECT
(aliases, parentheses, EMIT CHANGES) and type names (INT as INTEGER) when it stores the statement,
and such a rewrite reads as a different statement unless the task writes it the server's way.
"""
from __future__ import annotations

import re
from typing import Any, NamedTuple

from ansible_collections.kafkaops.platform.plugins.module_utils.rest import RestClient, RestError

KINDS = ("STREAM", "TABLE")
PLAIN_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")
BACKQUOTED_NAME = re.compile(r"`([^`]+)`\Z")
_WORD = re.compile(r"\w+")
_QUOTES = {"'": "string", "`": "name", '"': "quoted"}

Token = tuple[str, str]  # (kind, value): ("name", "ORDERS"), ("string", "home"), ("quoted", ...), ("punct", "(")


class Create(NamedTuple):
    """A CREATE STREAM or CREATE TABLE statement as this module compares it."""

    kind: str  # STREAM or TABLE
    source: bool  # CREATE SOURCE STREAM|TABLE (read-only)
    name: str  # as ksqlDB stores it
    or_replace: bool
    if_not_exists: bool
    body: tuple[Token, ...]  # the tokens after the name, without the WITH clause and the final ';'
    properties: dict[str, tuple[Token, ...]]  # the WITH clause: property name -> value tokens
    text: str  # the statement as written, ending in one ';'
    tail: str  # the text from the name on, without the final ';'


# -- names -----------------------------------------------------------------------------------------------
def identifier(written: str) -> str:
    """The name ksqlDB stores for a name as written: an unquoted name upper-cased, a backquoted one as is."""
    if PLAIN_NAME.match(written):
        return written.upper()
    quoted = BACKQUOTED_NAME.match(written)
    if quoted:
        return quoted.group(1)
    raise ValueError("%r is not a ksqlDB name: letters, digits and underscores, not starting with a digit, "
                     "or any name in backquotes (`Orders-2024`)" % written)


def quote(name: str) -> str:
    """A stored name as a backquoted identifier, which ksqlDB reads back exactly."""
    return "`%s`" % name.replace("`", "``")


# -- statements ----------------------------------------------------------------------------------------------
def _quoted(text: str, start: int) -> tuple[str, int]:
    """The content of the quoted text at ``start`` (a doubled quote stands for one) and the offset after it."""
    mark = text[start]
    parts = []
    position = start + 1
    while True:
        end = text.find(mark, position)
        if end < 0:
            raise ValueError("statement has an unterminated %s quote (from character %d)" % (mark, start + 1))
        parts.append(text[position:end])
        if not text.startswith(mark, end + 1):
            return "".join(parts), end + 1
        parts.append(mark)
        position = end + 2


def tokens(text: str) -> list[tuple[str, str, int, int]]:
    """(kind, value as written, start, end) of each token; kinds ``word``, ``name`` (backquoted),
    ``string``, ``quoted`` (double quotes) and ``punct``. Whitespace and comments are dropped."""
    found = []
    position = 0
    while position < len(text):
        char = text[position]
        if char.isspace():
            position += 1
        elif text.startswith("--", position):
            end = text.find("\n", position)
            position = len(text) if end < 0 else end + 1
        elif text.startswith("/*", position):
            end = text.find("*/", position + 2)
            if end < 0:
                raise ValueError("statement has an unterminated /* comment (from character %d)" % (position + 1))
            position = end + 2
        elif char in _QUOTES:
            value, end = _quoted(text, position)
            found.append((_QUOTES[char], value, position, end))
            position = end
        else:
            word = _WORD.match(text, position)
            end = word.end() if word else position + 1
            found.append(("word" if word else "punct", text[position:end], position, end))
            position = end
    return found


def _normal(kind: str, value: str) -> Token:
    """A token as compared: unquoted words upper-cased, and a name whether backquoted or not."""
    if kind == "word":
        return ("name", value.upper())
    return (kind, value)


def _split_with(body: tuple[Token, ...]) -> tuple[tuple[Token, ...], dict[str, tuple[Token, ...]]]:
    """The body without its WITH clause, and the clause's properties (none if it has no WITH clause
    of ``name = value`` pairs before a top-level AS)."""
    depth = 0
    for index, token in enumerate(body):
        if token == ("punct", "("):
            depth += 1
        elif token == ("punct", ")"):
            depth -= 1
        elif depth == 0 and token == ("name", "AS"):
            break
        elif depth == 0 and token == ("name", "WITH") and body[index + 1:index + 2] == (("punct", "("),):
            return _with_properties(body, index)
    return body, {}


def _with_properties(body: tuple[Token, ...], start: int) -> tuple[tuple[Token, ...], dict[str, tuple[Token, ...]]]:
    depth = 0
    items: list[list[Token]] = [[]]
    for index in range(start + 1, len(body)):
        token = body[index]
        if token == ("punct", "("):
            depth += 1
            if depth == 1:
                continue
        elif token == ("punct", ")"):
            depth -= 1
            if depth == 0:
                properties = {}
                for item in items:
                    if len(item) < 3 or item[0][0] != "name" or item[1] != ("punct", "="):
                        return body, {}  # not a list of name = value: compared as tokens
                    properties[item[0][1].upper()] = tuple(item[2:])
                return body[:start] + body[index + 1:], properties
        if depth == 1 and token == ("punct", ","):
            items.append([])
        else:
            items[-1].append(token)
    return body, {}


def _head(statement: str) -> str:
    """The first words of a statement, for messages."""
    words = statement.split()
    return " ".join(words[:4]) + (" ..." if len(words) > 4 else "")


def parse_create(statement: str) -> Create:
    """The CREATE [OR REPLACE] [SOURCE] STREAM|TABLE [IF NOT EXISTS] statement in ``statement``;
    ValueError if it is not one, or holds more than one statement."""
    found = tokens(statement)
    semicolons = [token for token in found if token[0] == "punct" and token[1] == ";"]
    if semicolons and (len(semicolons) > 1 or semicolons[-1] is not found[-1]):
        raise ValueError("statement must be one statement, but more follows the ';' at character %d"
                         % (semicolons[0][2] + 1))
    if semicolons:
        found = found[:-1]
    words = [value.upper() if kind == "word" else None for kind, value, _start, _end in found] + [None] * 4

    position = 1
    or_replace = words[1:3] == ["OR", "REPLACE"]
    position += 2 if or_replace else 0
    source = words[position] == "SOURCE"
    position += 1 if source else 0
    kind = words[position]
    if words[0] != "CREATE" or kind not in KINDS:
        raise ValueError("statement must be CREATE [OR REPLACE] [SOURCE] STREAM|TABLE ..., got %r" % _head(statement))
    position += 1
    if_not_exists = words[position:position + 3] == ["IF", "NOT", "EXISTS"]
    position += 3 if if_not_exists else 0
    if position >= len(found) or found[position][0] not in ("word", "name"):
        raise ValueError("statement names no %s after CREATE %s" % (kind.lower(), kind))
    name_kind, name_text, name_start, _end = found[position]
    try:
        name = identifier(name_text if name_kind == "word" else quote(name_text))
    except ValueError as exc:
        raise ValueError("statement: %s" % exc) from exc
    body, properties = _split_with(tuple(_normal(k, v) for k, v, _s, _e in found[position + 1:]))
    end = found[-1][3]
    return Create(kind=kind, source=source, name=name, or_replace=or_replace, if_not_exists=if_not_exists,
                  body=body, properties=properties, text=statement[found[0][2]:end] + ";",
                  tail=statement[name_start:end])


def same_definition(stored: str | None, wanted: Create) -> bool:
    """Whether the statement ksqlDB stored creates what ``wanted`` creates, by the rule in this
    module's documentation; a stored statement this module cannot read is a different one."""
    if not stored:
        return False
    try:
        current = parse_create(stored)
    except ValueError:
        return False
    if (current.kind, current.source, current.name, current.body) != (wanted.kind, wanted.source, wanted.name,
                                                                      wanted.body):
        return False
    return all(current.properties.get(key) == value for key, value in wanted.properties.items())


def replacing(wanted: Create) -> str:
    """``wanted`` as CREATE OR REPLACE (without IF NOT EXISTS, which ksqlDB does not take with it)."""
    return "CREATE OR REPLACE %s%s %s;" % ("SOURCE " if wanted.source else "", wanted.kind, wanted.tail)


# -- answers ------------------------------------------------------------------------------------------------
def query_id(query: Any) -> str:
    """A query's id from a readQueries/writeQueries entry (``"id": "CSAS_X_1"``, or ``{"id": ...}`` in older servers)."""
    value = query.get("id") if isinstance(query, dict) else query
    if isinstance(value, dict):
        value = value.get("id")
    return str(value)


def streams_properties(properties: dict[str, Any] | None) -> dict[str, str]:
    """The task's ``properties`` as ksqlDB's streamsProperties: names and values as strings."""
    converted = {}
    for key, value in (properties or {}).items():
        if isinstance(value, bool):
            converted[key] = "true" if value else "false"
        elif isinstance(value, (int, float, str)):
            converted[key] = str(value)
        else:
            raise ValueError("properties.%s must be a string, number or boolean, got %s" % (key, type(value).__name__))
    return converted


def refusal(statement: str, status: int, body: dict[str, Any]) -> str:
    """The message of a statement ksqlDB refused: its own message, and the statementText it names
    when that is not the statement sent."""
    message = "ksqlDB refused %s (HTTP %d, %s %s): %s" % (statement, status, body.get("@type") or "error",
                                                          body.get("error_code"), body.get("message"))
    named = body.get("statementText")
    if named and named.strip() != statement.strip():
        message += " [statementText: %s]" % named
    return message


class KsqlClient(RestClient):
    """Requests to one ksqlDB server (any server of a cluster: statements go through its command topic)."""

    content_type = "application/vnd.ksql.v1+json"

    def info(self) -> dict[str, Any]:
        """KsqlServerInfo: version, kafkaClusterId, ksqlServiceId (and serverStatus)."""
        body = self.call("GET", "/info")[1]
        return (body.get("KsqlServerInfo") or {}) if isinstance(body, dict) else {}

    def ksql(self, statement: str, properties: dict[str, str] | None = None) -> list[dict[str, Any]]:
        """The result objects of ``statement``; a refusal raises RestError with ksqlDB's message."""
        try:
            answer = self.call("POST", "/ksql", {"ksql": statement, "streamsProperties": properties or {}})[1]
        except RestError as exc:
            if isinstance(exc.body, dict) and exc.body.get("message"):
                raise RestError(refusal(statement, exc.status, exc.body), exc.status, exc.body) from exc
            raise
        entities = [entity for entity in answer if isinstance(entity, dict)] if isinstance(answer, list) else []
        for entity in entities:
            status = entity.get("commandStatus") or {}
            if status.get("status") == "ERROR":
                raise RestError("ksqlDB accepted %s but running it failed: %s" % (statement, status.get("message")),
                                200, entities)
        return entities

    def sources(self) -> dict[str, str]:
        """Every stream and table: stored name -> STREAM or TABLE."""
        found = {}
        for listing, key in (("SHOW STREAMS;", "streams"), ("SHOW TABLES;", "tables")):
            for entity in self.ksql(listing):
                for source in entity.get(key) or []:
                    found[source["name"]] = source.get("type") or key[:-1].upper()
        return found

    def describe(self, name: str) -> dict[str, Any]:
        """The sourceDescription (DESCRIBE ... EXTENDED) of the stream or table stored as ``name``."""
        statement = "DESCRIBE %s EXTENDED;" % quote(name)
        for entity in self.ksql(statement):
            if isinstance(entity.get("sourceDescription"), dict):
                return entity["sourceDescription"]
        raise RestError("%s: ksqlDB answered without a sourceDescription" % statement)
