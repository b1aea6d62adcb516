# Copyright: kafkaops.platform contributors
# Apache-2.0 (see LICENSE)
"""A FAKE of Confluent Schema Registry's REST API, for the unit tests of kafka_schema: Schema
Registry is on no registry these machines reach, so this is what kafka_schema is tested against
here (the live ``confluent`` scenario runs it against the real server when an archive is given).

It follows the registry's documented API for the endpoints the collection uses: paths, bodies,
status codes and error codes (40401 subject not found, 40403 schema not found, 40408/40409 no
subject-level config/mode, 409 incompatible schema, 42205 read-only subject). Compatibility is
the AVRO record rule only: under BACKWARD (and its transitive and FULL forms) a new version may
not add a field without a default. ``FakeSchemaRegistry().request`` has the signature of
``rest.open_url_request``."""

from __future__ import annotations

import json
from urllib.parse import parse_qs, unquote, urlsplit


class FakeSchemaRegistry:
    def __init__(self):
        self.subjects = {}  # name -> [{"version", "id", "schema", "schemaType", "references", "deleted"}]
        self.ids = {}  # canonical schema -> id
        self.config = {"global": "BACKWARD"}  # subject (or "global") -> level
        self.mode = {"global": "READWRITE"}
        self.calls = []

    def request(self, url, method, data, headers, **options):
        parts = urlsplit(url)
        body = json.loads(data) if data else None
        self.calls.append((method, parts.path, body))
        path = [unquote(p) for p in parts.path.strip("/").split("/") if p]
        return self._route(method, path, parse_qs(parts.query), body)

    def writes(self):
        registering = [(m, p) for m, p, _b in self.calls
                       if m == "POST" and p.endswith("/versions") and not p.startswith("/compatibility")]
        return [(m, p) for m, p, _b in self.calls if m in ("PUT", "DELETE")] + registering

    @staticmethod
    def _answer(code, value):
        return code, json.dumps(value).encode()

    def _error(self, http, code, message):
        return self._answer(http, {"error_code": code, "message": message})

    # -- routes --------------------------------------------------------------------------------
    def _route(self, method, path, query, body):
        if path[0] in ("config", "mode"):
            return self._level(method, path, query, body)
        if path[0] == "compatibility":
            return self._compatibility(path[2], body)
        subject = path[1]
        live = [v for v in self.subjects.get(subject, []) if not v["deleted"]]
        if len(path) == 2 and method == "POST":
            return self._lookup(subject, live, body)
        if len(path) == 2 and method == "DELETE":
            return self._delete(subject, query)
        if path[2:] == ["versions"] and method == "GET":
            shown = self.subjects.get(subject, []) if query.get("deleted") == ["true"] else live
            if not shown:
                return self._error(404, 40401, "Subject '%s' not found." % subject)
            return self._answer(200, [v["version"] for v in shown])
        if path[2:] == ["versions"] and method == "POST":
            return self._register(subject, live, body)
        if path[2:] == ["versions", "latest"]:
            if not live:
                return self._error(404, 40401, "Subject '%s' not found." % subject)
            return self._answer(200, dict(live[-1], subject=subject))
        return self._error(405, 405, "HTTP 405 Method Not Allowed")

    def _level(self, method, path, query, body):
        kind = path[0]
        store = self.config if kind == "config" else self.mode
        key = "compatibilityLevel" if kind == "config" else "mode"
        subject = path[1] if len(path) > 1 else "global"
        if method == "PUT":
            value = body["compatibility" if kind == "config" else "mode"]
            store[subject] = value
            return self._answer(200, {"compatibility" if kind == "config" else "mode": value})
        if subject not in store:
            if query.get("defaultToGlobal") == ["true"]:
                return self._answer(200, {key: store["global"]})
            code = 40408 if kind == "config" else 40409
            return self._error(404, code, "Subject '%s' does not have subject-level %s configured" % (subject, kind))
        return self._answer(200, {key: store[subject]})

    def _canonical(self, body):
        text = body["schema"]
        if body.get("schemaType", "AVRO") != "PROTOBUF":
            text = json.dumps(json.loads(text), sort_keys=True)
        return json.dumps([text, body.get("schemaType", "AVRO"), body.get("references", [])], sort_keys=True)

    def _lookup(self, subject, live, body):
        if not self.subjects.get(subject):
            return self._error(404, 40401, "Subject '%s' not found." % subject)
        wanted = self._canonical(body)
        for version in live:
            if self._canonical(version) == wanted:
                return self._answer(200, dict(version, subject=subject))
        return self._error(404, 40403, "Schema not found")

    def _problems(self, subject, live, body):
        level = self.config.get(subject, self.config["global"])
        if level == "NONE" or not live or body.get("schemaType", "AVRO") != "AVRO":
            return []
        new = json.loads(body["schema"])
        against = live if level.endswith("_TRANSITIVE") else live[-1:]
        problems = []
        for old in against:
            old_fields = {f["name"] for f in json.loads(old["schema"]).get("fields", [])}
            for field in new.get("fields", []):
                if field["name"] not in old_fields and "default" not in field and level.startswith(("BACKWARD", "FULL")):
                    problems.append("{errorType:'READER_FIELD_MISSING_DEFAULT_VALUE', description:'The field '%s' at "
                                    "path '/fields/%s' in the new schema has no default value and is missing in the "
                                    "old schema', additionalInfo:'%s'}" % (field["name"], field["name"], field["name"]))
        return problems

    def _compatibility(self, subject, body):
        live = [v for v in self.subjects.get(subject, []) if not v["deleted"]]
        if not live:
            return self._error(404, 40401, "Subject '%s' not found." % subject)
        problems = self._problems(subject, live, body)
        return self._answer(200, {"is_compatible": not problems, "messages": problems})

    def _register(self, subject, live, body):
        if self.mode.get(subject, self.mode["global"]) in ("READONLY", "READONLY_OVERRIDE"):
            return self._error(422, 42205, "Subject %s is in read-only mode" % subject)
        lookup = self._lookup(subject, live, body)
        if lookup[0] == 200:
            return self._answer(200, {"id": json.loads(lookup[1])["id"]})
        problems = self._problems(subject, live, body)
        if problems:
            return self._error(409, 409, "Schema being registered is incompatible with an earlier schema for subject "
                                         "\"%s\", details: %s" % (subject, problems))
        canonical = self._canonical(body)
        schema_id = self.ids.setdefault(canonical, len(self.ids) + 1)
        versions = self.subjects.setdefault(subject, [])
        versions.append({"version": len(versions) + 1, "id": schema_id, "schema": body["schema"],
                         "schemaType": body.get("schemaType", "AVRO"), "references": body.get("references", []),
                         "deleted": False})
        return self._answer(200, {"id": schema_id})

    def _delete(self, subject, query):
        versions = self.subjects.get(subject, [])
        if query.get("permanent") == ["true"]:
            if any(not v["deleted"] for v in versions):
                return self._error(404, 40405, "Subject '%s' was not deleted first before being permanently deleted"
                                   % subject)
            if not versions:
                return self._error(404, 40401, "Subject '%s' not found." % subject)
            del self.subjects[subject]
            return self._answer(200, [v["version"] for v in versions])
        live = [v for v in versions if not v["deleted"]]
        if not live:
            return self._error(404, 40401, "Subject '%s' not found." % subject)
        for version in live:
            version["deleted"] = True
        return self._answer(200, [v["version"] for v in live])
