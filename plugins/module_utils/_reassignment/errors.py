# Copyright: kafkaops.platform contributors
# Apache-2.0 (see LICENSE)
"""The planner's errors: every one is a ``PlanningError`` (a ``ValueError``) naming what to fix.

``reassignment`` re-exports them; callers import them from there.
"""

from __future__ import annotations


class PlanningError(ValueError):
    """Base class of every error raised for bad input to the planner."""


class InvalidAssignmentError(PlanningError):
    """``current`` is not valid reassignment JSON (structure, types, duplicates)."""


class InvalidBrokersError(PlanningError):
    """``brokers`` is malformed: duplicate ids, bad types, racks on only some brokers."""


class ReplicationFactorError(PlanningError):
    """A replication factor cannot be met by the target brokers."""


class UnknownTopicError(PlanningError):
    """An option names a topic (or pattern) that matches no topic in ``current``."""


class InvalidOptionError(PlanningError):
    """An option has the wrong type or value, or is not a known option."""


class InfeasiblePlanError(PlanningError):
    """The constraints admit no placement the planner can compute."""
