# Copyright: kafkaops.platform contributors
# Apache-2.0 (see LICENSE)
"""The planner's plans are pinned: every case of pin/record_plans.py's corpus must give the
plan recorded in pin/plans.json, bit for bit (sha256 of its JSON), with the same statistics.

484 cases replay in about 25 s on a 2-core machine; the benchmark clusters in ``SLOW_CLUSTERS``
(24 more cases: L, XL, about two more minutes) are replayed only with ``KAFKAOPS_PIN_ALL=1``. After an intended change of the plans, re-record with
``.cache/venv/bin/python tests/unit/plugins/module_utils/pin/record_plans.py`` and say why in
the commit.
"""

from __future__ import annotations

import os

import pytest
from pin import record_plans

from ansible_collections.kafkaops.platform.plugins.module_utils.reassignment import (
    PlanningError,
    plan_reassignment,
)

RECORDED = record_plans.load()["cases"]
FAST_CLUSTERS = [name for name in record_plans.bench_cluster_names() if name not in record_plans.SLOW_CLUSTERS]


def differences(cases):
    """Names and (recorded, now) outcomes of the cases whose outcome changed."""
    out = []
    for case in cases:
        expected = {key: value for key, value in RECORDED[case[0]].items() if key != "slow"}
        got = record_plans.outcome(plan_reassignment, PlanningError, case)
        if got != expected:
            out.append((case[0], expected, got))
    return out


def replay_cluster(name):
    cases = list(record_plans.bench_cases(name, plan_reassignment))
    assert [case[0] for case in cases] == [key for key in RECORDED if key.startswith("bench/%s/" % name)]
    assert differences(cases) == []


@pytest.mark.parametrize("cluster", FAST_CLUSTERS)
def test_benchmark_plans_are_unchanged(cluster):
    replay_cluster(cluster)


@pytest.mark.skipif(not os.environ.get("KAFKAOPS_PIN_ALL"), reason="large clusters: set KAFKAOPS_PIN_ALL=1")
@pytest.mark.parametrize("cluster", record_plans.SLOW_CLUSTERS)
def test_large_benchmark_plans_are_unchanged(cluster):
    replay_cluster(cluster)


def test_random_plans_are_unchanged():
    cases = [record_plans.random_case(seed) for seed in record_plans.RANDOM_SEEDS]
    assert len([key for key in RECORDED if key.startswith("random/")]) == len(cases)
    assert differences(cases) == []


def test_errors_for_bad_input_are_unchanged():
    cases = list(record_plans.error_cases())
    assert len([key for key in RECORDED if key.startswith("error/")]) == len(cases)
    assert differences(cases) == []
