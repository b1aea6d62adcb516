# Copyright: kafkaops.platform contributors
# Apache-2.0 (see LICENSE)
"""Tests of plugins/module_utils/features.py: the metadata.version table, reading a level from
what an operator writes, and why a level cannot be finalized or a release cannot run."""

from __future__ import annotations

import re

import pytest

from ansible_collections.kafkaops.platform.plugins.module_utils import features as ft
from ansible_collections.kafkaops.platform.plugins.module_utils.features import FeatureError


def name_key(name):
    """``"4.3-IV0"`` -> ``(4, 3, 0)``, the order Kafka's MetadataVersion enum has."""
    match = re.match(r"^(\d+)\.(\d+)-IV(\d+)$", name)
    assert match, name
    return tuple(int(part) for part in match.groups())


# -- the table -----------------------------------------------------------------------------------
def test_levels_increase_strictly_in_name_order_without_gaps():
    names = sorted(ft.LEVELS, key=name_key)
    levels = [ft.LEVELS[name] for name in names]
    assert all(low < high for low, high in zip(levels, levels[1:]))
    assert levels == list(range(4, 31))  # Kafka's enum has no gaps, 3.3-IV0 (4) .. 4.3-IV0 (30)
    assert len(set(ft.LEVELS.values())) == len(ft.LEVELS)


def test_every_release_latest_is_a_level_of_that_release():
    by_level = {level: name for name, level in ft.LEVELS.items()}
    for release, level in ft.RELEASE_LATEST.items():
        assert level in by_level, release
        assert by_level[level].startswith(release + "-IV"), (release, by_level[level])


def test_release_latest_is_the_last_level_of_each_release():
    for release, level in ft.RELEASE_LATEST.items():
        of_release = [known for name, known in ft.LEVELS.items() if name.startswith(release + "-IV")]
        assert level == max(of_release), release


@pytest.mark.parametrize("release, level, name", [
    ("4.2", 29, "4.2-IV1"), ("4.3", 30, "4.3-IV0"), ("3.9", 21, "3.9-IV0"), ("4.0", 25, "4.0-IV3"),
    ("3.7", 19, "3.7-IV4"), ("4.1", 27, "4.1-IV1")])
def test_known_release_levels(release, level, name):
    assert ft.RELEASE_LATEST[release] == level
    assert ft.level_name(level) == name


def test_releases_increase_with_their_levels():
    releases = sorted(ft.RELEASE_LATEST, key=lambda r: tuple(int(x) for x in r.split(".")))
    levels = [ft.RELEASE_LATEST[r] for r in releases]
    assert levels == sorted(levels) and len(set(levels)) == len(levels)


# -- level_name ----------------------------------------------------------------------------------
@pytest.mark.parametrize("level, name", [(4, "3.3-IV0"), (7, "3.3-IV3"), (29, "4.2-IV1"), (30, "4.3-IV0"),
                                         (31, "level 31"), (1, "level 1"), (None, "none")])
def test_level_name(level, name):
    assert ft.level_name(level) == name


# -- release_of ----------------------------------------------------------------------------------
@pytest.mark.parametrize("version, release", [("4.3.1", "4.3"), ("4.3", "4.3"), (" 3.9.0 ", "3.9"), ("10.12.3", "10.12")])
def test_release_of(version, release):
    assert ft.release_of(version) == release


@pytest.mark.parametrize("version", ["4", "4.3.1.2", "latest", "", "4.3-IV0", "v4.3.1", "4.x", "4.\n3", "4.3\n.1",
                                     "\u0664.3"])
def test_release_of_refuses_what_is_not_a_release(version):
    with pytest.raises(FeatureError) as caught:
        ft.release_of(version)
    assert repr(version) in str(caught.value)
    assert "is not a Kafka release" in str(caught.value)


# -- release_level -------------------------------------------------------------------------------
@pytest.mark.parametrize("version, level", [("4.3.1", 30), ("4.3", 30), ("4.2.0", 29), ("3.9.1", 21), ("3.7.2", 19)])
def test_release_level_of_known_releases(version, level):
    assert ft.release_level(version) == level


@pytest.mark.parametrize("version", ["4.4.0", "5.0", "5.0.1"])
def test_release_level_of_a_newer_release_is_unknown(version):
    assert ft.release_level(version) is None


def test_release_level_refuses_what_is_not_a_release():
    with pytest.raises(FeatureError, match="'latest'"):
        ft.release_level("latest")


# -- wanted_level --------------------------------------------------------------------------------
SUPPORTED = {1: (7, 30), 2: (7, 30), 3: (7, 29)}


def test_latest_is_the_lowest_maximum_of_the_brokers():
    assert ft.wanted_level("latest", SUPPORTED) == 29
    assert ft.wanted_level(" latest ", {1: (7, 30), 2: (7, 30)}) == 30
    assert ft.wanted_level("latest", {1: (7, 31)}) == 31  # a level newer than the table is taken as advertised


def test_latest_without_brokers_is_refused():
    with pytest.raises(FeatureError) as caught:
        ft.wanted_level("latest", {})
    assert "no broker advertises metadata.version" in str(caught.value)


@pytest.mark.parametrize("spec, level", [("30", 30), (30, 30), ("31", 31), ("4.3-IV0", 30), ("3.3-IV3", 7),
                                         ("4.3", 30), ("4.3.1", 30), ("4.2", 29), ("3.9.0", 21)])
def test_wanted_level_of_a_level_name_or_release(spec, level):
    assert ft.wanted_level(spec, SUPPORTED) == level


@pytest.mark.parametrize("spec", ["\u00b2", "\u0663\u0660"])
def test_wanted_level_of_non_ascii_digits_is_refused(spec):
    # "²".isdigit() is true, but int() refuses it; Arabic-Indic digits are no level either
    with pytest.raises(FeatureError, match="is not a Kafka release"):
        ft.wanted_level(spec, SUPPORTED)


def test_wanted_level_does_not_depend_on_the_brokers_unless_latest():
    assert ft.wanted_level("4.3", {}) == 30
    assert ft.wanted_level("4.3", {1: (7, 21)}) == 30


@pytest.mark.parametrize("spec", ["5.0", "4.4.0"])
def test_an_unknown_release_is_refused_naming_it(spec):
    with pytest.raises(FeatureError) as caught:
        ft.wanted_level(spec, SUPPORTED)
    assert repr(spec) in str(caught.value)
    assert "metadata.version %r is not known here" % spec in str(caught.value)


def test_nonsense_is_refused():
    with pytest.raises(FeatureError, match="'newest'"):
        ft.wanted_level("newest", SUPPORTED)


# -- finalize_errors -----------------------------------------------------------------------------
def test_nothing_in_the_way():
    assert ft.finalize_errors(30, 29, {1: (7, 30), 2: (7, 30)}) == []
    assert ft.finalize_errors(30, None, {1: (7, 30)}) == []
    assert ft.finalize_errors(30, 30, {1: (7, 30)}) == []  # the same level is not lower


def test_lowering_is_refused_naming_both_levels():
    errors = ft.finalize_errors(29, 30, {1: (7, 30)})
    assert len(errors) == 1
    assert "finalized at 4.3-IV0 (30)" in errors[0]
    assert "lowering it to 4.2-IV1 (29) is refused" in errors[0]


def test_a_broker_that_does_not_support_the_level_is_named():
    errors = ft.finalize_errors(30, 29, {1: (7, 30), 3: (7, 29), 2: (7, 27)})
    assert len(errors) == 1
    assert "broker(s) 2 (up to 4.1-IV1), 3 (up to 4.2-IV1) do not support metadata.version 4.3-IV0 (30)" in errors[0]
    assert "1 (up to" not in errors[0]


def test_both_refusals_at_once():
    errors = ft.finalize_errors(28, 29, {1: (7, 27)})
    assert len(errors) == 2
    assert "finalized at 4.2-IV1 (29)" in errors[0] and "4.2-IV0 (28)" in errors[0]
    assert "broker(s) 1 (up to 4.1-IV1) do not support metadata.version 4.2-IV0 (28)" in errors[1]


def test_an_unknown_level_is_named_by_number():
    errors = ft.finalize_errors(31, 30, {1: (7, 30)})
    assert errors == ["broker(s) 1 (up to 4.3-IV0) do not support metadata.version level 31 (31) yet: they run an "
                      "older Kafka; roll every process onto the new release first"]


# -- downgrade_errors ----------------------------------------------------------------------------
def test_no_finalized_level_no_downgrade():
    assert ft.downgrade_errors("3.7.0", None) == []


@pytest.mark.parametrize("target, finalized", [("4.3.1", 30), ("4.3.0", 29), ("4.2.0", 29), ("3.9.0", 21), ("4.0", 20)])
def test_a_release_that_supports_the_level_is_fine(target, finalized):
    assert ft.downgrade_errors(target, finalized) == []


def test_an_unknown_newer_release_is_fine():
    assert ft.downgrade_errors("4.4.0", 30) == []
    assert ft.downgrade_errors("5.0.0", 31) == []


def test_an_older_release_than_the_finalized_level_is_refused():
    errors = ft.downgrade_errors("4.2.0", 30)
    assert len(errors) == 1
    assert "Kafka 4.2.0 supports metadata.version up to 4.2-IV1 (29)" in errors[0]
    assert "finalized at 4.3-IV0 (30)" in errors[0]
    assert "from a newer release to 4.2.0" in errors[0]
    assert "a release that supports 4.3-IV0" in errors[0]


def test_the_running_releases_are_named_once_each():
    errors = ft.downgrade_errors("3.9.1", 25, running=["4.0.0", "4.0.1", "4.0.0"])
    assert len(errors) == 1
    assert "Kafka 3.9.1 supports metadata.version up to 3.9-IV0 (21)" in errors[0]
    assert "finalized at 4.0-IV3 (25)" in errors[0]
    assert "cannot go back from 4.0.0, 4.0.1 to 3.9.1" in errors[0]


def test_a_bad_target_is_refused():
    with pytest.raises(FeatureError, match="'latest'"):
        ft.downgrade_errors("latest", 30)


def test_a_release_older_than_the_table_is_refused_too():
    assert ft.downgrade_errors("3.6.2", 21) != []
    assert "up to 3.6-IV2 (14)" in ft.downgrade_errors("3.6.2", 21)[0]
    # before KRaft's first level no release can run a KRaft cluster at all
    assert "up to level 0 (0)" in ft.downgrade_errors("2.8.0", 7)[0]


@pytest.mark.parametrize("version,level", [("3.3.2", 7), ("3.4.1", 8), ("3.5.2", 11), ("3.6.2", 14), ("2.8.2", 0), ("3.2.3", 0)])
def test_release_level_of_releases_older_than_the_table(version, level):
    assert ft.release_level(version) == level


def test_brokers_behind_are_named_in_id_order():
    errors = ft.finalize_errors(30, 29, {10: (1, 29), 2: (1, 29), 3: (1, 30)})
    assert "broker(s) 2 (up to 4.2-IV1), 10 (up to 4.2-IV1) do not support" in errors[0]
