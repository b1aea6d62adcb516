#!/usr/bin/python
# Copyright: kafkaops.platform contributors
# Apache-2.0 (see LICENSE)
from __future__ import annotations

DOCUMENTATION = r"""
---
module: kafka_topic
short_description: Manage a Kafka topic - partitions, replication factor and configs
version_added: 0.1.0
description:
  - Creates, changes and deletes one topic through the admin API, idempotently.
  - On an existing topic the module adds partitions (Kafka places the new ones), sets and deletes
    topic configs incrementally, and changes the replication factor by moving replicas.
  - Configs are compared only with the configs set on the topic itself (source
    C(DYNAMIC_TOPIC_CONFIG)); values inherited from the brokers' defaults are neither compared
    nor touched.
  - A replication factor change is planned by the collection's reassignment planner (fewest
    replica moves, replicas and leaders balanced over the live brokers, racks read from the
    cluster and honoured) and carried out batch by batch, optionally throttled, waiting until
    every new replica is in sync. Changes are made in this order - configs, replication factor,
    partitions - so that new partitions are created with the new replication factor.
  - Everything is validated before the first change - the topic name, the counts, the config keys,
    the replication factor against the live brokers - and the partition count only grows.
author: kafkaops.platform contributors (@kafkaops)
extends_documentation_fragment:
  - kafkaops.platform.admin
  - ansible.builtin.action_common_attributes
options:
  name:
    description:
      - The topic name; up to 249 letters, digits, C(.), C(_) and C(-).
    type: str
    required: true
    aliases: [topic]
  state:
    description:
      - V(present) creates the topic, or brings an existing one to the given partitions,
        replication factor and configs.
      - V(absent) deletes the topic and its data; nothing happens when it does not exist.
        The other topic options are then ignored.
    type: str
    default: present
    choices: [present, absent]
  partitions:
    description:
      - The number of partitions. Required to create the topic.
      - On an existing topic, a larger number adds partitions; Kafka cannot remove partitions, so a
        smaller number is an error. Left out, the partition count is not managed.
      - Adding partitions changes which partition a key goes to; consumers that rely on key order
        see it change.
    type: int
  replication_factor:
    description:
      - The number of replicas of every partition; at most the number of live brokers. Required
        to create the topic.
      - On an existing topic, another value moves replicas (see O(throttle) and O(timeout)); replicas
        on brokers that are not live are moved to live ones as part of that change. Left out, the
        replication factor is not managed.
    type: int
  configs:
    description:
      - Topic configs, as Kafka names them (C(retention.ms), C(cleanup.policy), ...).
      - Values are passed to Kafka as text the way Kafka reports them - booleans as C(true) or
        C(false), numbers as digits, lists joined with commas (C([compact, delete]) becomes
        C(compact,delete)).
      - A key set to V(null) is deleted from the topic, back to the broker default.
      - Keys not listed are left alone unless O(configs_purge) is set.
    type: dict
  configs_purge:
    description:
      - Delete every config set on the topic that O(configs) does not list, back to the broker
        defaults.
      - The replication throttles C(leader.replication.throttled.replicas) and
        C(follower.replication.throttled.replicas) belong to reassignments in progress and are
        never purged (list them in O(configs) to manage them).
    type: bool
    default: false
  throttle:
    description:
      - Replication throttle for a replication factor change, in bytes per second per broker
        (at least 1024). Applied only to the replicas that move, and removed afterwards.
      - Left out, replicas are copied at full speed.
    type: int
  timeout:
    description:
      - How long a replication factor change may take, in seconds, before the module fails
        (the moves in flight then continue in Kafka; running the task again resumes them).
    type: int
    default: 3600
attributes:
  check_mode:
    support: full
    details: Reads the topic and the brokers and returns everything that would change, including the
      planned replica moves of a replication factor change, changing nothing.
  diff_mode:
    support: full
    details: Shows the partition count, the replication factor and the topic configs before and after.
  platform:
    platforms: posix
notes:
  - A replication factor change copies the data of every new replica; on large topics give a
    O(throttle) and a O(timeout) large enough, and consider
    M(kafkaops.platform.kafka_reassignment) to plan and inspect it first.
  - Kafka refuses unknown config keys and bad values; the message of the refusal is returned and
    nothing is changed, as configs are applied first.
seealso:
  - module: kafkaops.platform.kafka_reassignment
  - module: kafkaops.platform.kafka_acl
  - name: Kafka topic configs
    description: Every topic config, its type and default.
    link: https://kafka.apache.org/documentation/#topicconfigs
"""

EXAMPLES = r"""
# On any cluster (Amazon MSK, Confluent Cloud, Strimzi...): the connection set once with module_defaults
# (on a block, or a play); every option can also come from a KAFKA_* environment variable (an AWX credential)
- name: Topics of the billing team
  module_defaults:
    group/kafkaops.platform.kafka:
      bootstrap_servers: ["b-1.kafka.example.com:9096", "b-2.kafka.example.com:9096"]
      security_protocol: SASL_SSL
      sasl_mechanism: SCRAM-SHA-512
      sasl_username: billing-admin
      sasl_password: "{{ vault_billing_admin_password }}"
  delegate_to: localhost
  block:
    - name: Create the invoices topic
      kafkaops.platform.kafka_topic:
        name: invoices
        partitions: 6
        replication_factor: 3

- name: Create the orders topic
  kafkaops.platform.kafka_topic:
    bootstrap_servers: "{{ kafka_bootstrap_servers }}"
    security: "{{ platform_security }}"
    name: orders
    partitions: 12
    replication_factor: 3
    configs:
      min.insync.replicas: 2
      retention.ms: 604800000
  delegate_to: localhost
  run_once: true

- name: A compacted topic whose configs are exactly these
  kafkaops.platform.kafka_topic:
    bootstrap_servers: "{{ kafka_bootstrap_servers }}"
    security: "{{ platform_security }}"
    name: customers
    partitions: 6
    replication_factor: 3
    configs:
      cleanup.policy: compact
      min.compaction.lag.ms: 3600000
    configs_purge: true
  delegate_to: localhost
  run_once: true

- name: Raise the replication factor of a topic created with one replica, throttled to 20 MB/s
  kafkaops.platform.kafka_topic:
    bootstrap_servers: "{{ kafka_bootstrap_servers }}"
    security: "{{ platform_security }}"
    name: audit
    replication_factor: 3
    throttle: 20000000
    timeout: 7200
  delegate_to: localhost
  run_once: true

- name: Reset retention to the broker default
  kafkaops.platform.kafka_topic:
    bootstrap_servers: "{{ kafka_bootstrap_servers }}"
    security: "{{ platform_security }}"
    name: orders
    configs:
      retention.ms: null
  delegate_to: localhost
  run_once: true

- name: Delete a topic
  kafkaops.platform.kafka_topic:
    bootstrap_servers: "{{ kafka_bootstrap_servers }}"
    security: "{{ platform_security }}"
    name: legacy-events
    state: absent
  delegate_to: localhost
  run_once: true
"""

RETURN = r"""
topic:
  description:
    - The topic after the run (as it would be, in check mode).
    - RV(topic.configs) holds the configs set on the topic itself, not the broker defaults.
    - After O(state=absent), RV(topic.exists) is false and the counts are null.
  type: dict
  returned: always
  contains:
    name:
      description: The topic name.
      type: str
    exists:
      description: Whether the topic exists.
      type: bool
    partitions:
      description: The number of partitions.
      type: int
    replication_factor:
      description: The replication factor (the largest of its partitions, should they differ).
      type: int
    configs:
      description: The configs set on the topic, as Kafka reports them.
      type: dict
  sample:
    name: orders
    exists: true
    partitions: 12
    replication_factor: 3
    configs: {min.insync.replicas: "2", retention.ms: "604800000"}
created:
  description: Whether the topic was created (would be, in check mode).
  type: bool
  returned: always
deleted:
  description: Whether the topic was deleted (would be, in check mode).
  type: bool
  returned: always
partitions_added:
  description: How many partitions were added to an existing topic (would be, in check mode).
  type: int
  returned: always
configs_set:
  description: The configs set, with their new values (would be, in check mode); on creation, the configs
    the topic was created with.
  type: dict
  returned: always
  sample: {retention.ms: "86400000"}
configs_deleted:
  description: The config keys deleted from the topic, back to the broker defaults (would be, in check mode).
  type: list
  elements: str
  returned: always
replication_factor_change:
  description: The replication factor change and its plan; only when the replication factor changes (would
    change, in check mode).
  type: dict
  returned: when the replication factor changes
  contains:
    from:
      description: The replication factor before.
      type: int
    to:
      description: The replication factor after.
      type: int
    replica_moves:
      description: Replicas placed on a broker that did not hold them (each copies the partition's data).
      type: int
    partitions_changed:
      description: Partitions whose replica list changes.
      type: int
    leadership_changes:
      description: Partitions whose preferred leader changes.
      type: int
    proposed:
      description: The new replica lists, as in Kafka's reassignment JSON.
      type: list
      elements: dict
      sample: [{topic: audit, partition: 0, replicas: [1, 2, 3]}]
    stats:
      description: The planner's statistics (see M(kafkaops.platform.kafka_reassignment)).
      type: dict
    executed:
      description: What the execution did (batches, seconds, elected leaders); not in check mode.
      type: dict
  sample:
    from: 1
    to: 3
    replica_moves: 12
    partitions_changed: 6
    leadership_changes: 0
"""

import re
import time

from ansible.module_utils.basic import missing_required_lib

from ansible_collections.kafkaops.platform.plugins.module_utils import config_values as cv
from ansible_collections.kafkaops.platform.plugins.module_utils.connection import KafkaModule
from ansible_collections.kafkaops.platform.plugins.module_utils.kafka_admin import (
    ADMIN_ARGUMENT_SPEC,
    HAS_KAFKA,
    KAFKA_IMPORT_ERROR,
    KafkaAdmin,
    KafkaAdminError,
    admin_arguments,
)
from ansible_collections.kafkaops.platform.plugins.module_utils.reassignment import PlanningError, plan_reassignment
from ansible_collections.kafkaops.platform.plugins.module_utils.reassignment_exec import (
    THROTTLE_REPLICA_KEYS,
    ReassignmentError,
    effective_assignment,
    execute_reassignment,
    throttle_problem,
)
from ansible_collections.kafkaops.platform.plugins.module_utils.security import SecurityConfigError

TOPIC_SOURCE = "DYNAMIC_TOPIC_CONFIG"
MAX_NAME_LENGTH = 249
_TOPIC_NAME = re.compile(r"[A-Za-z0-9._-]+")


class TopicError(ValueError):
    """A request the module cannot carry out; the message says what to fix. ``changed`` tells
    whether something had already been changed when it was raised."""

    def __init__(self, message, changed=False):
        super().__init__(message)
        self.changed = changed


# -- validation and normalization (pure) -------------------------------------------------------------
def validate(params):
    """Check the options that need no cluster; raises TopicError."""
    name = params["name"]
    if not name or len(name) > MAX_NAME_LENGTH or not _TOPIC_NAME.fullmatch(name) or name in (".", ".."):
        raise TopicError("name: %r is not a topic name; Kafka allows 1 to %d letters, digits, '.', '_' and '-' "
                         "(and neither '.' nor '..')" % (name, MAX_NAME_LENGTH))
    if params["state"] == "absent":
        return
    for option in ("partitions", "replication_factor"):
        if params[option] is not None and params[option] < 1:
            raise TopicError("%s must be at least 1, got %d" % (option, params[option]))
    problem = throttle_problem(params["throttle"])
    if problem:
        raise TopicError(problem)
    if params["timeout"] < 1:
        raise TopicError("timeout must be at least 1 second, got %d" % params["timeout"])


def config_value(key, value):
    """``value`` as the text Kafka stores and reports, or None (delete the key); raises TopicError."""
    try:
        return cv.config_value(key, value)
    except cv.ConfigValueError as exc:
        raise TopicError(str(exc)) from None


def normalize_configs(configs):
    """``{key: text or None}`` from the O(configs) option, keys checked; raises TopicError."""
    try:
        return cv.normalize_configs(configs)
    except cv.ConfigValueError as exc:
        raise TopicError(str(exc)) from None


def check_brokers(replication_factor, live_brokers):
    """Fail unless ``replication_factor`` replicas fit on the live brokers (a list of ids)."""
    if replication_factor > len(live_brokers):
        raise TopicError("replication_factor %d needs %d live brokers but the cluster has %d (%s); lower "
                         "replication_factor or start more brokers"
                         % (replication_factor, replication_factor, len(live_brokers),
                            ", ".join(map(str, sorted(live_brokers))) or "none"))


# -- the topic as it is, and the changes (pure) ------------------------------------------------------
def current_state(partitions, configs, in_flight=None):
    """The topic as the module compares it.

    ``partitions``: the topic's entries of ``KafkaAdmin.topics()``; ``configs``: its configs of source
    DYNAMIC_TOPIC_CONFIG; ``in_flight``: ``KafkaAdmin.reassignments()`` (during a reassignment
    the metadata lists old and new replicas; the ones being removed are left out here)."""
    effective = effective_assignment({(p["topic"], p["partition"]): p["replicas"] for p in partitions}, in_flight or {})
    replicas = {key[1]: lst for key, lst in effective.items()}
    leaderless = [p["partition"] for p in partitions if p.get("leader") in (None, -1)]
    factors = sorted({len(r) for r in replicas.values()})
    return {"partitions": len(replicas), "replication_factor": factors[-1] if factors else 0,
            "replication_factors": factors, "replicas": replicas, "leaderless": sorted(leaderless),
            "configs": dict(sorted(configs.items()))}


def config_changes(current, desired, purge):
    """``(to_set, to_delete)``: the configs to set (``{key: value}``) and the keys to delete.

    ``current``: the topic's configs of source DYNAMIC_TOPIC_CONFIG; ``desired``: normalized O(configs)
    (None deletes a key)."""
    to_set = {key: value for key, value in sorted(desired.items())
              if value is not None and current.get(key) != value}
    to_delete = {key for key, value in desired.items() if value is None and key in current}
    if purge:  # the replica throttles belong to reassignments in progress: never purged, only managed when listed
        to_delete |= {key for key in current if key not in desired and key not in THROTTLE_REPLICA_KEYS}
    return to_set, sorted(to_delete)


def plan_changes(current, params, desired_configs):
    """What to do to topic ``params["name"]``, given ``current`` (:func:`current_state`, None when the
    topic does not exist). Raises TopicError for what cannot be done."""
    name = params["name"]
    changes = {"create": False, "delete": False, "partitions": None, "replication_factor": None,
               "configs_set": {}, "configs_deleted": []}
    if params["state"] == "absent":
        changes["delete"] = current is not None
        return changes
    if current is None:
        missing = [o for o in ("partitions", "replication_factor") if params[o] is None]
        if missing:
            raise TopicError("topic %s does not exist; give %s to create it" % (name, " and ".join(missing)))
        changes.update(create=True, partitions=params["partitions"], replication_factor=params["replication_factor"],
                       configs_set={k: v for k, v in desired_configs.items() if v is not None})
        return changes
    wanted = params["partitions"]
    if wanted is not None and wanted < current["partitions"]:
        raise TopicError("partitions: topic %s has %d partitions and Kafka cannot remove partitions; give %d or more "
                         "(or leave partitions out)" % (name, current["partitions"], current["partitions"]))
    if wanted is not None and wanted > current["partitions"]:
        changes["partitions"] = wanted
    rf = params["replication_factor"]
    if rf is not None and current["replication_factors"] != [rf]:
        changes["replication_factor"] = rf
    changes["configs_set"], changes["configs_deleted"] = config_changes(
        current["configs"], desired_configs, params["configs_purge"] or False)
    return changes


def has_changes(changes):
    return bool(changes["create"] or changes["delete"] or changes["partitions"] is not None
                or changes["replication_factor"] is not None or changes["configs_set"] or changes["configs_deleted"])


def after_state(name, current, changes):
    """The topic as the result reports it after ``changes``."""
    if changes["delete"] or (current is None and not changes["create"]):
        return {"name": name, "exists": False, "partitions": None, "replication_factor": None, "configs": {}}
    if changes["create"]:
        return {"name": name, "exists": True, "partitions": changes["partitions"],
                "replication_factor": changes["replication_factor"], "configs": dict(sorted(changes["configs_set"].items()))}
    configs = {k: v for k, v in current["configs"].items() if k not in changes["configs_deleted"]}
    configs.update(changes["configs_set"])
    return {"name": name, "exists": True,
            "partitions": changes["partitions"] if changes["partitions"] is not None else current["partitions"],
            "replication_factor": (changes["replication_factor"] if changes["replication_factor"] is not None
                                   else current["replication_factor"]),
            "configs": dict(sorted(configs.items()))}


def replication_plan(name, current, brokers, replication_factor):
    """The planner's reassignment of topic ``name`` to ``replication_factor`` replicas over ``brokers``
    (``[{"id", "rack"}]``, the live brokers), summed up for the result."""
    if current["leaderless"]:
        raise TopicError("partitions %s of %s have no leader, so their data cannot be copied; bring their brokers "
                         "back before changing the replication factor"
                         % (", ".join(map(str, current["leaderless"])), name))
    entries = [{"topic": name, "partition": p, "replicas": r} for p, r in sorted(current["replicas"].items())]
    try:
        plan = plan_reassignment({"version": 1, "partitions": entries}, brokers,
                                 replication_factors={name: replication_factor})
    except PlanningError as exc:
        raise TopicError("cannot plan the replication factor change of %s: %s" % (name, exc)) from exc
    stats = plan["stats"]
    return {"from": current["replication_factor"], "to": replication_factor,
            "replica_moves": stats["replica_moves"], "partitions_changed": stats["partitions_changed"],
            "leadership_changes": stats["leadership_changes"], "proposed": plan["proposed"]["partitions"],
            "stats": stats}


def config_warnings(topic):
    """Advice about the topic after the run (a list of messages)."""
    found = []
    value = topic["configs"].get("min.insync.replicas")
    if topic["exists"] and value is not None and value.isascii() and value.isdigit() and topic["replication_factor"] is not None \
            and int(value) > topic["replication_factor"]:
        found.append("topic %s: min.insync.replicas %s is more than its replication factor %d, so producers with "
                     "acks=all will be refused" % (topic["name"], value, topic["replication_factor"]))
    return found


def diff_text(topic):
    """The topic as YAML-like text for --diff; empty when it does not exist."""
    if not topic["exists"]:
        return ""
    lines = ["partitions: %s" % topic["partitions"], "replication_factor: %s" % topic["replication_factor"]]
    if topic["configs"]:
        lines.append("configs:")
        lines.extend("  %s: %s" % (key, value if value else "''") for key, value in sorted(topic["configs"].items()))
    else:
        lines.append("configs: {}")
    return "".join(line + "\n" for line in lines)


def as_topic(name, current):
    if current is None:
        return {"name": name, "exists": False, "partitions": None, "replication_factor": None, "configs": {}}
    return {"name": name, "exists": True, "partitions": current["partitions"],
            "replication_factor": current["replication_factor"], "configs": dict(current["configs"])}


# -- talking to the cluster --------------------------------------------------------------------------
def read_topic(admin, name, replication_factor=None):
    """:func:`current_state` of topic ``name`` on the cluster, or None when it does not exist.

    When the replica lists do not all have ``replication_factor`` replicas, the reassignments in
    flight are read as well (a run interrupted during a change shows old and new replicas); only
    then, so that a task that changes nothing needs no cluster-wide permission."""
    partitions = admin.topics([name]).get(name)
    if not partitions:
        return None
    configs = admin.configs("topic", [name], sources=[TOPIC_SOURCE]).get(name, {})
    in_flight = {}
    if replication_factor is not None and any(len(p["replicas"]) != replication_factor for p in partitions):
        in_flight = admin.reassignments()
    return current_state(partitions, configs, in_flight)


def wait_until(check, timeout, what):
    """Poll ``check()`` until true, for metadata to reach every broker; raise TopicError after ``timeout`` s."""
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() >= deadline:
            raise TopicError("%s: not visible in the cluster metadata after %ds" % (what, timeout), changed=True)
        time.sleep(0.2)


def execute_replication_change(admin, proposed, params, progress):
    """Run the planned moves through the collection's reassignment executor."""
    try:
        return execute_reassignment(admin, proposed, throttle=params["throttle"], timeout=params["timeout"],
                                    progress=progress)
    except (KafkaAdminError, ReassignmentError) as exc:
        raise TopicError("changing the replication factor of %s failed: %s; run the task again to finish it"
                         % (params["name"], exc)) from exc


def apply(module, admin, changes, rf_change):
    """Make ``changes``: configs first (Kafka validates them before anything else changes), then the
    replication factor, then partitions (so the new ones get the new replication factor)."""
    params = module.params
    name = params["name"]
    done = []
    try:
        if changes["delete"]:
            admin.delete_topic(name)
            done.append("deleted")
            wait_until(lambda: name not in admin.topics([name]), params["request_timeout"], "deletion of %s" % name)
            return rf_change
        if changes["create"]:
            admin.create_topic(name, partitions=changes["partitions"], replication_factor=changes["replication_factor"],
                               configs=changes["configs_set"])
            return rf_change
        if changes["configs_set"] or changes["configs_deleted"]:
            entries = dict(changes["configs_set"])
            entries.update(dict.fromkeys(changes["configs_deleted"]))
            admin.alter_configs("topic", {name: entries})
            done.append("configs changed")
        if rf_change:
            executed = execute_replication_change(admin, rf_change["proposed"], params, module.log)
            rf_change = dict(rf_change, executed=executed)
            done.append("replication factor changed")
        if changes["partitions"] is not None:
            admin.add_partitions(name, changes["partitions"])
            done.append("partitions added")
            wait_until(lambda: len(admin.topics([name]).get(name, [])) >= changes["partitions"],
                       params["request_timeout"], "new partitions of %s" % name)
    except (TopicError, KafkaAdminError) as exc:
        if done and not getattr(exc, "changed", False):
            raise TopicError("%s (already done: %s)" % (exc, ", ".join(done)), changed=True) from exc
        raise
    return rf_change


def run(module, admin_factory=None):
    params = module.params
    admin_factory = admin_factory or KafkaAdmin
    validate(params)
    name = params["name"]
    desired_configs = normalize_configs(params["configs"]) if params["state"] == "present" else {}
    admin = admin_factory(params["bootstrap_servers"], **admin_arguments(params))
    with admin:
        current = read_topic(admin, name, params["replication_factor"] if params["state"] == "present" else None)
        changes = plan_changes(current, params, desired_configs)
        rf_change = None
        if changes["create"] or changes["replication_factor"] is not None:
            live = [b for b in admin.cluster()["brokers"] if not b["fenced"]]
            check_brokers(changes["replication_factor"], [b["id"] for b in live])
            if not changes["create"]:
                rf_change = replication_plan(name, current, [{"id": b["id"], "rack": b["rack"]} for b in live],
                                             changes["replication_factor"])
        if has_changes(changes) and not module.check_mode:
            rf_change = apply(module, admin, changes, rf_change)
    before = as_topic(name, current)
    after = after_state(name, current, changes)
    result = dict(changed=has_changes(changes), topic=after, created=changes["create"], deleted=changes["delete"],
                  partitions_added=(changes["partitions"] - current["partitions"]
                                    if current is not None and changes["partitions"] is not None else 0),
                  configs_set=changes["configs_set"], configs_deleted=changes["configs_deleted"])
    if rf_change is not None:
        result["replication_factor_change"] = rf_change
    for message in config_warnings(after):
        module.warn(message)
    if module._diff:
        result["diff"] = {"before": diff_text(before), "after": diff_text(after),
                          "before_header": "topic %s" % name, "after_header": "topic %s" % name}
    return result


def main():
    spec = dict(ADMIN_ARGUMENT_SPEC)
    spec.update(
        name=dict(type="str", required=True, aliases=["topic"]),
        state=dict(type="str", default="present", choices=["present", "absent"]),
        partitions=dict(type="int"),
        replication_factor=dict(type="int"),
        configs=dict(type="dict"),
        configs_purge=dict(type="bool", default=False),
        throttle=dict(type="int"),
        timeout=dict(type="int", default=3600),
    )
    module = KafkaModule(argument_spec=spec, supports_check_mode=True)
    if not HAS_KAFKA:
        module.fail_json(msg=missing_required_lib("kafka-python"), exception=KAFKA_IMPORT_ERROR)
    try:
        result = run(module)
    except TopicError as exc:
        module.fail_json(msg=str(exc), changed=exc.changed)
    except (KafkaAdminError, SecurityConfigError) as exc:
        module.fail_json(msg=str(exc), changed=False)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
