#!/usr/bin/python
# Copyright: kafkaops.platform contributors
# Apache-2.0 (see LICENSE)
from __future__ import annotations

DOCUMENTATION = r"""
---
module: kafka_restart_gate
short_description: Wait until a Kafka process may be restarted, or until it is back after a restart
version_added: 0.3.0
description:
  - The gate of every rolling restart of the platform role, asked through the admin API as Strimzi's
    KafkaRoller asks it. It waits (never restarts anything) until the cluster allows the next step, and
    fails after O(timeout) seconds with what it saw last.
  - With O(phase=before) for a broker, waits until no partition would fall below its
    C(min.insync.replicas) while the broker is down (its in-sync replicas without this broker). A
    partition with no more replicas than C(min.insync.replicas) cannot be restarted any other way; it
    is reported in RV(unavoidable) and does not block.
  - With O(phase=before), also refuses while a log directory of any broker is offline, and with
    O(quorum) while the KRaft controller quorum has no leader.
  - With O(phase=before) for a controller, waits until a majority of the voters other than this one
    are caught up with the leader, so the quorum keeps a majority while it is down.
  - With O(phase=after), waits until every expected broker is registered and unfenced and no partition
    is offline or under-replicated, and for a controller until it is a voter again and caught up
    (DescribeQuorum).
author: kafkaops.platform contributors (@kafkaops)
extends_documentation_fragment:
  - kafkaops.platform.admin
  - ansible.builtin.action_common_attributes
options:
  node_id:
    description: The node id of the process restarted.
    type: int
    required: true
  roles:
    description: The process's roles (C(process.roles) in Kafka's configuration).
    type: list
    elements: str
    choices: [broker, controller]
    required: true
  phase:
    description: Ask before the restart (may it go down now?) or after it (is it back?).
    type: str
    choices: [before, after]
    required: true
  expected_brokers:
    description: Broker ids that must be registered and unfenced after the restart.
    type: list
    elements: int
    default: []
  expected_voters:
    description: Controller ids that must be voters of the quorum (with O(quorum)).
    type: list
    elements: int
    default: []
  quorum:
    description: Ask the KRaft controller quorum too (DescribeQuorum); false in ZooKeeper mode.
    type: bool
    default: true
  caught_up_ms:
    description:
      - A voter counts as caught up when its last caught-up moment is at most this many milliseconds
        behind the leader's (Kafka's C(controller.quorum.fetch.timeout.ms) by default).
    type: int
    default: 2000
  timeout:
    description: Seconds to wait before failing.
    type: int
    default: 300
attributes:
  check_mode:
    support: full
    details: Reads only; it waits in check mode as well.
  diff_mode:
    support: none
  platform:
    platforms: posix
"""

EXAMPLES = r"""
- name: Wait until broker 2 may go down
  kafkaops.platform.kafka_restart_gate:
    bootstrap_servers: ["kafka1:9092", "kafka2:9092"]
    security: "{{ platform_security }}"
    node_id: 2
    roles: [broker, controller]
    phase: before
  delegate_to: localhost

- name: Restart it
  ansible.builtin.systemd_service:
    name: kafka-broker
    state: restarted

- name: Wait until it is back, registered, in sync and caught up in the quorum
  kafkaops.platform.kafka_restart_gate:
    bootstrap_servers: ["kafka1:9092", "kafka2:9092"]
    security: "{{ platform_security }}"
    node_id: 2
    roles: [broker, controller]
    phase: after
    expected_brokers: [1, 2, 3]
    expected_voters: [1, 2, 3]
  delegate_to: localhost
"""

RETURN = r"""
ready:
  description: Always true when the module returns (it fails otherwise).
  type: bool
  returned: success
waited:
  description: Seconds the gate waited.
  type: float
  returned: success
problems:
  description: What the gate saw last (empty when it returns).
  type: list
  elements: str
  returned: always
unavoidable:
  description: Partitions that fall below C(min.insync.replicas) with any restart (no more replicas than it).
  type: list
  elements: str
  returned: success
progress:
  description: The states seen while waiting, with the seconds since the start.
  type: list
  elements: str
  returned: always
"""

import time

from ansible.module_utils.basic import missing_required_lib

from ansible_collections.kafkaops.platform.plugins.module_utils import restart_gate as gate
from ansible_collections.kafkaops.platform.plugins.module_utils.connection import KafkaModule
from ansible_collections.kafkaops.platform.plugins.module_utils.kafka_admin import (
    ADMIN_ARGUMENT_SPEC,
    HAS_KAFKA,
    KAFKA_IMPORT_ERROR,
    KafkaAdmin,
    KafkaAdminError,
    admin_arguments,
)
from ansible_collections.kafkaops.platform.plugins.module_utils.security import SecurityConfigError


def main():
    spec = dict(ADMIN_ARGUMENT_SPEC)
    spec.update(
        node_id=dict(type="int", required=True),
        roles=dict(type="list", elements="str", choices=["broker", "controller"], required=True),
        phase=dict(type="str", choices=list(gate.PHASES), required=True),
        expected_brokers=dict(type="list", elements="int", default=[]),
        expected_voters=dict(type="list", elements="int", default=[]),
        quorum=dict(type="bool", default=True),
        caught_up_ms=dict(type="int", default=gate.DEFAULT_CAUGHT_UP_MS),
        timeout=dict(type="int", default=300),
    )
    module = KafkaModule(argument_spec=spec, supports_check_mode=True)
    if not HAS_KAFKA:
        module.fail_json(msg=missing_required_lib("kafka-python"), exception=KAFKA_IMPORT_ERROR)
    params = module.params
    start = time.monotonic()
    progress = []

    def note(message):
        progress.append("%5.1fs %s" % (time.monotonic() - start, message))

    what = "%s restarting node %d" % (params["phase"], params["node_id"])
    admin = None
    try:
        admin = KafkaAdmin(params["bootstrap_servers"], **admin_arguments(params))

        def check():
            try:
                state = gate.read_state(admin, params["node_id"], params["roles"], params["phase"], params["quorum"],
                                        params["expected_brokers"])
            except Exception:
                admin.close()  # a broker that went away: the next attempt connects again
                raise
            return gate.judge(params["node_id"], params["roles"], params["phase"], state,
                              window_ms=params["caught_up_ms"], expected_voters=params["expected_voters"])

        answer = gate.wait(check, params["timeout"], progress=note)
    except gate.GateTimeout as exc:
        module.fail_json(msg="restart gate (%s): %s" % (what, exc), problems=exc.problems, progress=progress)
    except (KafkaAdminError, SecurityConfigError, gate.GateError) as exc:
        module.fail_json(msg="restart gate (%s): %s" % (what, exc), problems=[], progress=progress)
    finally:
        if admin is not None:
            admin.close()
    module.exit_json(changed=False, ready=True, waited=answer["waited"], problems=answer["problems"],
                     unavoidable=answer["unavoidable"], progress=progress)


if __name__ == "__main__":
    main()
