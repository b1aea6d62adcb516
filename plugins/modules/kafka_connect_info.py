#!/usr/bin/python
# Copyright: kafkaops.platform contributors
# Apache-2.0 (see LICENSE)
from __future__ import annotations

DOCUMENTATION = r"""
---
module: kafka_connect_info
short_description: Describe a Kafka Connect cluster, and wait for plugins or running connectors
version_added: 0.2.0
description:
  - Reads the worker's version and Kafka cluster id, the installed plugins and every connector with
    its state, tasks, type and config (values of keys that look like secrets masked, unless they
    are config provider references).
  - With O(wait_plugins), waits until the worker lists every named plugin class (after a worker
    restart, the proof that a plugin was loaded); with O(wait_running), until every connector and
    all its tasks are C(RUNNING).
  - With O(reading_files), describes only the connectors whose stored config reads one of those
    files through a config provider - the ones to restart after the file changed, as a worker
    reads C(${file:...}) values only when a connector or task starts.
author: kafkaops.platform contributors (@kafkaops)
extends_documentation_fragment:
  - kafkaops.platform.rest
  - kafkaops.platform.connect
  - ansible.builtin.action_common_attributes
options:
  connectors:
    description: Describe only these connectors (all by default). A named connector that does not exist is an error.
    type: list
    elements: str
  reading_files:
    description:
      - Describe only the connectors whose stored config reads one of these files (absolute paths) through the
        C(file) provider (C(${file:PATH:KEY})) or the C(directory) provider (C(${directory:DIR:FILE}) reads
        C(DIR/FILE)), as the C(kafka_connect) role wires them. With O(connectors), only those of them.
    type: list
    elements: path
  offsets:
    description: Also read each described connector's offsets (Kafka 3.6 and later).
    type: bool
    default: false
  wait_plugins:
    description: Plugin classes the worker must list (full class names).
    type: list
    elements: str
    default: []
  wait_running:
    description: Wait until every described connector and all its tasks are C(RUNNING); a failure ends the wait at once.
    type: bool
    default: false
  timeout:
    description: Seconds to wait for the worker to answer and for O(wait_plugins) and O(wait_running).
    type: int
    default: 120
attributes:
  check_mode:
    support: full
    details: Reads only.
  diff_mode:
    support: none
  platform:
    platforms: posix
seealso:
  - module: kafkaops.platform.kafka_connector
"""

EXAMPLES = r"""
- name: After a rolling restart, the Debezium plugin is loaded and every connector runs
  kafkaops.platform.kafka_connect_info:
    url: https://connect1:8083
    ca_path: /etc/kafka/tls/ca.crt
    wait_plugins: [io.debezium.connector.postgresql.PostgresConnector]
    wait_running: true
    timeout: 300
  delegate_to: localhost

- name: Find the connectors that read a secret file, through a worker that asks for a password
  kafkaops.platform.kafka_connect_info:
    url: https://connect1:8083
    url_username: kafkaops
    url_password: "{{ vault_connect_password }}"
    reading_files: [/etc/kafka/kafka-connect/secrets/postgres.properties]
  delegate_to: localhost
  register: readers
"""

RETURN = r"""
server:
  description: C(version), C(commit) and C(kafka_cluster_id) of the worker answering.
  returned: always
  type: dict
plugins:
  description: The installed plugins, each with C(class), C(type) and C(version).
  returned: always
  type: list
  elements: dict
connectors:
  description:
    - By name, each with C(connector) (its state), C(worker_id), C(type), C(tasks), C(config) (secrets masked) and
      C(provider_files), the files its config reads through the C(file) and C(directory) config providers.
  returned: always
  type: dict
  sample: {inventory-cdc: {connector: RUNNING, worker_id: "10.0.0.21:8083", type: source,
                           tasks: [{id: 0, state: RUNNING, worker_id: "10.0.0.22:8083"}],
                           config: {database.password: "${file:/etc/kafka/kafka-connect/secrets/postgres.properties:password}"},
                           provider_files: [/etc/kafka/kafka-connect/secrets/postgres.properties]}}
offsets:
  description: By connector name, its offsets.
  returned: with O(offsets)
  type: dict
"""

import posixpath
import time

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.kafkaops.platform.plugins.module_utils import kafka_connect as kc
from ansible_collections.kafkaops.platform.plugins.module_utils.rest import RestError


class InfoError(Exception):
    """The wait ran out or a named connector is missing."""


def selected(client: kc.ConnectClient, names: list[str] | None, files: list[str] | None = None) -> dict:
    """Connect's ``/connectors?expand=status&expand=info`` answer, limited to ``names`` and to the
    connectors reading one of ``files``."""
    found = client.connectors()
    if names is not None:
        missing = sorted(set(names) - set(found))
        if missing:
            raise InfoError("no such connector(s): %s (the cluster has %s)" % (
                ", ".join(missing), ", ".join(sorted(found)) or "none"))
        found = {name: found[name] for name in names}
    if files is not None:
        wanted = {posixpath.normpath(path) for path in files}
        found = {name: entry for name, entry in found.items() if wanted & set(kc.provider_files(_config(entry)))}
    return found


def _config(entry: dict) -> dict | None:
    return (entry.get("info") or {}).get("config")


def described(raw: dict) -> dict:
    """Each connector's states, type, masked config and the files it reads through a provider."""
    return {name: dict(kc.states(entry.get("status")), config=kc.masked(_config(entry)),
                       provider_files=kc.provider_files(_config(entry)))
            for name, entry in sorted(raw.items())}


def wait_for(check, timeout: float, what: str):
    """Call ``check`` (returns (done, value)) until done or ``timeout``; the last value."""
    deadline = time.monotonic() + timeout
    while True:
        done, value = check()
        if done:
            return value
        if time.monotonic() >= deadline:
            raise InfoError("%s after %ss" % (what, timeout))
        time.sleep(1.0)


def run(module: AnsibleModule, client: kc.ConnectClient) -> dict:
    params = module.params
    server = wait_for(lambda: _answers(client), params["timeout"], "no answer from %s" % params["url"])

    def plugins_loaded():
        plugins = client.plugins()
        missing = sorted(set(params["wait_plugins"]) - {p.get("class") for p in plugins})
        return not missing, (plugins, missing)

    plugins, missing = plugins_loaded()[1]
    if missing:
        plugins = wait_for(plugins_loaded, params["timeout"], "the worker does not list plugin(s) %s" %
                           ", ".join(missing))[0]

    def all_running():
        raw = selected(client, params["connectors"], params["reading_files"])
        failed = ["%s: %s" % (name, "; ".join(kc.failures(entry.get("status")))) for name, entry in sorted(raw.items())
                  if kc.failures(entry.get("status"))]
        if failed:
            raise InfoError("failed: %s" % " / ".join(failed))
        return all(kc.reached(entry.get("status"), "RUNNING", 1) for entry in raw.values()), described(raw)

    if params["wait_running"]:
        connectors = wait_for(all_running, params["timeout"], "not every connector is RUNNING")
    else:
        connectors = described(selected(client, params["connectors"], params["reading_files"]))
    result = dict(changed=False, server=server, connectors=connectors,
                  plugins=[{"class": p.get("class"), "type": p.get("type"), "version": p.get("version")}
                           for p in plugins])
    if params["offsets"]:
        result["offsets"] = {name: client.offsets(name) for name in connectors}
    return result


# a worker that is starting answers before its REST resources exist: 404 (Kafka 4.x) or 503
STARTING = (404, 503)


def _answers(client: kc.ConnectClient):
    try:
        return True, client.server()
    except RestError as exc:
        if exc.status and exc.status not in STARTING:  # it answered, with an error: waiting will not help
            raise
        return False, None


def main() -> None:
    spec = dict(kc.CONNECT_ARGUMENT_SPEC)
    spec.update(
        connectors=dict(type="list", elements="str"),
        reading_files=dict(type="list", elements="path"),
        offsets=dict(type="bool", default=False),
        wait_plugins=dict(type="list", elements="str", default=[]),
        wait_running=dict(type="bool", default=False),
        timeout=dict(type="int", default=120),
    )
    module = AnsibleModule(argument_spec=spec, supports_check_mode=True)
    try:
        result = run(module, kc.ConnectClient.from_params(module.params))
    except (InfoError, RestError) as exc:
        module.fail_json(msg=str(exc))
    module.exit_json(**result)


if __name__ == "__main__":
    main()
