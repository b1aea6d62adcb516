# Copyright: kafkaops.platform contributors
# Apache-2.0 (see LICENSE)
"""Tests of plugins/module_utils/process_state.py: reading ``systemctl show``, turning the main
process's monotonic start into wall-clock time, and finding the files modified after it (on a
temporary directory, with modification times set by hand)."""

from __future__ import annotations

import os

import pytest

from ansible_collections.kafkaops.platform.plugins.module_utils import process_state as ps

SHOW = """ActiveState=active
SubState=running
MainPID=4242
ExecMainStartTimestampMonotonic=12500000
"""


# -- parse_show ---------------------------------------------------------------------------------------
def test_parse_show_reads_key_value_lines():
    assert ps.parse_show(SHOW) == {"ActiveState": "active", "SubState": "running", "MainPID": "4242",
                                   "ExecMainStartTimestampMonotonic": "12500000"}


def test_parse_show_keeps_equal_signs_in_values_and_strips_blanks():
    parsed = ps.parse_show(" Environment = A=1 B=2 \nExecStart={ path=/opt/kafka/bin/kafka-server-start.sh ; argv[]=x }\n")
    assert parsed == {"Environment": "A=1 B=2", "ExecStart": "{ path=/opt/kafka/bin/kafka-server-start.sh ; argv[]=x }"}


def test_parse_show_skips_lines_without_a_key_value_pair_and_keeps_empty_values():
    assert ps.parse_show("\nnot a property\nMainPID=\r\n\nSubState=dead") == {"MainPID": "", "SubState": "dead"}
    assert ps.parse_show("") == {}


def test_parse_show_the_last_of_a_repeated_key_wins():
    assert ps.parse_show("MainPID=1\nMainPID=2\n") == {"MainPID": "2"}


# -- started_at ---------------------------------------------------------------------------------------
def test_started_at_turns_the_monotonic_start_into_wall_clock_time():
    # started 12.5 s after boot; now is 1000 s after boot and 1_700_000_000 s since the epoch
    assert ps.started_at(ps.parse_show(SHOW), 1_700_000_000.0, 1000.0) == pytest.approx(1_700_000_000.0 - 987.5)


def test_started_at_keeps_microseconds():
    show = dict(ps.parse_show(SHOW), ExecMainStartTimestampMonotonic="123456789")
    assert ps.started_at(show, 5000.0, 200.0) == pytest.approx(5000.0 - (200.0 - 123.456789), abs=1e-9)


@pytest.mark.parametrize("state", ["active", "reloading", "activating"])
def test_started_at_counts_running_states(state):
    assert ps.started_at(dict(ps.parse_show(SHOW), ActiveState=state), 100.0, 20.0) == pytest.approx(92.5)


@pytest.mark.parametrize("state", ["inactive", "failed", "deactivating", "", None])
def test_started_at_of_a_service_that_does_not_run_is_none(state):
    show = dict(ps.parse_show(SHOW), ActiveState=state)
    assert ps.started_at(show, 100.0, 20.0) is None


def test_started_at_without_an_active_state_is_none():
    show = ps.parse_show(SHOW)
    del show["ActiveState"]
    assert ps.started_at(show, 100.0, 20.0) is None


@pytest.mark.parametrize("changes", [
    {"MainPID": "0"},
    {"MainPID": ""},
    {"MainPID": "-1"},
    {"ExecMainStartTimestampMonotonic": "0"},
    {"ExecMainStartTimestampMonotonic": ""},
    {"ExecMainStartTimestampMonotonic": "-5"},
])
def test_started_at_without_a_main_process_is_none(changes):
    assert ps.started_at(dict(ps.parse_show(SHOW), **changes), 100.0, 20.0) is None


@pytest.mark.parametrize("changes", [
    {"MainPID": "n/a"},
    {"MainPID": "12.5"},
    {"ExecMainStartTimestampMonotonic": "Thu 2026-12-03 10:00:00 UTC"},
    {"ExecMainStartTimestampMonotonic": "[not set]"},
])
def test_started_at_with_numbers_it_cannot_read_is_none(changes):
    assert ps.started_at(dict(ps.parse_show(SHOW), **changes), 100.0, 20.0) is None


def test_started_at_with_missing_properties_is_none():
    assert ps.started_at({"ActiveState": "active"}, 100.0, 20.0) is None
    assert ps.started_at({"ActiveState": "active", "MainPID": "7"}, 100.0, 20.0) is None
    assert ps.started_at({}, 100.0, 20.0) is None


# -- files_of -----------------------------------------------------------------------------------------
@pytest.fixture
def tree(tmp_path):
    """A configuration directory with two files and a subdirectory, a lone file, and links."""
    conf = tmp_path / "etc" / "kafka-broker"
    (conf / "sub").mkdir(parents=True)
    (conf / "server.properties").write_text("node.id=1\n")
    (conf / "log4j.properties").write_text("\n")
    (conf / "sub" / "deep.properties").write_text("\n")
    unit = tmp_path / "kafka-broker.service"
    unit.write_text("[Service]\n")
    (tmp_path / "kafka_2.13-4.3.1").mkdir()
    (tmp_path / "kafka_2.13-4.3.1" / "bin").mkdir()
    os.symlink(str(tmp_path / "kafka_2.13-4.3.1"), str(tmp_path / "current"))
    os.symlink(str(tmp_path / "gone"), str(tmp_path / "dangling"))
    return tmp_path


def test_a_directory_lists_itself_and_its_entries_one_level_deep(tree):
    conf = str(tree / "etc" / "kafka-broker")
    assert ps.files_of([conf]) == [conf, os.path.join(conf, "log4j.properties"), os.path.join(conf, "server.properties"),
                                   os.path.join(conf, "sub")]


def test_a_file_lists_itself(tree):
    assert ps.files_of([str(tree / "kafka-broker.service")]) == [str(tree / "kafka-broker.service")]


def test_a_link_to_a_directory_is_listed_as_itself_not_followed(tree):
    assert ps.files_of([str(tree / "current")]) == [str(tree / "current")]


def test_a_dangling_link_is_listed(tree):
    assert ps.files_of([str(tree / "dangling")]) == [str(tree / "dangling")]


def test_missing_paths_are_ignored_and_the_order_of_paths_is_kept(tree):
    unit, link = str(tree / "kafka-broker.service"), str(tree / "current")
    assert ps.files_of([link, str(tree / "missing"), unit, str(tree / "missing" / "x")]) == [link, unit]
    assert ps.files_of([]) == []


def test_an_empty_directory_lists_only_itself(tree):
    empty = tree / "empty"
    empty.mkdir()
    assert ps.files_of([str(empty)]) == [str(empty)]


# -- newer_than ---------------------------------------------------------------------------------------
def test_newer_than_lists_strictly_newer_paths_sorted_with_how_long_after():
    mtimes = {"/etc/kafka/z.properties": 1010.25, "/etc/kafka/a.properties": 1000.0004, "/etc/kafka/same": 1000.0,
              "/etc/kafka/old": 999.0, "/opt/kafka/current": 1003.0}
    assert ps.newer_than(1000.0, mtimes) == [
        {"path": "/etc/kafka/a.properties", "seconds_after_start": 0.0},  # newer, if by less than a millisecond
        {"path": "/etc/kafka/z.properties", "seconds_after_start": 10.25},
        {"path": "/opt/kafka/current", "seconds_after_start": 3.0},
    ]


def test_newer_than_of_nothing_newer_is_empty():
    assert ps.newer_than(1000.0, {"/a": 1000.0, "/b": 10.0}) == []
    assert ps.newer_than(1000.0, {}) == []


# -- mtimes -------------------------------------------------------------------------------------------
def test_mtimes_of_files_directories_and_links_themselves(tree):
    conf = tree / "etc" / "kafka-broker"
    os.utime(str(conf / "server.properties"), (2000.0, 2000.0))
    os.utime(str(tree / "kafka_2.13-4.3.1"), (3000.0, 3000.0))  # the link's target
    os.utime(str(tree / "current"), (1500.0, 1500.0), follow_symlinks=False)
    found = ps.mtimes([str(conf), str(tree / "current"), str(tree / "dangling"), str(tree / "missing")])
    assert set(found) == set(ps.files_of([str(conf)])) | {str(tree / "current"), str(tree / "dangling")}
    assert found[str(conf / "server.properties")] == 2000.0
    assert found[str(tree / "current")] == 1500.0


def test_mtimes_and_newer_than_find_what_changed_after_the_start(tree):
    conf = tree / "etc" / "kafka-broker"
    for path in ps.files_of([str(conf), str(tree / "current"), str(tree / "kafka-broker.service")]):
        os.utime(path, (1000.0, 1000.0), follow_symlinks=False)
    os.utime(str(conf / "server.properties"), (1100.0, 1100.0))
    os.utime(str(tree / "current"), (1200.0, 1200.0), follow_symlinks=False)
    found = ps.newer_than(1050.0, ps.mtimes([str(conf), str(tree / "current"), str(tree / "kafka-broker.service")]))
    assert found == [{"path": str(tree / "current"), "seconds_after_start": 150.0},
                     {"path": str(conf / "server.properties"), "seconds_after_start": 50.0}]


def test_mtimes_skips_a_file_removed_meanwhile(tree, monkeypatch):
    unit = str(tree / "kafka-broker.service")
    gone = str(tree / "etc" / "kafka-broker" / "removed.properties")
    monkeypatch.setattr(ps, "files_of", lambda paths: [gone, unit])
    found = ps.mtimes(["ignored"])
    assert found == {unit: os.lstat(unit).st_mtime}


def test_mtimes_does_not_hide_other_errors(tree, monkeypatch):
    def refuse(path):
        raise PermissionError(13, "Permission denied", path)

    unit = str(tree / "kafka-broker.service")
    monkeypatch.setattr(ps, "files_of", lambda paths: [unit])
    monkeypatch.setattr(ps.os, "lstat", refuse)
    with pytest.raises(PermissionError):
        ps.mtimes([unit])


def test_mtimes_when_a_file_vanishes_between_listing_and_lstat(tree, monkeypatch):
    conf = tree / "etc" / "kafka-broker"
    real_lstat = os.lstat
    vanished = str(conf / "log4j.properties")

    def lstat(path):
        if path == vanished:
            raise FileNotFoundError(2, "No such file or directory", path)
        return real_lstat(path)

    monkeypatch.setattr(ps.os, "lstat", lstat)
    found = ps.mtimes([str(conf)])
    assert vanished not in found
    assert sorted(found) == [str(conf), str(conf / "server.properties"), str(conf / "sub")]
