# Copyright: kafkaops.platform contributors
# Apache-2.0 (see LICENSE)
"""A FAKE of ksqlDB's REST API, for the unit tests of ksqldb_statement: no ksqlDB server can be
installed on the machines the collection is developed on, so this is what the module is tested
against here. It is not ksqlDB.

It follows the documented API for what the module uses: ``GET /info`` (``KsqlServerInfo``),
``GET /healthcheck``, and ``POST /ksql`` (``{"ksql", "streamsProperties"}``, the versioned content
type) answering an array of result objects for SHOW STREAMS|TABLES [EXTENDED], SHOW QUERIES,
DESCRIBE <name> [EXTENDED] (``sourceDescription`` with ``statement``, ``topic``, ``readQueries``,
``writeQueries``), CREATE [OR REPLACE] [SOURCE] STREAM|TABLE [IF NOT EXISTS] (also AS SELECT,
which starts a persistent query CSAS_/CTAS_<NAME>_<n> reading the source after FROM), TERMINATE
<query id> and DROP STREAM|TABLE [IF EXISTS] <name> [DELETE TOPIC]. Refusals are HTTP 400
``{"@type": "statement_error", "error_code": 40001, "message", "statementText", "entities"}`` with
messages modelled on the server's: an existing name, an unknown source, a missing KAFKA_TOPIC or
topic, dropping a source that queries read from or write into, an unknown query id.

What it does not do: parse ksqlDB's grammar (statements are recognised by their first words and a
few regular expressions, anything else is a syntax error), check columns, types or queries, run
anything, or keep several servers. Unlike the real server, it stores a CREATE statement as it was
sent: ksqlDB stores it rewritten (with the WITH properties it added and, for AS SELECT, a
reformatted query); tests that need such a text set ``sources[name]["statement"]`` themselves.
``FakeKsqlDB().request`` has the signature of ``rest.open_url_request``."""

from __future__ import annotations

import json
import re
from urllib.parse import urlsplit

CONTENT_TYPES = ("application/vnd.ksql.v1+json", "application/json")
NAME = r"(`[^`]+`|[A-Za-z_][A-Za-z0-9_]*)"


def stored_name(written):
    return written[1:-1] if written.startswith("`") else written.upper()


class StatementError(Exception):
    pass


class FakeKsqlDB:
    def __init__(self, version="0.29.0"):
        self.version = version
        self.sources = {}  # stored name -> {"name", "type", "statement", "topic", "source"}
        self.queries = {}  # id -> {"id", "sink", "reads", "queryString"}
        self.topics = set()
        self.calls = []  # (method, path, body)
        self.sequence = 0

    # -- transport -----------------------------------------------------------------------------
    def request(self, url, method, data, headers, **options):
        path = urlsplit(url).path
        body = json.loads(data) if data else None
        self.calls.append((method, path, body))
        if method == "GET" and path == "/info":
            return self._answer(200, {"KsqlServerInfo": {"version": self.version, "kafkaClusterId": "j3tOi6E_RtO_TMH3gBmK7A",
                                                         "ksqlServiceId": "default_", "serverStatus": "RUNNING"}})
        if method == "GET" and path == "/healthcheck":
            return self._answer(200, {"isHealthy": True, "details": {"metastore": {"isHealthy": True},
                                                                     "kafka": {"isHealthy": True}}})
        if method == "POST" and path == "/ksql":
            if headers.get("Content-Type") not in CONTENT_TYPES:
                return self._answer(415, {"@type": "generic_error", "error_code": 41500,
                                          "message": "HTTP 415 Unsupported Media Type"})
            return self._ksql(body["ksql"])
        return self._answer(404, {"@type": "generic_error", "error_code": 40400, "message": "HTTP 404 Not Found"})

    def statements(self):
        """Every statement sent to /ksql, in order."""
        return [body["ksql"] for method, path, body in self.calls if path == "/ksql"]

    def writes(self):
        """The statements sent that change something."""
        return [text for text in self.statements() if not re.match(r"(SHOW|LIST|DESCRIBE)\b", text, re.I)]

    @staticmethod
    def _answer(code, value):
        return code, json.dumps(value).encode()

    # -- /ksql ---------------------------------------------------------------------------------
    def _ksql(self, text):
        entities = []
        for statement in self._split(text):
            try:
                entities.append(dict(self._run(statement), statementText=statement, warnings=[]))
            except StatementError as exc:
                return self._answer(400, {"@type": "statement_error", "error_code": 40001, "message": str(exc),
                                          "statementText": statement, "entities": entities})
        return self._answer(200, entities)

    @staticmethod
    def _split(text):
        statements, current, quote = [], "", None
        for char in text:
            if quote:
                quote = None if char == quote else quote
            elif char in "'`":
                quote = char
            elif char == ";":
                statements.append(current.strip() + ";")
                current = ""
                continue
            current += char
        if current.strip():
            statements.append(current.strip())
        return statements

    def _run(self, statement):
        text = statement.rstrip(";").strip()
        for pattern, handler in (
            (r"(?:SHOW|LIST)\s+(STREAMS|TABLES)(\s+EXTENDED)?", self._list),
            (r"(?:SHOW|LIST)\s+QUERIES", self._show_queries),
            (r"DESCRIBE\s+%s(\s+EXTENDED)?" % NAME, self._describe),
            (r"TERMINATE\s+(\w+)", self._terminate),
            (r"DROP\s+(STREAM|TABLE)\s+(IF\s+EXISTS\s+)?%s(\s+DELETE\s+TOPIC)?" % NAME, self._drop),
            (r"CREATE\s+(OR\s+REPLACE\s+)?(SOURCE\s+)?(STREAM|TABLE)\s+(IF\s+NOT\s+EXISTS\s+)?%s(.*)" % NAME,
             self._create),
        ):
            match = re.fullmatch(pattern, text, re.I | re.S)
            if match:
                return handler(statement, *match.groups())
        raise StatementError("line 1:1: Syntax Error\nUnknown statement '%s'" % text.split()[0])

    def _status(self, command, message):
        self.sequence += 1
        return {"@type": "currentStatus", "commandId": command,
                "commandStatus": {"status": "SUCCESS", "message": message}, "commandSequenceNumber": self.sequence}

    def _running(self, query):
        return {"queryString": query["queryString"], "sinks": [query["sink"]],
                "sinkKafkaTopics": [self.sources[query["sink"]]["topic"]], "id": query["id"],
                "statusCount": {"RUNNING": 1}, "queryType": "PERSISTENT", "state": "RUNNING"}

    def _description(self, source, extended):
        name = source["name"]
        return {"name": name, "windowType": None,
                "readQueries": [self._running(q) for q in self.queries.values() if name in q["reads"]],
                "writeQueries": [self._running(q) for q in self.queries.values() if q["sink"] == name],
                "fields": [], "type": source["type"], "timestamp": "", "statistics": "", "errorStats": "",
                "extended": extended, "keyFormat": "KAFKA", "valueFormat": "JSON", "topic": source["topic"],
                "partitions": 1 if extended else 0, "replication": 1 if extended else 0,
                "statement": source["statement"], "queryOffsetSummaries": [], "sourceConstraints": [],
                "clusterStatistics": [], "clusterErrorStats": []}

    def _list(self, statement, plural, extended):
        kind = plural.upper()[:-1]
        chosen = [s for s in self.sources.values() if s["type"] == kind]
        if extended:
            return {"@type": "source_descriptions", "sourceDescriptions": [self._description(s, True) for s in chosen]}
        listed = [{"type": kind, "name": s["name"], "topic": s["topic"], "keyFormat": "KAFKA", "valueFormat": "JSON",
                   "isWindowed": False} for s in chosen]
        return {"@type": plural.lower(), plural.lower(): listed}

    def _show_queries(self, statement):
        return {"@type": "queries", "queries": [self._running(q) for q in self.queries.values()]}

    def _describe(self, statement, written, extended):
        source = self.sources.get(stored_name(written))
        if source is None:
            raise StatementError("Could not find STREAM/TABLE '%s' in the Metastore" % stored_name(written))
        return {"@type": "sourceDescription", "sourceDescription": self._description(source, bool(extended))}

    def _terminate(self, statement, query_id):
        if query_id not in self.queries:
            raise StatementError("Unknown queryId: %s" % query_id)
        del self.queries[query_id]
        return self._status("terminate/%s/execute" % query_id, "Query terminated.")

    def _drop(self, statement, kind, if_exists, written, delete_topic):
        name = stored_name(written)
        source = self.sources.get(name)
        if source is None:
            if if_exists:
                return self._status("%s/%s/drop" % (kind.lower(), name), "Source `%s` does not exist." % name)
            raise StatementError("Source %s does not exist." % name)
        if source["type"] != kind.upper():
            raise StatementError("Incompatible data source type is %s, but statement was DROP %s"
                                 % (source["type"], kind.upper()))
        readers = sorted(q["id"] for q in self.queries.values() if name in q["reads"])
        writers = sorted(q["id"] for q in self.queries.values() if q["sink"] == name)
        if readers or writers:
            raise StatementError("Cannot drop %s.\nThe following queries read from this source: [%s].\nThe following "
                                 "queries write into this source: [%s].\nYou need to terminate them before dropping %s."
                                 % (name, ", ".join(readers), ", ".join(writers), name))
        del self.sources[name]
        if delete_topic:
            self.topics.discard(source["topic"])
        return self._status("%s/%s/drop" % (kind.lower(), name), "Source `%s` (topic: %s) was dropped."
                            % (name, source["topic"]))

    def _create(self, statement, or_replace, source, kind, if_not_exists, written, rest):
        kind, name = kind.upper(), stored_name(written)
        existing = self.sources.get(name)
        if existing is not None and not or_replace:
            if if_not_exists:
                return self._status("%s/%s/create" % (kind.lower(), name), "%s already exists." % name)
            raise StatementError("Cannot add %s '%s': A %s with the same name already exists"
                                 % (kind.lower(), name, existing["type"].lower()))
        if existing is not None and existing["type"] != kind:
            raise StatementError("Cannot add %s '%s': A %s with the same name already exists"
                                 % (kind.lower(), name, existing["type"].lower()))
        topic = re.search(r"KAFKA_TOPIC\s*=\s*'([^']*)'", rest, re.I)
        select = re.search(r"\bAS\s+SELECT\b.*?\bFROM\s+%s" % NAME, rest, re.I | re.S)
        if select:
            reads = stored_name(select.group(1))
            if reads not in self.sources:
                raise StatementError("Exception while preparing statement: %s does not exist." % reads)
            topic_name = topic.group(1) if topic else name
            self.topics.add(topic_name)
            kept = [q for q in self.queries.values() if q["sink"] == name]
            if kept:
                kept[0].update(reads=[reads], queryString=statement)
            else:
                self.sequence += 1
                query_id = "C%sAS_%s_%d" % (kind[0], name, self.sequence)
                self.queries[query_id] = {"id": query_id, "sink": name, "reads": [reads], "queryString": statement}
        else:
            if topic is None:
                raise StatementError('Missing required property "KAFKA_TOPIC" which has no default value.')
            topic_name = topic.group(1)
            if topic_name not in self.topics:
                if not re.search(r"\bPARTITIONS\s*=", rest, re.I):
                    raise StatementError("Topic '%s' does not exist. If you want to create a new topic for the %s "
                                         "please re-run the statement providing the required 'PARTITIONS' "
                                         "configuration in the WITH clause (and optionally 'REPLICAS')."
                                         % (topic_name, kind.lower()))
                self.topics.add(topic_name)
        self.sources[name] = {"name": name, "type": kind, "statement": statement, "topic": topic_name,
                              "source": bool(source)}
        created = "%s created" % kind.capitalize() + (" and running" if select else "")
        return self._status("%s/%s/create" % (kind.lower(), name), created)
