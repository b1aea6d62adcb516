#!/usr/bin/python
# Copyright: kafkaops.platform contributors
# Apache-2.0 (see LICENSE)
from __future__ import annotations

DOCUMENTATION = r"""
---
module: kafka_reassignment
short_description: Plan and execute partition reassignments with the fewest moves, throttled and in batches
version_added: 0.1.0
description:
  - Balances a Kafka cluster's replicas and leaders over a set of brokers. It spreads them onto new
    brokers (scale out), drains brokers that are leaving, changes replication factors, and fixes
    rack violations, moving the fewest replicas that reach exact balance (the planner of
    kafkaops.platform, see the notes).
  - Reads the current assignment, racks and partition sizes from the cluster, plans, and executes
    the plan in batches in which no broker takes part in more than O(max_moves_per_broker) moves.
    With O(throttle), replication throttles are set on the moving replicas and the brokers involved
    only, and removed when each batch ends, also when it fails or the module is interrupted.
    Each batch is verified against its target before the next starts; finally a preferred leader
    election puts leadership where the plan wants it.
  - An interrupted run leaves Kafka moving the partitions it had submitted. The next run waits for
    them first (throttled again) and then plans what is left, so it never starts a second
    reassignment beside the first. Throttles found on the cluster while no reassignment is in
    flight are leftovers of such an interruption and are removed, as C(kafka-reassign-partitions
    --verify) does.
  - O(state=cancelled) reverts the reassignments in flight (Kafka returns those partitions to
    their original replicas) and removes the throttles.
  - With O(current_assignment) the module plans offline, without a cluster.
author: kafkaops.platform contributors (@kafkaops)
extends_documentation_fragment:
  - kafkaops.platform.admin
  - ansible.builtin.action_common_attributes
options:
  bootstrap_servers:
    description:
      - Required unless O(current_assignment) is given (offline planning).
    type: list
    elements: str
    required: false
  state:
    description:
      - V(present) plans and executes (check mode plans only).
      - V(planned) plans and returns the plan and its batches, changing nothing (not even in a normal
        run); playbooks use it to show the plan and run the batches one task iteration at a time.
      - V(cancelled) reverts every reassignment in flight and removes the replication throttles.
    type: str
    default: present
    choices: [present, planned, cancelled]
  brokers:
    description:
      - The brokers that should hold the replicas afterwards, as ids or as dicts with C(id) and
        C(rack). Racks not given are read from the cluster.
      - Defaults to every registered, unfenced broker minus O(remove_brokers).
      - Required with O(current_assignment).
    type: list
    elements: raw
  remove_brokers:
    description: Brokers to drain (taken out of the target set).
    type: list
    elements: int
    default: []
  include_topics:
    description:
      - Topics to plan; an entry equal to a topic name selects it, any other is a regular expression
        matching whole names. Default all topics.
    type: list
    elements: str
  exclude_topics:
    description: Topics left exactly as they are (names or regular expressions, as O(include_topics)).
    type: list
    elements: str
  replication_factors:
    description: New replication factor per topic, a dict of topic name to replication factor.
    type: dict
  use_partition_sizes:
    description:
      - Read partition sizes (DescribeLogDirs) so that, among the plans with the fewest moves, the
        smallest partitions move and the largest copies start first. Never changes the number of moves.
    type: bool
    default: true
  max_moves:
    description:
      - Move at most this many replicas in this run (incremental rebalancing); the result says how
        many remain.
    type: int
  assignment:
    description:
      - A reassignment to execute as given instead of planning one, in Kafka's reassignment JSON
        (a dict with C(version) 1 and C(partitions), a list of dicts with C(topic), C(partition) and C(replicas),
        or the same as a JSON string), for example one batch of an earlier plan or the output of
        C(kafka-reassign-partitions).
    type: raw
  current_assignment:
    description:
      - Plan offline from this assignment (Kafka's reassignment JSON, a dict or a JSON string) and the
        O(brokers) given; no cluster is contacted and nothing changes.
    type: raw
  throttle:
    description:
      - Replication throttle in bytes per second for the moving replicas (Kafka's
        C(leader/follower.replication.throttled.rate) on the brokers involved). None moves unthrottled.
    type: int
  max_moves_per_broker:
    description: At most this many replica moves per broker in one batch (as receiver or as sending leader).
    type: int
    default: 5
  timeout:
    description:
      - Seconds to wait for one batch (and for a reassignment found in flight) before failing. Kafka
        goes on with the batch; running again resumes it.
    type: int
    default: 3600
  poll_interval:
    description: Seconds between progress checks.
    type: float
    default: 2.0
  elect_leaders:
    description:
      - After executing, run a preferred leader election for the planned partitions whose leader is
        not their first replica (in V(present) mode also when there was nothing to move).
    type: bool
    default: true
attributes:
  check_mode:
    support: full
    details: Plans from the cluster (taking reassignments in flight as finished) and returns the plan; changes nothing.
  diff_mode:
    support: full
    details: Shows every partition whose replica list changes, before and after.
  platform:
    platforms: posix
notes:
  - The planner's guarantees (replication factor kept on distinct brokers, replicas over
    min(RF, racks) racks, replica and leader counts within floor/ceil of the mean, the fewest
    moves where racks allow) and its lower bound are documented in the module_utils
    C(reassignment.py); C(benchmarks/reassignment/RESULTS.md) compares it with Kafka's own placement.
  - Progress lines go to the module's log (syslog/journal of the control node) and to RV(log); the
    playbooks C(rebalance.yml), C(scale_out.yml) and C(decommission_broker.yml) run one batch per
    task iteration so that AWX and the console show the progress.
seealso:
  - module: kafkaops.platform.kafka_topic
"""

EXAMPLES = r"""
- name: Rebalance onto every live broker, 10 MB/s per broker
  kafkaops.platform.kafka_reassignment:
    bootstrap_servers: "{{ kafka_bootstrap_servers }}"
    security: "{{ platform_security }}"
    throttle: 10485760
  delegate_to: localhost

- name: Drain broker 4 before it is removed
  kafkaops.platform.kafka_reassignment:
    bootstrap_servers: "{{ kafka_bootstrap_servers }}"
    remove_brokers: [4]
    throttle: 10485760
  delegate_to: localhost

- name: Plan offline from a saved assignment
  kafkaops.platform.kafka_reassignment:
    current_assignment: "{{ lookup('file', 'current.json') }}"
    brokers: [{id: 1, rack: a}, {id: 2, rack: b}, {id: 3, rack: c}, {id: 4, rack: a}]
  register: plan

- name: Stop the moves in flight and put their replicas back
  kafkaops.platform.kafka_reassignment:
    bootstrap_servers: "{{ kafka_bootstrap_servers }}"
    state: cancelled
  delegate_to: localhost
"""

RETURN = r"""
proposed:
  description: The reassignment planned (Kafka's reassignment JSON, changed partitions only).
  type: dict
  returned: when planning
stats:
  description:
    - The planner's statistics, among them C(replica_moves), C(lower_bound), C(moves_over_lower_bound),
      C(replicas) and C(leaders) per broker after the plan, C(replica_spread), C(leader_spread),
      C(rack_violations), C(complete) and C(remaining_moves).
  type: dict
  returned: when planning
batches:
  description: The batches of the plan, each with C(partitions) (reassignment entries) and C(summary).
  type: list
  elements: dict
  returned: when planning
executed:
  description: One summary per batch executed (partitions, replica moves, receiving brokers, seconds).
  type: list
  elements: dict
  returned: when executing
resumed:
  description: Partitions that were already being reassigned and were waited for first.
  type: list
  elements: str
  returned: always
elected:
  description: Partitions whose leader the preferred leader election moved (would move, in check mode).
  type: list
  elements: str
  returned: always
stale_throttles:
  description: Replication throttles found with no reassignment in flight, removed (would be, in check mode).
  type: dict
  returned: always
cancelled:
  description: Partitions whose reassignment was cancelled (would be, in check mode).
  type: list
  elements: str
  returned: with O(state=cancelled)
throttle:
  description: The throttle of the last batch that had one (rate, brokers, topics).
  type: dict
  returned: when executing
log:
  description: The progress lines of the run.
  type: list
  elements: str
  returned: always
"""

import json
import signal

from ansible.module_utils.basic import AnsibleModule, missing_required_lib

from ansible_collections.kafkaops.platform.plugins.module_utils import reassignment_exec as rx
from ansible_collections.kafkaops.platform.plugins.module_utils.kafka_admin import (
    ADMIN_ARGUMENT_SPEC,
    HAS_KAFKA,
    KAFKA_IMPORT_ERROR,
    KafkaAdmin,
    KafkaAdminError,
)
from ansible_collections.kafkaops.platform.plugins.module_utils.reassignment import PlanningError, plan_reassignment, select_topics
from ansible_collections.kafkaops.platform.plugins.module_utils.security import SecurityConfigError


class ModuleInputError(ValueError):
    """Options the module cannot work with; the message says what to fix."""


class Interrupted(BaseException):
    """The module got SIGTERM or SIGINT (the playbook was stopped). A BaseException, so that no
    ``except Exception`` on the way (kafka-python has some) swallows it."""


def load_assignment(value, option):
    """Kafka's reassignment JSON (dict or text) -> its partition list, checked."""
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError as exc:
            raise ModuleInputError("%s is not valid JSON: %s" % (option, exc)) from exc
    if not isinstance(value, dict) or not isinstance(value.get("partitions"), list):
        raise ModuleInputError('%s must be reassignment JSON: {"version": 1, "partitions": [{"topic", "partition", '
                               '"replicas"}, ...]}' % option)
    seen = set()
    entries = []
    for index, entry in enumerate(value["partitions"]):
        where = "%s.partitions[%d]" % (option, index)
        if not isinstance(entry, dict) or not {"topic", "partition", "replicas"} <= set(entry):
            raise ModuleInputError("%s needs topic, partition and replicas" % where)
        partition = entry["partition"]
        if not isinstance(partition, int) or isinstance(partition, bool) or partition < 0:
            raise ModuleInputError("%s.partition must be a partition number (an integer from 0), got %r" % (where, partition))
        replicas = entry["replicas"]
        if not isinstance(replicas, list) or not replicas or not all(isinstance(b, int) and not isinstance(b, bool)
                                                                     for b in replicas):
            raise ModuleInputError("%s.replicas must be a non-empty list of broker ids" % where)
        if len(set(replicas)) != len(replicas):
            raise ModuleInputError("%s.replicas lists a broker twice: %s" % (where, replicas))
        key = rx.key_of(entry)
        if key in seen:
            raise ModuleInputError("%s: %s is listed twice" % (where, rx.name_of(key)))
        seen.add(key)
        entries.append({"topic": key[0], "partition": key[1], "replicas": list(replicas)})
    return entries


def target_brokers(requested, remove, cluster_brokers):
    """The target set as the planner wants it: ``[{"id", "rack"}]``.

    ``requested``: the ``brokers`` option (ids or dicts) or None; ``cluster_brokers``: the
    cluster's brokers (``KafkaAdmin.cluster()["brokers"]``) or None offline."""
    live = {b["id"]: b for b in cluster_brokers or [] if not b.get("fenced")}
    known = {b["id"]: b for b in cluster_brokers or []}
    if requested is None:
        if cluster_brokers is None:
            raise ModuleInputError("brokers is required with current_assignment (there is no cluster to read them from)")
        chosen = [{"id": bid, "rack": b.get("rack")} for bid, b in sorted(live.items())]
    else:
        chosen = []
        for index, item in enumerate(requested):
            if isinstance(item, dict):
                if "id" not in item:
                    raise ModuleInputError("brokers[%d] needs an id" % index)
                bid, rack, has_rack = item["id"], item.get("rack"), "rack" in item
            else:
                bid, rack, has_rack = item, None, False
            try:
                bid = int(bid)
            except (TypeError, ValueError):
                raise ModuleInputError("brokers[%d]: %r is not a broker id" % (index, item)) from None
            if not has_rack and bid in known:
                rack = known[bid].get("rack")
            chosen.append({"id": bid, "rack": rack})
        ids = [b["id"] for b in chosen]
        twice = sorted({i for i in ids if ids.count(i) > 1})
        if twice:
            raise ModuleInputError("brokers lists broker(s) %s more than once" % ", ".join(map(str, twice)))
        if cluster_brokers is not None:
            absent = [i for i in ids if i not in live]
            if absent:
                raise ModuleInputError("brokers %s are not registered and unfenced in the cluster (live: %s); a "
                                       "replica cannot be moved to a broker that is not running" % (
                                           ", ".join(map(str, absent)), ", ".join(map(str, sorted(live))) or "none"))
    # a broker to remove that the cluster no longer knows is simply gone already (a decommission
    # run again after it was unregistered); replicas still naming it are moved like any other
    chosen = [b for b in chosen if b["id"] not in set(remove)]
    if not chosen:
        raise ModuleInputError("no broker would be left to hold the replicas")
    return chosen


def check_assignment(entries, current, live_ids):
    """An explicit assignment must name existing partitions and live brokers."""
    for entry in entries:
        key = rx.key_of(entry)
        if current is not None and key not in current:
            raise ModuleInputError("assignment names %s, which does not exist" % rx.name_of(key))
        dead = [b for b in entry["replicas"] if live_ids is not None and b not in live_ids]
        if dead:
            raise ModuleInputError("assignment puts %s on broker(s) %s, which are not registered and unfenced" % (
                rx.name_of(key), ", ".join(map(str, dead))))


def diff_text(current, proposed):
    lines = []
    for entry in proposed:
        key = rx.key_of(entry)
        lines.append("%s: %s\n" % (rx.name_of(key), current.get(key)))
    after = ["%s: %s\n" % (rx.name_of(rx.key_of(e)), e["replicas"]) for e in proposed]
    return "".join(lines), "".join(after)


def planned_batches(current, proposed, params, sizes=None):
    batches = rx.split_batches(current, proposed, params["max_moves_per_broker"], sizes=sizes)
    return [{"partitions": batch, "summary": rx.batch_summary(current, batch)} for batch in batches]


def plan_options(params, sizes):
    options = {}
    for name in ("include_topics", "exclude_topics", "replication_factors", "max_moves"):
        if params[name] is not None:
            options[name] = params[name]
    if sizes:
        options["partition_sizes"] = {"%s-%d" % key: size for key, size in sizes.items()}
    return options


def offline(module):
    params = module.params
    entries = load_assignment(params["current_assignment"], "current_assignment")
    brokers = target_brokers(params["brokers"], params["remove_brokers"], None)
    current = rx.assignment_map(entries)
    plan = plan_reassignment({"version": 1, "partitions": entries}, brokers, **plan_options(params, None))
    proposed = plan["proposed"]["partitions"]
    result = dict(changed=False, proposed=plan["proposed"], stats=plan["stats"],
                  batches=planned_batches(current, proposed, params), resumed=[], elected=[],
                  stale_throttles={"topics": {}, "brokers": {}}, log=[])
    if module._diff:
        before, after = diff_text(current, proposed)
        result["diff"] = {"before": before, "after": after}
    return result


def leaders_to_elect(partitions, keys=None):
    """Partitions (of ``keys``, or all) whose leader is live but not their first replica."""
    found = []
    for part in partitions:
        key = (part["topic"], part["partition"])
        if keys is not None and key not in keys:
            continue
        if part["replicas"] and part["leader"] != part["replicas"][0] and part["replicas"][0] in part["isr"]:
            found.append(key)
    return found


def cancel(module, admin, result):
    in_flight = admin.reassignments()
    result["cancelled"] = sorted(rx.name_of(k) for k in in_flight)
    executor = rx.Executor(admin, timeout=module.params["timeout"], poll_interval=module.params["poll_interval"],
                           progress=module.log)
    stale = executor.stale_throttles()
    result["stale_throttles"] = stale
    result["changed"] = bool(in_flight or stale["topics"] or stale["brokers"])
    if module.check_mode or not result["changed"]:
        return result
    refused = admin.alter_reassignments(dict.fromkeys(in_flight))
    refused = {k: e for k, e in refused.items() if e != "NoReassignmentInProgressError"}  # finished meanwhile
    if refused:
        raise rx.ReassignmentError("Kafka refused to cancel %s" % "; ".join(
            "%s (%s)" % (rx.name_of(k), e) for k, e in sorted(refused.items())))
    executor.wait(in_flight, "cancellation", executor.clock() + module.params["timeout"],
                  hint="Kafka goes on reverting them; run state=cancelled again to wait for the rest")
    executor.clear_throttles(topics=stale["topics"], brokers=stale["brokers"])
    result["log"] = executor.log
    return result


def live(module, admin):
    params = module.params
    result = dict(changed=False, resumed=[], elected=[], stale_throttles={"topics": {}, "brokers": {}}, log=[])
    if params["state"] == "cancelled":
        return cancel(module, admin, result)

    cluster = admin.cluster()
    partitions = admin.partitions()
    in_flight = admin.reassignments()
    shown = {(p["topic"], p["partition"]): p["replicas"] for p in partitions}
    current = rx.effective_assignment(shown, in_flight)
    live_ids = {b["id"] for b in cluster["brokers"] if not b["fenced"]}
    result["resumed"] = sorted(rx.name_of(k) for k in in_flight)

    sizes = None
    if params["assignment"] is not None:
        proposed = load_assignment(params["assignment"], "assignment")
        check_assignment(proposed, current, live_ids)
        planned_keys = {rx.key_of(e) for e in proposed}
        proposed = [e for e in proposed if current[rx.key_of(e)] != e["replicas"]]
    else:
        brokers = target_brokers(params["brokers"], params["remove_brokers"], cluster["brokers"])
        if params["use_partition_sizes"]:
            sizes = admin.partition_sizes()
        plan = plan_reassignment({"version": 1, "partitions": rx.as_partition_list(current)}, brokers,
                                 **plan_options(params, sizes))
        proposed = plan["proposed"]["partitions"]
        result.update(proposed=plan["proposed"], stats=plan["stats"])
        planned_keys = None
        if params["include_topics"] or params["exclude_topics"]:
            chosen = select_topics({k[0] for k in current}, params["include_topics"], params["exclude_topics"])
            planned_keys = {k for k in current if k[0] in chosen}
    moving_keys = {rx.key_of(e) for e in proposed}
    offline_parts = [rx.name_of(rx.key_of(p)) for p in partitions if p["leader"] in (None, -1) and rx.key_of(p) in moving_keys]
    if offline_parts:
        raise rx.ReassignmentError("partitions %s have no leader, so their data cannot be copied; bring their "
                                   "brokers back first" % ", ".join(offline_parts[:20]))
    result["batches"] = planned_batches(current, proposed, params, sizes)
    if module._diff:
        before, after = diff_text(current, proposed)
        result["diff"] = {"before": before, "after": after}
    if params["state"] == "planned":
        return result

    executor = rx.Executor(admin, timeout=params["timeout"], poll_interval=params["poll_interval"], progress=module.log)
    stale = executor.stale_throttles() if not in_flight else {"topics": {}, "brokers": {}}
    result["stale_throttles"] = stale
    would_elect = []
    if params["elect_leaders"]:
        would_elect = [k for k in leaders_to_elect(partitions, planned_keys) if k not in moving_keys]
    result["changed"] = bool(proposed or in_flight or stale["topics"] or stale["brokers"] or would_elect)
    if module.check_mode:
        result["elected"] = sorted([rx.name_of(k) for k in would_elect] + [
            rx.name_of(rx.key_of(e)) for e in proposed if e["replicas"][0] != current[rx.key_of(e)][0]])
        return result
    if stale["topics"] or stale["brokers"]:
        executor.say("removing replication throttles left by an interrupted run")
        executor.clear_throttles(topics=stale["topics"], brokers=stale["brokers"])
    done = rx.execute_reassignment(admin, proposed, throttle=params["throttle"], timeout=params["timeout"],
                                   progress=module.log, max_moves_per_broker=params["max_moves_per_broker"],
                                   elect_leaders=False, poll_interval=params["poll_interval"], sizes=sizes)
    if in_flight:
        # the interrupted run may have left throttles that only now, with nothing in flight, can go
        leftover = executor.stale_throttles()
        if leftover["topics"] or leftover["brokers"]:
            executor.say("removing replication throttles left by the interrupted run")
            executor.clear_throttles(topics=leftover["topics"], brokers=leftover["brokers"])
            result["stale_throttles"] = leftover
    elected = {"elected": [], "errors": {}}
    if params["elect_leaders"]:
        after = admin.partitions()
        keys = set(planned_keys) | moving_keys if planned_keys is not None else None
        candidates = leaders_to_elect(after, keys)
        if candidates:
            elected = admin.elect_preferred_leaders(candidates)
    result.update(executed=done["batches"], throttle=done["throttle"], seconds=done["seconds"],
                  elected=elected["elected"], election_errors=elected["errors"],
                  log=executor.log + done["log"])
    result["resumed"] = sorted(set(result["resumed"]) | set(done["resumed"]))
    if elected["errors"]:
        module.warn("preferred leader election failed for %s" % ", ".join(
            "%s (%s)" % item for item in sorted(elected["errors"].items())))
    result["changed"] = bool(proposed or in_flight or stale["topics"] or stale["brokers"] or elected["elected"]
                             or done["resumed"])
    return result


def validate(params):
    for name in ("max_moves_per_broker", "timeout"):
        if params[name] < 1:
            raise ModuleInputError("%s must be at least 1, got %d" % (name, params[name]))
    if params["throttle"] is not None and params["throttle"] < 1024:
        raise ModuleInputError("throttle is in bytes per second and must be at least 1024 (got %d); a lower rate "
                               "would stall replication" % params["throttle"])
    if params["poll_interval"] <= 0:
        raise ModuleInputError("poll_interval must be positive")
    if params["current_assignment"] is not None:
        if params["assignment"] is not None:
            raise ModuleInputError("assignment executes on a cluster and current_assignment plans offline; give one")
        if params["state"] == "cancelled":
            raise ModuleInputError("state=cancelled needs a cluster, not current_assignment")
    elif not params["bootstrap_servers"]:
        raise ModuleInputError("bootstrap_servers is required (or current_assignment, to plan offline)")
    if params["assignment"] is not None and (params["replication_factors"] or params["max_moves"] is not None
                                             or params["brokers"] or params["remove_brokers"]):
        raise ModuleInputError("assignment is executed as given; brokers, remove_brokers, replication_factors and "
                               "max_moves only apply when the module plans")


def _interrupt(signum, frame):
    # once: the cleanup that follows (removing throttles) must not be cut short by the next
    # signal, and a stopped playbook often sends one to every process it started
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    raise Interrupted("stopped by signal %d" % signum)


def run(module, admin_factory=KafkaAdmin):
    params = module.params
    validate(params)
    if params["current_assignment"] is not None:
        return offline(module)
    admin = admin_factory(params["bootstrap_servers"], security=params["security"], identity=params["identity"],
                          listener=params["listener"], request_timeout=params["request_timeout"])
    with admin:
        return live(module, admin)


def main():
    spec = dict(ADMIN_ARGUMENT_SPEC)
    spec.update(
        bootstrap_servers=dict(type="list", elements="str", required=False),
        state=dict(type="str", default="present", choices=["present", "planned", "cancelled"]),
        brokers=dict(type="list", elements="raw"),
        remove_brokers=dict(type="list", elements="int", default=[]),
        include_topics=dict(type="list", elements="str"),
        exclude_topics=dict(type="list", elements="str"),
        replication_factors=dict(type="dict"),
        use_partition_sizes=dict(type="bool", default=True),
        max_moves=dict(type="int"),
        assignment=dict(type="raw"),
        current_assignment=dict(type="raw"),
        throttle=dict(type="int"),
        max_moves_per_broker=dict(type="int", default=rx.DEFAULT_MAX_MOVES_PER_BROKER),
        timeout=dict(type="int", default=3600),
        poll_interval=dict(type="float", default=2.0),
        elect_leaders=dict(type="bool", default=True),
    )
    module = AnsibleModule(argument_spec=spec, supports_check_mode=True)
    if not HAS_KAFKA and module.params["current_assignment"] is None:
        module.fail_json(msg=missing_required_lib("kafka-python"), exception=KAFKA_IMPORT_ERROR)
    signal.signal(signal.SIGTERM, _interrupt)
    signal.signal(signal.SIGINT, _interrupt)
    try:
        result = run(module)
    except Interrupted as exc:
        module.fail_json(msg="%s: throttles removed; Kafka goes on with the partitions already submitted. Run again "
                             "to resume, or with state=cancelled to revert them" % exc)
    except (ModuleInputError, PlanningError, rx.ReassignmentError, KafkaAdminError, SecurityConfigError) as exc:
        module.fail_json(msg=str(exc))
    module.exit_json(**result)


if __name__ == "__main__":
    main()
