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
      - V(cancelled) reverts every reassignment in flight and removes the replication throttles. It needs
        a cluster, so it cannot be combined with O(current_assignment).
    type: str
    default: present
    choices: [present, planned, cancelled]
  brokers:
    description:
      - The brokers that should hold the replicas afterwards, as ids or as dicts with C(id) and
        C(rack). Racks not given are read from the cluster.
      - Defaults to every registered, unfenced broker minus O(remove_brokers).
      - Required with O(current_assignment); not with O(assignment).
    type: list
    elements: raw
  remove_brokers:
    description: Brokers to drain (taken out of the target set). Not with O(assignment).
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
    description: New replication factor per topic, a dict of topic name to replication factor. Not with O(assignment).
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
      - Not with O(assignment).
    type: int
  assignment:
    description:
      - A reassignment to execute as given instead of planning one, in Kafka's reassignment JSON
        (a dict with C(version) 1 and C(partitions), a list of dicts with C(topic), C(partition) and C(replicas),
        or the same as a JSON string), for example one batch of an earlier plan or the output of
        C(kafka-reassign-partitions).
      - Executed as given, so it is mutually exclusive with O(current_assignment), and with the planning options
        O(brokers), O(remove_brokers), O(replication_factors) and O(max_moves).
      - An option counts as given when the task names it, even with a null value; a task that builds its options
        from variables leaves one out with C(default(omit)).
    type: raw
  current_assignment:
    description:
      - Plan offline from this assignment (Kafka's reassignment JSON, a dict or a JSON string) and the
        O(brokers) given; no cluster is contacted and nothing changes.
      - Requires O(brokers); mutually exclusive with O(assignment) and with O(state=cancelled). O(bootstrap_servers)
        is then not needed, nor is kafka-python.
    type: raw
  throttle:
    description:
      - Replication throttle in bytes per second for the moving replicas (Kafka's
        C(leader/follower.replication.throttled.rate) on the brokers involved), at least 1024. None moves
        unthrottled.
    type: int
  max_moves_per_broker:
    description: At most this many replica moves per broker in one batch (as receiver or as sending leader); at least 1.
    type: int
    default: 5
  timeout:
    description:
      - Seconds to wait for one batch (and for a reassignment found in flight) before failing, at least 1. Kafka
        goes on with the batch; running again resumes it.
    type: int
    default: 3600
  poll_interval:
    description: Seconds between progress checks; more than 0.
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

from ansible.module_utils.basic import missing_required_lib

from ansible_collections.kafkaops.platform.plugins.module_utils._reassignment_runner import (
    RUN_ERRORS,
    Interrupted,
    interrupted_message,
    run,
    stop_on_signals,
)
from ansible_collections.kafkaops.platform.plugins.module_utils.connection import KafkaModule
from ansible_collections.kafkaops.platform.plugins.module_utils.kafka_admin import (
    ADMIN_ARGUMENT_SPEC,
    HAS_KAFKA,
    KAFKA_IMPORT_ERROR,
)
from ansible_collections.kafkaops.platform.plugins.module_utils.reassignment_exec import DEFAULT_MAX_MOVES_PER_BROKER

# How the options combine. An option counts as given when the task names it (even as null), so a
# playbook leaves one out with default(omit). The runner's validate() checks what a spec cannot
# state: ranges, an empty bootstrap_servers, and state=cancelled with current_assignment. Without
# current_assignment the bootstrap servers are required (or KAFKA_BOOTSTRAP_SERVERS).
PLANNING_OPTIONS = ("brokers", "remove_brokers", "replication_factors", "max_moves")
MUTUALLY_EXCLUSIVE = [("assignment", "current_assignment")] + [("assignment", name) for name in PLANNING_OPTIONS]
REQUIRED_BY = {"current_assignment": ("brokers",)}


def argument_spec() -> dict:
    """The options; how they combine is stated by the constants above."""
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
        max_moves_per_broker=dict(type="int", default=DEFAULT_MAX_MOVES_PER_BROKER),
        timeout=dict(type="int", default=3600),
        poll_interval=dict(type="float", default=2.0),
        elect_leaders=dict(type="bool", default=True),
    )
    return spec


def main() -> None:
    module = KafkaModule(argument_spec=argument_spec(), mutually_exclusive=MUTUALLY_EXCLUSIVE, required_by=REQUIRED_BY,
                         offline=lambda params: params["current_assignment"] is not None, supports_check_mode=True)
    if not HAS_KAFKA and module.params["current_assignment"] is None:
        module.fail_json(msg=missing_required_lib("kafka-python"), exception=KAFKA_IMPORT_ERROR)
    stop_on_signals()
    try:
        result = run(module)
    except Interrupted as exc:
        module.fail_json(msg=interrupted_message(exc))
    except RUN_ERRORS as exc:
        module.fail_json(msg=str(exc))
    module.exit_json(**result)


if __name__ == "__main__":
    main()
