# Copyright: kafkaops.platform contributors
# Apache-2.0 (see LICENSE)
"""Partition reassignment planning: least data movement, exact balance, rack-aware.

``plan_reassignment(current, brokers, **options)`` takes Kafka's reassignment JSON for the
partitions as they are today and the brokers that should hold replicas afterwards, and returns
the reassignment JSON to apply plus statistics. Pure standard-library Python, no Ansible import,
so it can be unit-tested and benchmarked on its own.

Definitions used throughout (the module documentation, the tests and the benchmark use the same):

Target set
    The brokers passed in ``brokers``. Brokers holding replicas today but missing from the list
    are drained; new ids are filled.

Rack rule
    If every target broker has a rack, a partition with replication factor RF must have its
    replicas on ``min(RF, R)`` distinct racks, where R is the number of racks in the target set.
    If no target broker has a rack, there is no rack rule. A mix raises ``InvalidBrokersError``.
    A replica on a broker outside the target set has no known rack; when counting violations
    of the *current* placement it is taken to be on a rack of its own.

Balanced replica counts
    Let N be the number of replicas to place (sum of target RFs of the planned partitions).
    The broker replica counts are balanced when the vector of counts is the most even one any
    rack-valid placement can have: it minimises the sum of squared counts, which for these
    problems is the same as minimising the largest count, then the next, and so on. In practice:

    * no racks, or racks that leave room (for example RF < R, or racks of equal size): every
      target broker holds ``floor(N/B)`` or ``ceil(N/B)`` replicas (B target brokers);
    * every partition has RF == R: each rack holds exactly one replica of every partition, so
      rack r holds P replicas (P partitions) whatever its size; no replica can change rack and
      each broker holds ``floor`` or ``ceil`` of ``P / brokers_in_rack``, rack by rack;
    * in between (mixed RF, racks of unequal size): each rack gets the load L_r that minimises
      the sum of squares over all loads the rack rule allows, and its brokers hold
      ``floor``/``ceil`` of ``L_r / brokers_in_rack``. Brokers of one rack never differ by
      more than one; racks differ only as far as the rack rule forces them.

    The chosen per-broker targets are returned as ``stats['replica_targets']`` and the regime as
    ``stats['balance_regime']`` (``global`` when all targets are within one of each other,
    ``per_rack`` otherwise).

Balanced leaders
    The leader is the first replica. Leader counts are made as even as reordering replica lists
    can make them (the same sum-of-squares criterion over the brokers that hold each
    partition); this is ``floor``/``ceil`` of ``P / B`` whenever reordering allows, which it
    does unless many partitions have RF 1. Leadership is only ever changed by reordering, never
    by moving data; a leadership change is not a replica move.

Replica move
    A replica placed on a broker that did not hold that partition before. Dropping a replica
    (RF decrease, drained broker) is not a move; a reorder is not a move.

Lower bound
    ``lower_bound`` is the largest of three bounds, each a number of moves that every balanced,
    rack-valid plan needs (``stats['lower_bound_detail']`` gives the parts):

    * ``N - keepable_by_brokers``: a broker b with ``c_b`` replicas of planned partitions today
      and target ``t_b`` keeps at most ``min(c_b, t_b)``; the bound takes the best sum over
      every balanced target vector (the ``floor``/``ceil`` extras may sit on any broker the
      rack rule lets them sit on). With RF unchanged and no racks this is exactly "replicas on
      removed brokers + each broker's surplus over its target". Under the rack rule two
      refinements apply per rack: partitions with RF >= R must each get a replica in every rack,
      so one with no keepable replica in a rack forces a new replica there (the rack keeps at
      most ``L_r - forced``), and they leave only ``L_r - (their number)`` places in the rack
      for replicas of the other partitions;
    * ``N - keepable_by_partitions``: a partition keeps at most its target RF, only replicas on
      target brokers, and only a set that can still be completed to a valid one (RF <= R: one
      replica per rack; RF > R: at most ``RF - R + racks_covered``). This is what makes fixing
      rack violations cost moves even on a balanced cluster;
    * ``moves_into_short_brokers`` (only when replicas must be dropped: RF decrease, drains,
      violations): for the set X of brokers left below target by the drops, at most
      ``sum over partitions of min(replicas in X, target RF)`` replicas can stay in X, and X
      must end with at least its share of the targets; the same for the other brokers.

    Without racks or RF changes the plan matched the exhaustive optimum in every (tiny,
    hypothesis-drawn) test case. In the benchmark (benchmarks/reassignment/RESULTS.md) it meets
    the bound in 49 of 60 cases and is within 1.09 of it in all; ``stats['moves_over_lower_bound']``
    reports the ratio. Where they differ, the planner, the bound or both may be off: the bound
    does not see, for example, that a broker far above target may hold few partitions allowed
    to leave its rack.

Stages (all counting and greedy steps, linear in the number of replicas, plus small flow
problems over racks). ``plan_reassignment`` runs them in this order; each is a module of the
private package ``_reassignment`` with the same name:

    1. ``inputs``: parse and check the arguments; split the selected partitions from the
       others. ``cluster``: number brokers, racks and replica lists.
    2. ``targets``: rack loads by exchange descent on the sum of squares over the rack-load
       polytope of the RF mix (M-convex, so the local optimum is global), ties broken towards
       keeping replicas where they are (``bounds`` says how many each rack keeps); per rack,
       ``ceil`` goes to the brokers holding most.
    3. ``drops``: the drops every plan must make (drained brokers, RF decrease, rack
       violations), choosing the replica on the broker furthest above target, then improved
       by augmenting paths. ``bounds``: the lower bound below.
    4. ``shed``: each broker above target sheds its surplus (followers before leaders;
       smallest partitions first when sizes are given); ``routing``, a min-cost flow over
       racks, decides how many shed and missing replicas go to which rack (extra moves only
       where the rack rule forces them).
    5. ``fill``: each rack fills its brokers below target, repairing dead ends by augmenting
       paths. (``placement`` runs stages 2-5, a second time without sizes when the
       size-steered placement needs more moves than the bound.)
    6. ``limit``: with ``max_moves``, the changes that fit (see Options).
    7. ``leaders``: hand-overs to less loaded replicas, then augmenting paths over the
       "leader -> follower" graph until no chain lowers the sum of squares.
    8. ``report``: the reassignment JSON of the changed partitions and the statistics.

Stats also carry ``balanced`` (counts equal the targets; false only in rare layouts where
the repair steps run out, for example a rack of one broker pinned by RF >= racks partitions),
``unrouted_holes`` (replicas the rack routing could not place as planned, a diagnostic) and
the per-broker ``replica_targets`` and ``rack_loads``.

Options (keyword arguments)
    ``include_topics`` / ``exclude_topics``
        Lists of strings. An entry equal to an existing topic name selects that topic exactly;
        any other entry is a regular expression that must match the *whole* topic name
        (``re.fullmatch``). An entry that selects no topic raises ``UnknownTopicError``.
        Only the selected partitions are planned and counted for balance; the others are left
        exactly as they are (``stats['excluded_partitions']``, and
        ``stats['unplanned_replicas_on_removed_brokers']`` if any of them sit on drained brokers).
    ``replication_factors``
        ``{topic: rf}``: new replication factor for every partition of the topic.
    ``partition_sizes``
        ``{"topic-partition": bytes}`` or ``{(topic, partition): bytes}``. Partitions without a
        size count as 0 bytes. Sizes never change the counts (replica and leader balance and the
        number of moves stay exactly as without sizes); among count-optimal choices the planner
        moves the smallest partitions, and places moved replicas largest first on the target
        broker holding the fewest bytes. ``stats['bytes']`` reports bytes moved and the byte
        spread before and after.
    ``max_moves``
        Cap on replica moves. If the full plan needs more, a valid partial plan is returned
        (``stats['complete']`` is false, ``stats['remaining_moves']`` says how many moves the
        rest needs): draining removed brokers first, then fixing rack violations and RF changes,
        then the moves that reduce imbalance most. Leaders are rebalanced by reordering on the
        partial result. Re-planning after applying it continues the work.
"""

from __future__ import annotations

from typing import Any

from ansible_collections.kafkaops.platform.plugins.module_utils._reassignment.cluster import index_cluster
from ansible_collections.kafkaops.platform.plugins.module_utils._reassignment.errors import (
    InfeasiblePlanError,
    InvalidAssignmentError,
    InvalidBrokersError,
    InvalidOptionError,
    PlanningError,
    ReplicationFactorError,
    UnknownTopicError,
)
from ansible_collections.kafkaops.platform.plugins.module_utils._reassignment.inputs import (
    Assignment,
    parse_assignment,
    parse_request,
    select_topic_names,
)
from ansible_collections.kafkaops.platform.plugins.module_utils._reassignment.leaders import balance_leaders
from ansible_collections.kafkaops.platform.plugins.module_utils._reassignment.limit import limit_moves
from ansible_collections.kafkaops.platform.plugins.module_utils._reassignment.placement import best_placement
from ansible_collections.kafkaops.platform.plugins.module_utils._reassignment.report import build_report, rack_violations

__all__ = [
    "Assignment",
    "InfeasiblePlanError",
    "InvalidAssignmentError",
    "InvalidBrokersError",
    "InvalidOptionError",
    "PlanningError",
    "ReplicationFactorError",
    "UnknownTopicError",
    "parse_assignment",
    "plan_reassignment",
    "rack_violations",
]


def plan_reassignment(current: Any, brokers: Any, **options: Any) -> dict[str, Any]:
    """Plan a reassignment with the fewest replica moves that reaches exact balance.

    :param current: Kafka reassignment JSON (dict or JSON text) describing every partition
        as it is now: ``{"version": 1, "partitions": [{"topic", "partition", "replicas"}]}``.
        ``log_dirs`` entries are accepted and ignored. An ``Assignment`` that
        :func:`parse_assignment` returned is taken as it is, without parsing it again.
    :param brokers: target brokers, ``[{"id": int, "rack": str or None}, ...]``.
    :param options: ``include_topics``, ``exclude_topics``, ``replication_factors``,
        ``partition_sizes``, ``max_moves`` (see the module docstring).
    :returns: ``{"proposed": reassignment JSON of changed partitions, "stats": {...}}``.
    :raises PlanningError: (a ``ValueError``) or one of its subclasses on bad input.
    """
    request = parse_request(current, brokers, options)
    replicas = [entry[2] for entry in request.planned]
    cluster = index_cluster(request.racks_by_id, replicas, request.replication_factors, request.sizes)
    cluster, placement = best_placement(cluster)
    limited = limit_moves(cluster, placement.replica_targets, placement.targets.current_counts, placement.work, request.max_moves)
    final = balance_leaders(cluster, limited.work)
    return build_report(request, cluster, placement, limited, final)


def select_topics(topics: Any, include: Any = None, exclude: Any = None) -> set[str]:
    """The names of ``topics`` that ``include``/``exclude`` select, with the planner's rules (an
    entry equal to a topic name selects that topic only; any other is a regular expression that
    must match whole names; an entry selecting nothing raises ``UnknownTopicError``)."""
    return select_topic_names(set(topics), include, exclude)
