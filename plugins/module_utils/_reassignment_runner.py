# Copyright: kafkaops.platform contributors
# Apache-2.0 (see LICENSE)
"""The flow of the kafka_reassignment module.

The module (plugins/modules/kafka_reassignment.py) is its documentation, its argument spec and a
short ``main()``; the work is done here, as kubernetes.core splits ``k8s.py`` and its runner:

* :func:`run` checks the options the argument spec cannot express (:func:`validate`), then plans
  offline (:func:`offline`) or connects and works on the cluster (:func:`live`);
* :func:`live` reads the cluster once, plans (or takes the given ``assignment``), and, unless
  only planning, executes the batches, removes stale throttles and elects preferred leaders;
  ``state=cancelled`` goes to :func:`cancel` instead;
* :func:`stop_on_signals` turns SIGTERM and SIGINT into :class:`Interrupted`, so that the
  executor's cleanup (removing throttles) runs when a playbook is stopped.

``module`` is anything with ``params``, ``check_mode``, ``_diff``, ``log()`` and ``warn()`` (an
AnsibleModule in production); nothing here imports Ansible.
"""
from __future__ import annotations

import signal
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable, Protocol

from ansible_collections.kafkaops.platform.plugins.module_utils import reassignment_exec as rx
from ansible_collections.kafkaops.platform.plugins.module_utils.kafka_admin import KafkaAdmin, KafkaAdminError, admin_arguments
from ansible_collections.kafkaops.platform.plugins.module_utils.reassignment import (
    Assignment,
    PlanningError,
    parse_assignment,
    plan_reassignment,
    select_topics,
)
from ansible_collections.kafkaops.platform.plugins.module_utils.security import SecurityConfigError

Result = dict[str, Any]


class ModuleLike(Protocol):
    """What the runner uses of an AnsibleModule."""

    params: dict[str, Any]
    check_mode: bool
    _diff: bool

    def log(self, msg: str) -> None:
        """Send a message to the log."""

    def warn(self, warning: str) -> None:
        """Add a warning to the result."""


class ModuleInputError(ValueError):
    """Options the module cannot work with; the message says what to fix."""


class Interrupted(BaseException):
    """The module got SIGTERM or SIGINT (the playbook was stopped). A BaseException, so that no
    ``except Exception`` on the way (kafka-python has some) swallows it."""


# The errors main() reports as they are, with fail_json(msg=str(error)).
RUN_ERRORS = (ModuleInputError, PlanningError, rx.ReassignmentError, KafkaAdminError, SecurityConfigError)


def _no_throttles() -> rx.Throttles:
    return {"topics": {}, "brokers": {}}


def _has_throttles(found: rx.Throttles) -> bool:
    return bool(found["topics"] or found["brokers"])


# -- the options ------------------------------------------------------------------------------------
def validate(params: dict[str, Any]) -> None:
    """The option checks the argument spec cannot state: ranges, an empty ``bootstrap_servers``
    (the spec's required_one_of counts it as given) and ``state=cancelled`` with
    ``current_assignment`` (a value, not an option, excludes it); raises ModuleInputError. The
    module's spec states the rest: assignment excludes current_assignment and the planning
    options; bootstrap_servers or current_assignment is required; current_assignment requires brokers."""
    for name in ("max_moves_per_broker", "timeout"):
        if params[name] < 1:
            raise ModuleInputError("%s must be at least 1, got %d" % (name, params[name]))
    problem = rx.throttle_problem(params["throttle"])
    if problem:
        raise ModuleInputError(problem)
    if params["poll_interval"] <= 0:
        raise ModuleInputError("poll_interval must be positive")
    if params["current_assignment"] is not None:
        if params["state"] == "cancelled":
            raise ModuleInputError("state=cancelled needs a cluster, not current_assignment")
    elif not params["bootstrap_servers"]:
        raise ModuleInputError("bootstrap_servers is required (or current_assignment, to plan offline)")


def load_assignment(value: Any, option: str) -> tuple[Assignment, list[rx.Entry]]:
    """Kafka's reassignment JSON (dict or text), checked by the planner's parser (the one parser of
    it), and its partitions as ``{"topic", "partition", "replicas"}`` sorted by topic and partition."""
    checked = parse_assignment(value, option)
    return checked, checked.as_json()["partitions"]


def target_brokers(requested: list[Any] | None, remove: Iterable[int],
                   cluster_brokers: list[dict[str, Any]] | None) -> list[dict[str, Any]]:
    """The target set as the planner wants it: ``[{"id", "rack"}]``.

    ``requested``: the ``brokers`` option (ids or dicts) or None; ``cluster_brokers``: the
    cluster's brokers (``KafkaAdmin.cluster()["brokers"]``) or None offline."""
    live = {b["id"]: b for b in cluster_brokers or [] if not b.get("fenced")}
    if requested is None:
        if cluster_brokers is None:
            raise ModuleInputError("brokers is required with current_assignment (there is no cluster to read them from)")
        chosen = [{"id": bid, "rack": b.get("rack")} for bid, b in sorted(live.items())]
    else:
        chosen = _requested_brokers(requested, {b["id"]: b for b in cluster_brokers or []})
        if cluster_brokers is not None:
            absent = [b["id"] for b in chosen if b["id"] not in live]
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


def _requested_brokers(requested: list[Any], known: dict[int, dict[str, Any]]) -> list[dict[str, Any]]:
    """The ``brokers`` option as ``[{"id", "rack"}]``, racks not given taken from ``known``."""
    chosen: list[dict[str, Any]] = []
    for index, item in enumerate(requested):
        if isinstance(item, dict):
            if "id" not in item:
                raise ModuleInputError("brokers[%d] needs an id" % index)
            broker_id, rack, has_rack = item["id"], item.get("rack"), "rack" in item
        else:
            broker_id, rack, has_rack = item, None, False
        try:
            broker_id = int(broker_id)
        except (TypeError, ValueError):
            raise ModuleInputError("brokers[%d]: %r is not a broker id" % (index, item)) from None
        if not has_rack and broker_id in known:
            rack = known[broker_id].get("rack")
        chosen.append({"id": broker_id, "rack": rack})
    ids = [b["id"] for b in chosen]
    twice = sorted({i for i in ids if ids.count(i) > 1})
    if twice:
        raise ModuleInputError("brokers lists broker(s) %s more than once" % ", ".join(map(str, twice)))
    return chosen


def check_assignment(entries: list[rx.Entry], current: rx.Assignment | None, live_ids: set[int] | None) -> None:
    """An explicit assignment must name existing partitions and live brokers."""
    for entry in entries:
        key = rx.key_of(entry)
        if current is not None and key not in current:
            raise ModuleInputError("assignment names %s, which does not exist" % rx.name_of(key))
        dead = [b for b in entry["replicas"] if live_ids is not None and b not in live_ids]
        if dead:
            raise ModuleInputError("assignment puts %s on broker(s) %s, which are not registered and unfenced" % (
                rx.name_of(key), ", ".join(map(str, dead))))


def plan_options(params: dict[str, Any], sizes: dict[rx.PartitionKey, int] | None) -> dict[str, Any]:
    """The planner's keyword arguments from the module's options."""
    options: dict[str, Any] = {}
    for name in ("include_topics", "exclude_topics", "replication_factors", "max_moves"):
        if params[name] is not None:
            options[name] = params[name]
    if sizes:
        options["partition_sizes"] = {"%s-%d" % key: size for key, size in sizes.items()}
    return options


# -- what the result shows --------------------------------------------------------------------------
def diff_text(current: rx.Assignment, proposed: list[rx.Entry]) -> tuple[str, str]:
    """``(before, after)``: one line per partition whose replicas change."""
    before = ["%s: %s\n" % (rx.name_of(rx.key_of(e)), current.get(rx.key_of(e))) for e in proposed]
    after = ["%s: %s\n" % (rx.name_of(rx.key_of(e)), e["replicas"]) for e in proposed]
    return "".join(before), "".join(after)


def _add_diff(module: ModuleLike, result: Result, current: rx.Assignment, proposed: list[rx.Entry]) -> None:
    if module._diff:
        before, after = diff_text(current, proposed)
        result["diff"] = {"before": before, "after": after}


def planned_batches(current: rx.Assignment, proposed: list[rx.Entry], params: dict[str, Any],
                    sizes: dict[rx.PartitionKey, int] | None = None) -> list[dict[str, Any]]:
    batches = rx.split_batches(current, proposed, params["max_moves_per_broker"], sizes=sizes)
    return [{"partitions": batch, "summary": rx.batch_summary(current, batch)} for batch in batches]


def leaders_to_elect(partitions: list[dict[str, Any]], keys: set[rx.PartitionKey] | None = None) -> list[rx.PartitionKey]:
    """Partitions (of ``keys``, or all) whose leader is live but not their first replica."""
    found = []
    for part in partitions:
        key = (part["topic"], part["partition"])
        if keys is not None and key not in keys:
            continue
        if part["replicas"] and part["leader"] != part["replicas"][0] and part["replicas"][0] in part["isr"]:
            found.append(key)
    return found


# -- the runs -----------------------------------------------------------------------------------------
def run(module: ModuleLike, admin_factory: Callable[..., KafkaAdmin] = KafkaAdmin) -> Result:
    """Everything the module does; returns the result for exit_json, raises one of RUN_ERRORS
    (or Interrupted)."""
    params = module.params
    validate(params)
    if params["current_assignment"] is not None:
        return offline(module)
    admin = admin_factory(params["bootstrap_servers"], **admin_arguments(params))
    with admin:
        return live(module, admin)


def offline(module: ModuleLike) -> Result:
    """Plan from ``current_assignment`` and ``brokers`` alone; no cluster, nothing changes."""
    params = module.params
    checked, entries = load_assignment(params["current_assignment"], "current_assignment")
    brokers = target_brokers(params["brokers"], params["remove_brokers"], None)
    current = rx.assignment_map(entries)
    plan = plan_reassignment(checked, brokers, **plan_options(params, None))
    proposed = plan["proposed"]["partitions"]
    result = dict(changed=False, proposed=plan["proposed"], stats=plan["stats"],
                  batches=planned_batches(current, proposed, params), resumed=[], elected=[],
                  stale_throttles=_no_throttles(), log=[])
    _add_diff(module, result, current, proposed)
    return result


def cancel(module: ModuleLike, admin: KafkaAdmin, result: Result) -> Result:
    """``state=cancelled``: revert the reassignments in flight and remove the throttles."""
    in_flight = admin.reassignments()
    result["cancelled"] = sorted(rx.name_of(k) for k in in_flight)
    executor = rx.Executor(admin, timeout=module.params["timeout"], poll_interval=module.params["poll_interval"],
                           progress=module.log)
    stale = executor.stale_throttles()
    result["stale_throttles"] = stale
    result["changed"] = bool(in_flight) or _has_throttles(stale)
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


@dataclass
class _Cluster:
    """The cluster as the live run reads it once, at its start."""

    brokers: list[dict[str, Any]]
    partitions: list[dict[str, Any]]
    in_flight: dict[rx.PartitionKey, dict[str, list[int]]]
    current: rx.Assignment  # the assignment once the reassignments in flight finish

    @property
    def live_ids(self) -> set[int]:
        return {b["id"] for b in self.brokers if not b["fenced"]}


@dataclass
class _Proposal:
    """What the run would move: the planner's plan, or the given ``assignment``."""

    moves: list[rx.Entry]  # the partitions whose replica list changes
    planned_keys: set[rx.PartitionKey] | None  # the partitions the election may touch; None: all
    sizes: dict[rx.PartitionKey, int] | None = None
    report: dict[str, Any] = field(default_factory=dict)  # the planner's proposed and stats, for the result

    @property
    def moving_keys(self) -> set[rx.PartitionKey]:
        return {rx.key_of(e) for e in self.moves}


def _read_cluster(admin: KafkaAdmin) -> _Cluster:
    brokers = admin.cluster()["brokers"]
    partitions = admin.partitions()
    in_flight = admin.reassignments()
    shown = {(p["topic"], p["partition"]): p["replicas"] for p in partitions}
    return _Cluster(brokers, partitions, in_flight, rx.effective_assignment(shown, in_flight))


def _given_assignment(params: dict[str, Any], cluster: _Cluster) -> _Proposal:
    _checked, entries = load_assignment(params["assignment"], "assignment")
    check_assignment(entries, cluster.current, cluster.live_ids)
    moves = [e for e in entries if cluster.current[rx.key_of(e)] != e["replicas"]]
    return _Proposal(moves, planned_keys={rx.key_of(e) for e in entries})


def _planned(params: dict[str, Any], admin: KafkaAdmin, cluster: _Cluster) -> _Proposal:
    brokers = target_brokers(params["brokers"], params["remove_brokers"], cluster.brokers)
    sizes = admin.partition_sizes() if params["use_partition_sizes"] else None
    plan = plan_reassignment({"version": 1, "partitions": rx.as_partition_list(cluster.current)}, brokers,
                             **plan_options(params, sizes))
    planned_keys = None
    if params["include_topics"] or params["exclude_topics"]:
        chosen = select_topics({k[0] for k in cluster.current}, params["include_topics"], params["exclude_topics"])
        planned_keys = {k for k in cluster.current if k[0] in chosen}
    return _Proposal(plan["proposed"]["partitions"], planned_keys, sizes,
                     report={"proposed": plan["proposed"], "stats": plan["stats"]})


def _refuse_leaderless(cluster: _Cluster, proposal: _Proposal) -> None:
    """A partition without a leader has nobody to copy its data from."""
    moving = proposal.moving_keys
    leaderless = [rx.name_of(rx.key_of(p)) for p in cluster.partitions
                  if p["leader"] in (None, -1) and rx.key_of(p) in moving]
    if leaderless:
        raise rx.ReassignmentError("partitions %s have no leader, so their data cannot be copied; bring their "
                                   "brokers back first" % ", ".join(leaderless[:20]))


def live(module: ModuleLike, admin: KafkaAdmin) -> Result:
    """Plan on the cluster and, unless ``state=planned`` or check mode, execute; ``changed`` is
    decided once, at the end, from what was done (or would be, in check mode)."""
    params = module.params
    result: Result = dict(changed=False, resumed=[], elected=[], stale_throttles=_no_throttles(), log=[])
    if params["state"] == "cancelled":
        return cancel(module, admin, result)
    cluster = _read_cluster(admin)
    result["resumed"] = sorted(rx.name_of(k) for k in cluster.in_flight)
    given = params["assignment"] is not None
    proposal = _given_assignment(params, cluster) if given else _planned(params, admin, cluster)
    result.update(proposal.report)
    _refuse_leaderless(cluster, proposal)
    result["batches"] = planned_batches(cluster.current, proposal.moves, params, proposal.sizes)
    _add_diff(module, result, cluster.current, proposal.moves)
    if params["state"] == "planned":
        return result
    executor = rx.Executor(admin, timeout=params["timeout"], poll_interval=params["poll_interval"], progress=module.log)
    if not cluster.in_flight:  # throttles of moves in flight are not stale
        result["stale_throttles"] = executor.stale_throttles()
    if module.check_mode:
        result["elected"] = _would_elect(params, cluster, proposal)
    else:
        _execute(module, admin, executor, cluster, proposal, result)
    result["changed"] = bool(proposal.moves or result["resumed"] or result["elected"]
                             or _has_throttles(result["stale_throttles"]))
    return result


def _would_elect(params: dict[str, Any], cluster: _Cluster, proposal: _Proposal) -> list[str]:
    """Check mode: the partitions whose leader the run would move, by the election or by the moves."""
    by_election = []
    if params["elect_leaders"]:
        by_election = [k for k in leaders_to_elect(cluster.partitions, proposal.planned_keys)
                       if k not in proposal.moving_keys]
    by_moves = [rx.key_of(e) for e in proposal.moves if e["replicas"][0] != cluster.current[rx.key_of(e)][0]]
    return sorted(rx.name_of(k) for k in by_election + by_moves)


def _clear_stale(executor: rx.Executor, stale: rx.Throttles, message: str) -> None:
    if _has_throttles(stale):
        executor.say(message)
        executor.clear_throttles(topics=stale["topics"], brokers=stale["brokers"])


def _execute(module: ModuleLike, admin: KafkaAdmin, executor: rx.Executor, cluster: _Cluster, proposal: _Proposal,
             result: Result) -> None:
    """Remove stale throttles, run the batches (finishing what is in flight first), elect leaders."""
    params = module.params
    _clear_stale(executor, result["stale_throttles"], "removing replication throttles left by an interrupted run")
    done = rx.execute_reassignment(admin, proposal.moves, throttle=params["throttle"], timeout=params["timeout"],
                                   progress=module.log, max_moves_per_broker=params["max_moves_per_broker"],
                                   elect_leaders=False, poll_interval=params["poll_interval"], sizes=proposal.sizes)
    if cluster.in_flight:
        # the interrupted run may have left throttles that only now, with nothing in flight, can go
        leftover = executor.stale_throttles()
        _clear_stale(executor, leftover, "removing replication throttles left by the interrupted run")
        if _has_throttles(leftover):
            result["stale_throttles"] = leftover
    elected = _elect(params, admin, proposal)
    result.update(executed=done["batches"], throttle=done["throttle"], seconds=done["seconds"],
                  elected=elected["elected"], election_errors=elected["errors"], log=executor.log + done["log"])
    result["resumed"] = sorted(set(result["resumed"]) | set(done["resumed"]))
    if elected["errors"]:
        module.warn("preferred leader election failed for %s" % ", ".join(
            "%s (%s)" % item for item in sorted(elected["errors"].items())))


def _elect(params: dict[str, Any], admin: KafkaAdmin, proposal: _Proposal) -> dict[str, Any]:
    """The preferred leader election after the moves, of the planned and the moved partitions."""
    if not params["elect_leaders"]:
        return {"elected": [], "errors": {}}
    keys = proposal.planned_keys | proposal.moving_keys if proposal.planned_keys is not None else None
    candidates = leaders_to_elect(admin.partitions(), keys)
    if not candidates:
        return {"elected": [], "errors": {}}
    return admin.elect_preferred_leaders(candidates)


# -- stopping -----------------------------------------------------------------------------------------
def _interrupt(signum: int, frame: object) -> None:
    # once: the cleanup that follows (removing throttles) must not be cut short by the next
    # signal, and a stopped playbook often sends one to every process it started
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    raise Interrupted("stopped by signal %d" % signum)


def stop_on_signals() -> None:
    """Make SIGTERM and SIGINT raise :class:`Interrupted` in the running code."""
    signal.signal(signal.SIGTERM, _interrupt)
    signal.signal(signal.SIGINT, _interrupt)


def interrupted_message(exc: Interrupted) -> str:
    return ("%s: throttles removed; Kafka goes on with the partitions already submitted. Run again to resume, or "
            "with state=cancelled to revert them" % exc)
