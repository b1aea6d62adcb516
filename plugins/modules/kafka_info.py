#!/usr/bin/python
# Copyright: kafkaops.platform contributors
# Apache-2.0 (see LICENSE)
from __future__ import annotations

DOCUMENTATION = r"""
---
module: kafka_info
short_description: Describe a Kafka cluster and optionally wait until it is healthy
version_added: 0.1.0
description:
  - Reads the cluster id, the active controller, the registered brokers, the KRaft controller
    quorum and partition health through the admin API.
  - With O(wait_healthy), polls until every expected broker is registered and unfenced and no
    partition is offline or under-replicated; the platform gates rolling restarts on this.
  - With O(schema_registry_group), also reads which Confluent Schema Registry instance leads, from the
    Kafka group the registry elects its leader in (DescribeGroups through the brokers); the
    schema_registry role restarts that instance last.
author: kafkaops.platform contributors (@kafkaops)
extends_documentation_fragment:
  - kafkaops.platform.admin
  - ansible.builtin.action_common_attributes
options:
  expected_brokers:
    description: Broker ids that must be registered and unfenced for the cluster to count as healthy.
    type: list
    elements: int
    default: []
  wait_healthy:
    description: Wait until the cluster is healthy (see above), failing after O(timeout) seconds.
    type: bool
    default: false
  timeout:
    description: Seconds to wait for the cluster to answer, and with O(wait_healthy) to become healthy.
    type: int
    default: 300
  quorum:
    description: Also describe the KRaft controller quorum (not available in ZooKeeper mode).
    type: bool
    default: true
  schema_registry_group:
    description:
      - The C(schema.registry.group.id) of a Schema Registry cluster whose current leader to read (RV(schema_registry)).
      - An empty group, another kind of group or an answer in an unknown format is no error; RV(schema_registry.leader)
        is then null and RV(schema_registry.reason) says why.
    type: str
    version_added: 0.2.0
attributes:
  check_mode:
    support: full
    details: Reads only.
  diff_mode:
    support: none
  platform:
    platforms: posix
"""

EXAMPLES = r"""
- name: Wait until all three brokers are back and fully replicated
  kafkaops.platform.kafka_info:
    bootstrap_servers: ["kafka1:9092", "kafka2:9092"]
    security: "{{ platform_security }}"
    expected_brokers: [1, 2, 3]
    wait_healthy: true
    timeout: 600
  delegate_to: localhost

- name: Which Schema Registry instance leads
  kafkaops.platform.kafka_info:
    bootstrap_servers: ["kafka1:9092", "kafka2:9092"]
    security: "{{ platform_security }}"
    schema_registry_group: schema-registry
    quorum: false
  delegate_to: localhost
  register: registry

- name: Show it
  ansible.builtin.debug:
    msg: "{{ registry.schema_registry.leader.url if registry.schema_registry.leader else registry.schema_registry.reason }}"
"""

RETURN = r"""
cluster_id:
  description: The cluster id.
  type: str
  returned: always
controller_id:
  description: Id of the active controller as brokers report it.
  type: int
  returned: always
brokers:
  description: Registered brokers with id, host, port, rack and whether they are fenced.
  type: list
  elements: dict
  returned: always
quorum:
  description: KRaft metadata quorum - leader id and epoch, high watermark, voters and observers with their lag.
  type: dict
  returned: when O(quorum=true)
healthy:
  description: Whether every expected broker is live and no partition is offline or under-replicated.
  type: bool
  returned: always
problems:
  description: What keeps the cluster from being healthy.
  type: list
  elements: str
  returned: always
partitions:
  description: Number of partitions in the cluster.
  type: int
  returned: always
under_replicated_partitions:
  description: Partitions whose in-sync replica set is smaller than their replica set.
  type: list
  elements: str
  returned: always
offline_partitions:
  description: Partitions without a leader.
  type: list
  elements: str
  returned: always
progress:
  description: The states seen while waiting, with the seconds since the start.
  type: list
  elements: str
  returned: always
schema_registry:
  description: The Schema Registry group and its leader.
  type: dict
  returned: when O(schema_registry_group) is set
  version_added: 0.2.0
  contains:
    group:
      description: The group id.
      type: str
    state:
      description: The group's state as its coordinator reports it (C(Stable), C(Empty), C(Dead), C(PreparingRebalance), ...).
      type: str
    leader:
      description:
        - The leader's identity - C(host) (its C(host.name)), C(port), C(scheme), C(url), C(leader_eligible) and
          the group's C(member_id) - or null when it is not known.
      type: dict
    reason:
      description: Why the leader is not known (null when it is).
      type: str
    members:
      description: Every instance in the group, each an identity as for RV(schema_registry.leader).
      type: list
      elements: dict
  sample:
    group: schema-registry
    state: Stable
    leader: {host: 10.0.0.12, port: 8081, scheme: http, url: "http://10.0.0.12:8081", leader_eligible: true, member_id: sr-1-6b71a8e8}
    reason: null
    members:
      - {host: 10.0.0.11, port: 8081, scheme: http, url: "http://10.0.0.11:8081", leader_eligible: true, member_id: sr-1-0d3c51f2}
      - {host: 10.0.0.12, port: 8081, scheme: http, url: "http://10.0.0.12:8081", leader_eligible: true, member_id: sr-1-6b71a8e8}
"""

import time

from ansible.module_utils.basic import missing_required_lib

from ansible_collections.kafkaops.platform.plugins.module_utils.connection import KafkaModule
from ansible_collections.kafkaops.platform.plugins.module_utils.kafka_admin import (
    ADMIN_ARGUMENT_SPEC,
    HAS_KAFKA,
    KAFKA_IMPORT_ERROR,
    KafkaAdmin,
    KafkaAdminError,
    admin_arguments,
)
from ansible_collections.kafkaops.platform.plugins.module_utils.schema_registry import read_leader
from ansible_collections.kafkaops.platform.plugins.module_utils.security import SecurityConfigError


def main():
    spec = dict(ADMIN_ARGUMENT_SPEC)
    spec.update(
        expected_brokers=dict(type="list", elements="int", default=[]),
        wait_healthy=dict(type="bool", default=False),
        timeout=dict(type="int", default=300),
        quorum=dict(type="bool", default=True),
        schema_registry_group=dict(type="str"),
    )
    module = KafkaModule(argument_spec=spec, supports_check_mode=True)
    if not HAS_KAFKA:
        module.fail_json(msg=missing_required_lib("kafka-python"), exception=KAFKA_IMPORT_ERROR)
    params = module.params
    start = time.monotonic()
    progress = []

    def note(message):
        progress.append("%5.1fs %s" % (time.monotonic() - start, message))

    try:
        admin = KafkaAdmin(params["bootstrap_servers"], **admin_arguments(params))
        admin.connect(deadline=start + params["timeout"])
        with admin:
            if params["wait_healthy"]:
                remaining = max(1, int(params["timeout"] - (time.monotonic() - start)))
                state = admin.wait_healthy(params["expected_brokers"], timeout=remaining, progress=note)
            else:
                state = admin.health(params["expected_brokers"])
            result = dict(changed=False, progress=progress, healthy=state["healthy"], problems=state["problems"],
                          partitions=state["partitions"],
                          under_replicated_partitions=state["under_replicated_partitions"],
                          offline_partitions=state["offline_partitions"], **state["cluster"])
            if params["quorum"]:
                result["quorum"] = admin.quorum()
            if params["schema_registry_group"]:
                result["schema_registry"] = read_leader(admin, params["schema_registry_group"])
    except (KafkaAdminError, SecurityConfigError) as exc:
        module.fail_json(msg=str(exc), progress=progress)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
