#!/usr/bin/python
# Copyright: kafkaops.platform contributors
# Apache-2.0 (see LICENSE)
from __future__ import annotations

DOCUMENTATION = r"""
---
module: kafka_connector
short_description: Create, configure, pause, stop, restart and delete one Kafka Connect connector
version_added: 0.2.0
description:
  - Manages one connector through Kafka Connect's REST API. Connectors it is not told about are
    left alone.
  - A changed config is first checked by the plugin (C(/connector-plugins/<class>/config/validate));
    every refused key is named in the error, and nothing is changed.
  - The config is compared with the stored one, in which config provider references such as
    C(${file:/etc/kafka-connect/secrets/db.properties:password}) stay unresolved, so keeping
    secrets in provider files never causes a false change.
  - Values of keys the plugin declares as passwords are masked in the result and the diff.
  - Requests answered with HTTP 409 (the workers are rebalancing) are retried, see O(rebalance_timeout).
  - After a change it waits until the connector and all its tasks have reached the wanted state; a
    failed connector or task fails the task with the exception and its causes from the stack trace.
author: kafkaops.platform contributors (@kafkaops)
extends_documentation_fragment:
  - kafkaops.platform.rest
  - kafkaops.platform.connect
  - ansible.builtin.action_common_attributes
options:
  name:
    description: The connector's name.
    type: str
    required: true
  state:
    description:
      - V(present) creates or updates the connector and leaves its running state alone (a new one
        runs).
      - V(running), V(paused) and V(stopped) also move it to that state (a new one is created in
        it). A stopped connector keeps its config but has no tasks (Kafka 3.5 and later); creating one
        paused or stopped needs Kafka 3.7 or later.
      - V(absent) deletes it.
    type: str
    choices: [present, running, paused, stopped, absent]
    default: present
  config:
    description:
      - The connector's config, with C(connector.class). Values may be strings, numbers, booleans or
        lists (joined with commas), as Connect stores every value as a string. C(name) is added.
      - Required to create the connector; when left out, the stored config is kept.
      - Keep secrets out of it; name them through a config provider of the workers (the
        C(kafka_connect) role sets up C(file), C(directory) and C(env)).
    type: dict
  validate:
    description: Check a changed config through the plugin before applying it.
    type: bool
    default: true
  restart:
    description:
      - Restart the connector and its tasks (with O(include_tasks)); with O(only_failed), only the
        failed ones, and nothing when none has failed.
      - A worker resolves config provider references (C(${file:...})) when a connector or task starts;
        after such a file changed, restart with O(only_failed=false) (the C(kafka_connect) role does, for
        the secret files it changed).
    type: bool
    default: false
  only_failed:
    description: With O(restart), restart only failed instances.
    type: bool
    default: true
  include_tasks:
    description: With O(restart), restart the tasks as well as the connector.
    type: bool
    default: true
  offsets:
    description:
      - Source or sink offsets to set, in Connect's format (a list of C(partition)/C(offset) dicts; an
        C(offset) of null removes that partition's offset). Partitions not listed keep their offsets.
      - Needs O(state=stopped) and O(allow_offset_changes). Changed only when an offset differs.
    type: list
    elements: dict
  reset_offsets:
    description:
      - Remove every offset of the connector, so that it starts over. Needs O(state=stopped) and
        O(allow_offset_changes); changed only when it has offsets.
    type: bool
    default: false
  allow_offset_changes:
    description: Confirms that O(offsets) or O(reset_offsets) may rewrite where the connector resumes.
    type: bool
    default: false
  wait:
    description: Wait until the connector and its tasks are in the wanted state (or, with V(present), in a steady one).
    type: bool
    default: true
  min_tasks:
    description: With O(wait), the number of tasks a running or paused connector must have before it counts as there.
    type: int
    default: 1
  timeout:
    description: Seconds to wait for the state.
    type: int
    default: 120
attributes:
  check_mode:
    support: full
    details: Reads the connector and validates a changed config; changes nothing.
  diff_mode:
    support: full
    details: The config as C(key=value) lines, secrets masked, and the state.
  platform:
    platforms: posix
notes:
  - Offsets (Kafka 3.6 and later) and the restart of only failed instances (Kafka 3.0 and later)
    follow the Connect REST API of Apache Kafka.
seealso:
  - module: kafkaops.platform.kafka_connect_info
"""

EXAMPLES = r"""
- name: Stream a file into a topic, the password read by the workers' file config provider
  kafkaops.platform.kafka_connector:
    url: https://connect1:8083
    ca_path: /etc/kafka/tls/ca.crt
    name: orders-source
    state: running
    config:
      connector.class: io.debezium.connector.postgresql.PostgresConnector
      tasks.max: 1
      database.hostname: db1
      database.user: debezium
      database.password: "${file:/etc/kafka-connect/secrets/orders.properties:password}"
      database.dbname: shop
      topic.prefix: shop
  delegate_to: localhost

- name: Restart whatever failed of it
  kafkaops.platform.kafka_connector:
    url: https://connect1:8083
    name: orders-source
    restart: true

- name: Restart it and all its tasks, so that they read a changed secret file, on workers that ask for a password
  kafkaops.platform.kafka_connector:
    url: https://connect1:8083
    url_username: kafkaops
    url_password: "{{ vault_connect_password }}"
    name: orders-source
    restart: true
    only_failed: false

- name: Stop it and move its source offset back
  kafkaops.platform.kafka_connector:
    url: https://connect1:8083
    name: lines
    state: stopped
    allow_offset_changes: true
    offsets:
      - partition: {filename: /var/lib/input/lines.txt}
        offset: {position: 0}
"""

RETURN = r"""
name:
  description: The connector's name.
  returned: always
  type: str
actions:
  description: What was done (or, in check mode, would be), in order.
  returned: always
  type: list
  elements: str
  sample: [updated, resumed]
config:
  description: The connector's config (the desired one, else the stored one), secrets masked.
  returned: unless O(state=absent)
  type: dict
config_changes:
  description: Keys C(added), C(changed) and C(removed) going from the stored config to O(config).
  returned: when O(config) is given
  type: dict
connector:
  description: The connector's state after the task (C(RUNNING), C(PAUSED), C(STOPPED), C(FAILED), ...).
  returned: unless O(state=absent)
  type: str
tasks:
  description: Its tasks with C(id), C(state) and C(worker_id).
  returned: unless O(state=absent)
  type: list
  elements: dict
restarted:
  description: The failed instances restarted (or C([all])).
  returned: when a restart was done
  type: list
  elements: str
offsets_before:
  description: The connector's offsets before O(offsets) or O(reset_offsets) were applied.
  returned: with O(offsets) or O(reset_offsets)
  type: list
  elements: dict
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.kafkaops.platform.plugins.module_utils._connector_runner import ConnectorError, run
from ansible_collections.kafkaops.platform.plugins.module_utils.kafka_connect import (
    CONNECT_ARGUMENT_SPEC,
    ConnectClient,
)
from ansible_collections.kafkaops.platform.plugins.module_utils.rest import run_module


def argument_spec() -> dict:
    spec = dict(CONNECT_ARGUMENT_SPEC)
    spec.update(
        name=dict(type="str", required=True),
        state=dict(type="str", default="present", choices=["present", "running", "paused", "stopped", "absent"]),
        config=dict(type="dict"),
        validate=dict(type="bool", default=True),
        restart=dict(type="bool", default=False),
        only_failed=dict(type="bool", default=True),
        include_tasks=dict(type="bool", default=True),
        offsets=dict(type="list", elements="dict"),
        reset_offsets=dict(type="bool", default=False),
        allow_offset_changes=dict(type="bool", default=False),
        wait=dict(type="bool", default=True),
        min_tasks=dict(type="int", default=1),
        timeout=dict(type="int", default=120),
    )
    return spec


def main() -> None:
    module = AnsibleModule(argument_spec=argument_spec(), supports_check_mode=True)
    client = ConnectClient.from_params(module.params)
    run_module(module, lambda: run(module, client), ConnectorError)


if __name__ == "__main__":
    main()
