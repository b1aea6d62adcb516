#!/usr/bin/python
# Copyright: kafkaops.platform contributors
# Apache-2.0 (see LICENSE)
from __future__ import annotations

DOCUMENTATION = r"""
---
module: kafka_consumer_group
short_description: Describe a Kafka consumer group with its lag, reset its offsets, or delete it
version_added: 0.4.0
description:
  - Describes a consumer group - state, members, committed offsets, the partitions' end offsets and the lag.
  - With O(reset_to), moves the group's committed offsets to the log start (V(earliest)), the log end
    (V(latest)), the first record at or after a time (V(timestamp)) or given offsets (V(offset)), each kept
    within the partition's log as C(kafka-consumer-groups --reset-offsets) does. Only partitions whose
    offset changes are committed; a second run changes nothing.
  - With O(state=absent), deletes the group and its committed offsets.
  - Kafka takes offsets from outside a group only while no member holds them, so a group with active
    members is refused (naming them) unless O(force=true), which first removes the members (their consumers
    rejoin when still running, and may commit their own positions again).
author: kafkaops.platform contributors (@kafkaops)
extends_documentation_fragment:
  - kafkaops.platform.admin
  - ansible.builtin.action_common_attributes
options:
  group:
    description: The consumer group id.
    type: str
    required: true
    aliases: [name]
  state:
    description: V(present) describes (and resets, with O(reset_to)); V(absent) deletes the group.
    type: str
    default: present
    choices: [present, absent]
  reset_to:
    description: Where to move the committed offsets; omit it to describe only.
    type: str
    choices: [earliest, latest, timestamp, offset]
  topics:
    description:
      - The topics whose partitions are reset (every partition of each); defaults to the partitions the
        group has committed offsets for. Not used with O(reset_to=offset).
    type: list
    elements: str
  timestamp:
    description: With O(reset_to=timestamp), the time in milliseconds since the epoch.
    type: int
  offsets:
    description: With O(reset_to=offset), the offset of each partition.
    type: list
    elements: dict
    suboptions:
      topic:
        description: The topic.
        type: str
        required: true
      partition:
        description: The partition number.
        type: int
        required: true
      offset:
        description: The offset to commit (kept within the partition's log).
        type: int
        required: true
  force:
    description: Remove the group's active members before resetting or deleting.
    type: bool
    default: false
attributes:
  check_mode:
    support: full
    details: Computes and returns the offsets a reset would commit; nothing is changed.
  diff_mode:
    support: full
    details: The committed offsets before and after, one C(topic-partition) per line.
  platform:
    platforms: posix
"""

EXAMPLES = r"""
- name: Replay the orders topic for the billing service (its consumers are stopped)
  kafkaops.platform.kafka_consumer_group:
    group: billing
    topics: [orders]
    reset_to: earliest
  delegate_to: localhost

- name: Skip what arrived before 08:00 UTC on 2026-12-01
  kafkaops.platform.kafka_consumer_group:
    group: billing
    topics: [orders]
    reset_to: timestamp
    timestamp: 1796112000000
  delegate_to: localhost

- name: Lag of the group
  kafkaops.platform.kafka_consumer_group:
    group: billing
  register: billing
  delegate_to: localhost

- name: Delete a group nobody uses any more
  kafkaops.platform.kafka_consumer_group:
    group: legacy-reports
    state: absent
  delegate_to: localhost
"""

RETURN = r"""
group:
  description: The group after the module ran - C(group_id), C(state), C(members) and C(offsets).
  type: dict
  returned: always
  contains:
    offsets:
      description: Each partition with a committed offset - C(topic), C(partition), C(committed), C(end), C(lag).
      type: list
      elements: dict
    members:
      description: Each member - C(member_id), C(group_instance_id), C(client_id), C(client_host).
      type: list
      elements: dict
total_lag:
  description: The sum of the partitions' lag.
  type: int
  returned: always
reset:
  description: The partitions whose committed offset the reset changed (or would change) - C(topic), C(partition), C(before), C(after).
  type: list
  elements: dict
  returned: with reset_to
deleted:
  description: Whether the group was (or would be) deleted.
  type: bool
  returned: always
"""

from ansible_collections.kafkaops.platform.plugins.module_utils import consumer_groups as cg
from ansible_collections.kafkaops.platform.plugins.module_utils.kafka_admin import KafkaAdmin, admin_arguments, run_admin_module


def _described(admin, group_id):
    """The group's state, members (without their protocol bytes) and committed offsets with lag."""
    group = admin.describe_group(group_id)
    committed = admin.group_offsets(group_id)
    ends = admin.partition_offsets(sorted(committed), "latest") if committed else {}
    rows = cg.lag_rows(committed, ends)
    members = [{key: member[key] for key in ("member_id", "group_instance_id", "client_id", "client_host")}
               for member in group["members"]]
    return {"group_id": group_id, "state": group["state"], "protocol_type": group["protocol_type"],
            "members": members, "offsets": rows}, committed


def _targets(admin, params, committed):
    """The offsets the reset commits, for the partitions it touches."""
    mode = params["reset_to"]
    explicit = cg.explicit_offsets(params["offsets"] or []) if mode == "offset" else {}
    if mode == "offset" and not explicit:
        raise cg.ConsumerGroupError("reset_to=offset needs offsets")
    if mode == "timestamp" and params["timestamp"] is None:
        raise cg.ConsumerGroupError("reset_to=timestamp needs timestamp (milliseconds since the epoch)")
    counts = {topic: len(parts) for topic, parts in admin.topics().items()}
    partitions = cg.reset_partitions(mode, params["topics"], committed, explicit, counts)
    earliest = admin.partition_offsets(partitions, "earliest")
    latest = admin.partition_offsets(partitions, "latest")
    by_time = admin.partition_offsets(partitions, params["timestamp"]) if mode == "timestamp" else None
    return cg.reset_targets(partitions, mode, earliest, latest, by_time, explicit)


def run(module, admin_factory=None):
    params = module.params
    admin_factory = admin_factory or KafkaAdmin
    if params["state"] == "absent" and params["reset_to"]:
        raise cg.ConsumerGroupError("reset_to is for state=present; state=absent deletes the group")
    result = {"changed": False, "deleted": False}
    with admin_factory(params["bootstrap_servers"], **admin_arguments(params)) as admin:
        group, committed = _described(admin, params["group"])
        before = dict(committed)
        exists = group["state"] != "Dead" or bool(committed)
        action = None
        if params["state"] == "absent" and exists:
            action = "delete the group"
        elif params["reset_to"]:
            changes = cg.offset_changes(committed, _targets(admin, params, committed))
            result["reset"] = changes
            if changes:
                action = "reset its offsets"
        if action:
            problem = cg.refusal(group["state"], group["members"], params["force"], action)
            if problem:
                raise cg.ConsumerGroupError(problem)
            result["changed"] = True
        after = dict(before)
        if params["state"] == "absent" and action:
            after = {}
            result["deleted"] = True
        for change in result.get("reset", []):
            after[(change["topic"], change["partition"])] = change["after"]
        if result["changed"] and not module.check_mode:
            if group["members"]:
                admin.remove_group_members(params["group"], group["members"])
            if result["deleted"]:
                admin.delete_group(params["group"])
            else:
                admin.alter_group_offsets(params["group"], {(c["topic"], c["partition"]): c["after"]
                                                            for c in result["reset"]})
            group, _committed = _described(admin, params["group"])
    result["group"] = group
    result["total_lag"] = cg.total_lag(group["offsets"])
    if module._diff:
        result["diff"] = {"before": cg.diff_text(before), "after": cg.diff_text(after),
                          "before_header": "group %s" % params["group"], "after_header": "group %s" % params["group"]}
    return result


def main():
    run_admin_module(dict(
        group=dict(type="str", required=True, aliases=["name"]),
        state=dict(type="str", default="present", choices=["present", "absent"]),
        reset_to=dict(type="str", choices=list(cg.RESET_MODES)),
        topics=dict(type="list", elements="str"),
        timestamp=dict(type="int"),
        offsets=dict(type="list", elements="dict", options=dict(
            topic=dict(type="str", required=True), partition=dict(type="int", required=True),
            offset=dict(type="int", required=True))),
        force=dict(type="bool", default=False),
    ), run, errors=(cg.ConsumerGroupError,), mutually_exclusive=[("topics", "offsets")],
        required_if=[("reset_to", "timestamp", ["timestamp"]), ("reset_to", "offset", ["offsets"])])


if __name__ == "__main__":
    main()
