# Copyright: kafkaops.platform contributors
# Apache-2.0 (see LICENSE)
"""Tests of _reassignment.errors: one family of errors, re-exported by reassignment."""

from __future__ import annotations

import pytest

from ansible_collections.kafkaops.platform.plugins.module_utils import reassignment
from ansible_collections.kafkaops.platform.plugins.module_utils._reassignment import errors

SUBCLASSES = [
    "InvalidAssignmentError", "InvalidBrokersError", "ReplicationFactorError", "UnknownTopicError",
    "InvalidOptionError", "InfeasiblePlanError",
]


@pytest.mark.parametrize("name", SUBCLASSES)
def test_every_error_is_a_planning_error_and_a_value_error(name):
    cls = getattr(errors, name)
    assert issubclass(cls, errors.PlanningError)
    assert issubclass(cls, ValueError)


@pytest.mark.parametrize("name", ["PlanningError"] + SUBCLASSES)
def test_reassignment_exports_the_same_classes(name):
    assert getattr(reassignment, name) is getattr(errors, name)
    assert name in reassignment.__all__
