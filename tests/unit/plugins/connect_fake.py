# Copyright: kafkaops.platform contributors
# Apache-2.0 (see LICENSE)
"""A FAKE of Kafka Connect's REST API, for unit tests of the error paths and of what the modules
send. It follows the documented API of Apache Kafka's Connect (paths, bodies, status codes) for the
endpoints the collection uses, and keeps connectors in memory. It is not Connect: the live tests in
tests/integration/test_kafka_connector.py run the modules against real workers.

``FakeConnect().request`` has the signature of ``rest.open_url_request``."""

from __future__ import annotations

import json
from urllib.parse import parse_qs, unquote, urlsplit


class FakeConnect:
    def __init__(self, plugins=None):
        # plugin class -> (type, required keys, password keys)
        self.plugins = plugins or {
            "org.example.SourceConnector": ("source", ["topic"], ["db.password"]),
            "org.example.SinkConnector": ("sink", ["topics"], []),
        }
        self.connectors = {}  # name -> {"config", "state", "tasks": [state, ...], "offsets": [...]}
        self.calls = []  # (method, path, body)
        self.conflicts = 0  # answer this many requests with 409 (a rebalance) first
        self.starting = 0  # answer this many requests with 404, as a worker whose REST resources are not up yet
        self.traces = {}  # (name, task id) -> trace of a FAILED task
        self.users = {}  # name -> password: with users, as the basic auth extension, a request without them gets 401

    # -- transport -----------------------------------------------------------------------------
    def request(self, url, method, data, headers, **options):
        parts = urlsplit(url)
        body = json.loads(data) if data else None
        self.calls.append((method, parts.path, body))
        if self.users and not self._authenticated(options):
            # the extension's answer, plain text
            return 401, b"User cannot access the resource."
        if self.starting:
            self.starting -= 1
            return 404, b"<html><body><h2>HTTP ERROR 404 Not Found</h2></body></html>"
        if self.conflicts:
            self.conflicts -= 1
            return 409, self._error(409, "Cannot complete request because of a conflicting operation (e.g. worker "
                                         "rebalance)")
        return self._route(method, [unquote(p) for p in parts.path.strip("/").split("/") if p],
                           parse_qs(parts.query), body)

    def _authenticated(self, options):
        name, password = options.get("url_username"), options.get("url_password")
        # open_url sends the header up front only with force_basic_auth; Connect never asks with a challenge
        return bool(options.get("force_basic_auth")) and password is not None and self.users.get(name) == password

    def writes(self):
        return [(m, p) for m, p, _b in self.calls if m != "GET" and not p.endswith("/config/validate")]

    @staticmethod
    def _error(code, message):
        return json.dumps({"error_code": code, "message": message}).encode()

    @staticmethod
    def _ok(code, value):
        return code, (json.dumps(value).encode() if value is not None else b"")

    # -- routes --------------------------------------------------------------------------------
    def _route(self, method, path, query, body):
        if path == [] and method == "GET":
            return self._ok(200, {"version": "4.3.1", "commit": "fake", "kafka_cluster_id": "fake-cluster"})
        if path == ["connector-plugins"]:
            return self._ok(200, [{"class": c, "type": t, "version": "4.3.1"} for c, (t, _r, _p) in self.plugins.items()])
        if len(path) == 4 and path[0] == "connector-plugins" and path[2:] == ["config", "validate"]:
            return self._validate(path[1], body)
        if path == ["connectors"] and method == "GET":
            return self._ok(200, {name: {"status": self._status(name), "info": self._info(name)}
                                  for name in self.connectors})
        if path == ["connectors"] and method == "POST":
            return self._create(body)
        name = path[1] if len(path) > 1 else None
        if name not in self.connectors and not (method == "PUT" and path[2:] == ["config"]):
            return 404, self._error(404, "Connector %s not found" % name)
        return self._connector(method, name, path[2:], query, body)

    def _connector(self, method, name, rest, query, body):
        connector = self.connectors.get(name)
        if rest == [] and method == "DELETE":
            del self.connectors[name]
            return self._ok(204, None)
        if rest == ["config"] and method == "GET":
            return self._ok(200, dict(connector["config"]))
        if rest == ["config"] and method == "PUT":
            created = connector is None
            self._store(name, dict(body, name=name), "RUNNING" if created else connector["state"])
            return self._ok(201 if created else 200, self._info(name))
        if rest == ["status"]:
            return self._ok(200, self._status(name))
        if rest in (["pause"], ["resume"], ["stop"]) and method == "PUT":
            state = {"pause": "PAUSED", "resume": "RUNNING", "stop": "STOPPED"}[rest[0]]
            connector["state"] = state
            connector["tasks"] = [] if state == "STOPPED" else [state] * max(1, len(connector["tasks"]))
            return self._ok(202, None)
        if rest == ["restart"] and method == "POST":
            only_failed = query.get("onlyFailed") == ["true"]
            connector["tasks"] = ["RUNNING" if (t == "FAILED" or not only_failed) else t for t in connector["tasks"]]
            return self._ok(202, self._status(name))
        if rest == ["offsets"]:
            return self._offsets(method, connector, body)
        return 405, self._error(405, "HTTP 405 Method Not Allowed")

    def _offsets(self, method, connector, body):
        if method == "GET":
            return self._ok(200, {"offsets": connector["offsets"]})
        if connector["state"] != "STOPPED":
            return 400, self._error(400, "Connectors must be in the STOPPED state before their offsets can be modified")
        if method == "DELETE":
            connector["offsets"] = []
        else:
            for item in body["offsets"]:
                connector["offsets"] = [o for o in connector["offsets"] if o["partition"] != item["partition"]]
                if item["offset"] is not None:
                    connector["offsets"].append(item)
        return self._ok(200, {"message": "The offsets for this connector have been altered successfully"})

    def _create(self, body):
        name = body["name"]
        if name in self.connectors:
            return 409, self._error(409, "Connector %s already exists" % name)
        state = body.get("initial_state", "RUNNING")
        self._store(name, dict(body["config"], name=name), state)
        return self._ok(201, self._info(name))

    def _store(self, name, config, state):
        tasks = [] if state == "STOPPED" else [state] * int(config.get("tasks.max", "1"))
        previous = self.connectors.get(name, {})
        self.connectors[name] = {"config": config, "state": state, "tasks": tasks,
                                 "offsets": previous.get("offsets", [])}

    def _validate(self, plugin, body):
        if plugin not in self.plugins:
            return 404, self._error(404, "Failed to find any class that implements Connector and which name matches "
                                         "%s" % plugin)
        _type, required, passwords = self.plugins[plugin]
        configs = []
        for key in sorted(set(required) | set(passwords) | set(body)):
            errors = ['Missing required configuration "%s" which has no default value.' % key] \
                if key in required and not body.get(key) else []
            configs.append({"definition": {"name": key, "type": "PASSWORD" if key in passwords else "STRING"},
                            "value": {"name": key, "value": body.get(key), "errors": errors}})
        return self._ok(200, {"name": plugin, "error_count": sum(len(c["value"]["errors"]) for c in configs),
                              "configs": configs})

    def _status(self, name):
        connector = self.connectors[name]
        plugin = self.plugins.get(connector["config"].get("connector.class"), ("source",))
        tasks = []
        for index, state in enumerate(connector["tasks"]):
            task = {"id": index, "state": state, "worker_id": "w%d:8083" % (index % 2)}
            if state == "FAILED":
                task["trace"] = self.traces.get((name, index), "org.example.Boom: failed\n\tat org.example.Task.poll")
            tasks.append(task)
        return {"name": name, "connector": {"state": connector["state"], "worker_id": "w0:8083"}, "tasks": tasks,
                "type": plugin[0]}

    def _info(self, name):
        connector = self.connectors[name]
        return {"name": name, "config": dict(connector["config"]),
                "tasks": [{"connector": name, "task": i} for i in range(len(connector["tasks"]))],
                "type": self._status(name)["type"]}
