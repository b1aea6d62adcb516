# Copyright: kafkaops.platform contributors
# Apache-2.0 (see LICENSE)
"""Tests of the kafka_storage module's main(): real directories, a fake kafka-storage command."""

from __future__ import annotations

import os
from types import SimpleNamespace

import pytest
from ansible.module_utils import basic

from ansible_collections.kafkaops.platform.plugins.module_utils.properties import parse_java_properties
from ansible_collections.kafkaops.platform.plugins.modules import kafka_storage
from ansible_collections.kafkaops.platform.tests.unit.plugins.modules.utils import ExitJson, FailJson, module_args

CLUSTER_ID = "AQIDBAUGBwgJCgsMDQ4PEA"
OTHER_ID = "BQYHCAkKCwwNDg8QERITFA"
KAFKA_HOME = "/opt/kafka/current"
JAVA = "/usr/lib/jvm/java-17/bin/java"
SCRAM = ["SCRAM-SHA-512=[name=broker,password=b-pw]", "SCRAM-SHA-256=[name=admin,password=a-pw]"]


class FakeStorageTool:
    """Stands in for ``java ... kafka.tools.StorageTool format``: records each call and, like the real tool,
    writes meta.properties into every directory named by the configuration it is given."""

    def __init__(self, rc=0, out="Formatting /data with metadata.version 3.9-IV0.", err="", write=True):
        self.rc, self.out, self.err, self.write = rc, out, err, write
        self.calls = []

    def __call__(self, module, args, environ_update=None, **kwargs):
        self.calls.append({"args": list(args), "environ_update": environ_update, "kwargs": kwargs})
        if self.rc == 0 and self.write:
            config_path = args[args.index("--config") + 1]
            with open(config_path, encoding="latin-1") as handle:
                config = parse_java_properties(handle.read())
            directories = config["log.dirs"].split(",") + [config.get("metadata.log.dir")]
            for directory in filter(None, directories):
                path = os.path.join(directory, "meta.properties")
                if not os.path.exists(path):
                    write_meta(directory, args[args.index("--cluster-id") + 1], config["node.id"])
        return self.rc, self.out, self.err


def write_meta(directory, cluster_id, node_id):
    os.makedirs(directory, exist_ok=True)
    with open(os.path.join(directory, "meta.properties"), "w", encoding="latin-1") as handle:
        handle.write("#\n#Mon Jan 01 00:00:00 UTC 2024\nnode.id=%s\ndirectory.id=ZAu0nyxhSyKdBWyNMNwMoA\n"
                     "version=1\ncluster.id=%s\n" % (node_id, cluster_id))


@pytest.fixture
def fake(monkeypatch):
    """The fake command, chown recorder and user database; exit_json/fail_json raise instead of exiting."""
    state = SimpleNamespace(tool=FakeStorageTool(), chowns=[])

    def exit_json(module, **kwargs):
        raise ExitJson(kwargs)

    def fail_json(module, msg, **kwargs):
        kwargs["msg"] = msg
        raise FailJson(kwargs)

    def run_command(module, args, **kwargs):
        return state.tool(module, args, **kwargs)

    users = {"kafka": 1234}
    groups = {"kafka": 2345}

    def getpwnam(name):
        return SimpleNamespace(pw_uid=users[name])

    def getgrnam(name):
        return SimpleNamespace(gr_gid=groups[name])

    monkeypatch.setattr(basic.AnsibleModule, "exit_json", exit_json)
    monkeypatch.setattr(basic.AnsibleModule, "fail_json", fail_json)
    monkeypatch.setattr(basic.AnsibleModule, "run_command", run_command)
    monkeypatch.setattr(kafka_storage.os, "chown", lambda path, uid, gid: state.chowns.append((path, uid, gid)))
    monkeypatch.setattr(kafka_storage.pwd, "getpwnam", getpwnam)
    monkeypatch.setattr(kafka_storage.grp, "getgrnam", getgrnam)
    return state


def run(args, expect=ExitJson):
    with module_args(args), pytest.raises(expect) as caught:
        kafka_storage.main()
    return caught.value.args[0]


@pytest.fixture
def layout(tmp_path):
    """Two data directories and a server.properties naming them."""
    dirs = [str(tmp_path / "data1"), str(tmp_path / "data2")]
    config = tmp_path / "server.properties"

    def write_config(node_id="4", metadata_log_dir=None):
        lines = ["# Managed by kafkaops.platform", "node.id=%s" % node_id, "log.dirs=%s" % ",".join(dirs),
                 "process.roles=broker"]
        if metadata_log_dir:
            lines.append("metadata.log.dir=%s" % metadata_log_dir)
        config.write_text("\n".join(lines) + "\n")

    write_config()
    for directory in dirs:
        os.makedirs(directory)
    return SimpleNamespace(tmp=tmp_path, dirs=dirs, config=str(config), write_config=write_config)


def args_for(layout, **changes):
    args = {"cluster_id": CLUSTER_ID, "config": layout.config, "kafka_home": KAFKA_HOME, "log_dirs": layout.dirs,
            "java": JAVA}
    args.update(changes)
    return args


def expected_command(layout, *extra):
    return [JAVA, "-cp", KAFKA_HOME + "/libs/*", "kafka.tools.StorageTool", "format", "--cluster-id", CLUSTER_ID,
            "--config", layout.config, "--ignore-formatted"] + list(extra)


def meta(directory):
    with open(os.path.join(directory, "meta.properties"), encoding="latin-1") as handle:
        return parse_java_properties(handle.read())


# --------------------------------------------------------------------------------------------------
# Tests
# --------------------------------------------------------------------------------------------------

def test_already_formatted_is_unchanged(fake, layout):
    for directory in layout.dirs:
        write_meta(directory, CLUSTER_ID, "4")
    result = run(args_for(layout, owner="kafka", group="kafka"))
    assert result["changed"] is False
    assert result["formatted"] == []
    assert result["cluster_id"] == CLUSTER_ID
    assert result["directories"] == {d: {"cluster_id": CLUSTER_ID, "node_id": "4"} for d in layout.dirs}
    assert fake.tool.calls == []
    assert fake.chowns == []


def test_check_mode_reports_the_change_and_runs_nothing(fake, layout):
    result = run(args_for(layout, _ansible_check_mode=True))
    assert result["changed"] is True
    assert result["formatted"] == layout.dirs
    assert result["directories"] == {d: None for d in layout.dirs}
    assert fake.tool.calls == []
    assert not any(os.path.exists(os.path.join(d, "meta.properties")) for d in layout.dirs)


def test_check_mode_on_formatted_directories_is_unchanged(fake, layout):
    for directory in layout.dirs:
        write_meta(directory, CLUSTER_ID, "4")
    assert run(args_for(layout, _ansible_check_mode=True))["changed"] is False


def test_formats_and_chowns(fake, layout):
    result = run(args_for(layout, owner="kafka", group="kafka", scram_credentials=SCRAM))
    assert len(fake.tool.calls) == 1
    call = fake.tool.calls[0]
    assert call["args"] == expected_command(layout, "--add-scram", SCRAM[0], "--add-scram", SCRAM[1])
    assert call["environ_update"] == {"KAFKA_HEAP_OPTS": "-Xmx256m"}
    assert result["changed"] is True
    assert result["formatted"] == layout.dirs
    assert result["directories"] == {d: None for d in layout.dirs}
    assert result["stdout"] == fake.tool.out
    for directory in layout.dirs:
        assert meta(directory)["cluster.id"] == CLUSTER_ID
        assert (directory, 1234, 2345) in fake.chowns
        assert (os.path.join(directory, "meta.properties"), 1234, 2345) in fake.chowns
    assert len(fake.chowns) == 4


def test_release_version_and_no_credentials(fake, layout):
    run(args_for(layout, release_version="3.9-IV0"))
    assert fake.tool.calls[0]["args"] == expected_command(layout, "--release-version", "3.9-IV0")


def test_no_owner_no_chown_and_owner_only(fake, layout):
    run(args_for(layout))
    assert fake.chowns == []
    other = layout.tmp / "data3"
    other.mkdir()
    (other / "sub").mkdir()
    (other / "sub" / "file").write_text("x")
    layout.dirs.append(str(other))
    layout.write_config()
    assert run(args_for(layout, owner="kafka"))["formatted"] == [str(other)]
    assert sorted(fake.chowns) == sorted([(str(other), 1234, -1), (str(other / "sub"), 1234, -1),
                                          (str(other / "sub" / "file"), 1234, -1),
                                          (str(other / "meta.properties"), 1234, -1)])


def test_group_only(fake, layout):
    run(args_for(layout, group="kafka"))
    assert {(uid, gid) for _path, uid, gid in fake.chowns} == {(-1, 2345)}


def test_unknown_owner_fails_cleanly_before_formatting(fake, layout):
    result = run(args_for(layout, owner="nobody-here"), expect=FailJson)
    assert "nobody-here" in result["msg"]
    assert fake.tool.calls == []


def test_only_unformatted_directories_are_formatted(fake, layout):
    write_meta(layout.dirs[0], CLUSTER_ID, "4")
    result = run(args_for(layout, owner="kafka"))
    assert result["changed"] is True
    assert result["formatted"] == [layout.dirs[1]]
    assert result["directories"][layout.dirs[0]] == {"cluster_id": CLUSTER_ID, "node_id": "4"}
    assert result["directories"][layout.dirs[1]] is None
    chowned = {path for path, _uid, _gid in fake.chowns}
    assert chowned == {layout.dirs[1], os.path.join(layout.dirs[1], "meta.properties")}


def test_directory_of_another_cluster(fake, layout):
    write_meta(layout.dirs[1], OTHER_ID, "4")
    result = run(args_for(layout), expect=FailJson)
    assert OTHER_ID in result["msg"] and CLUSTER_ID in result["msg"]
    assert result["msg"].startswith("%s is formatted for cluster %s, not %s: refusing to format it again"
                                    % (layout.dirs[1], OTHER_ID, CLUSTER_ID))
    assert "Set platform_cluster_id to %s" % OTHER_ID in result["msg"]
    assert result["directories"][layout.dirs[1]] == {"cluster_id": OTHER_ID, "node_id": "4"}
    assert fake.tool.calls == []
    assert not os.path.exists(os.path.join(layout.dirs[0], "meta.properties"))


def test_directory_of_another_cluster_fails_in_check_mode_too(fake, layout):
    write_meta(layout.dirs[0], OTHER_ID, "4")
    assert OTHER_ID in run(args_for(layout, _ansible_check_mode=True), expect=FailJson)["msg"]


def test_node_id_mismatch(fake, layout):
    write_meta(layout.dirs[0], CLUSTER_ID, "7")
    result = run(args_for(layout), expect=FailJson)
    assert result["msg"] == ("%s holds node 7 but the configuration says node.id=4: node ids cannot change; put the "
                             "old id back in the inventory" % layout.dirs[0])
    assert fake.tool.calls == []


@pytest.mark.parametrize("cluster_id", ["", "short", CLUSTER_ID + "A", "-" + CLUSTER_ID[1:], "A" * 22,
                                        CLUSTER_ID[:-1] + "B"])
def test_invalid_cluster_id(fake, layout, cluster_id):
    result = run(args_for(layout, cluster_id=cluster_id), expect=FailJson)
    assert result["msg"] == "cluster_id %r is not a KRaft cluster id (22 characters of URL-safe base64)" % cluster_id
    assert fake.tool.calls == []


def test_missing_config(fake, layout):
    missing = str(layout.tmp / "nowhere" / "server.properties")
    result = run(args_for(layout, config=missing), expect=FailJson)
    assert result["msg"] == "configuration %s does not exist; write it before formatting" % missing
    assert fake.tool.calls == []


def test_command_failure_reports_the_tail_of_stderr(fake, layout):
    fake.tool = FakeStorageTool(rc=1, out="some output", err="x" * 3000 + "\nException: the real reason\n")
    result = run(args_for(layout, owner="kafka"), expect=FailJson)
    assert result["msg"].startswith("kafka-storage format failed (exit 1): ")
    assert result["msg"].endswith("Exception: the real reason")
    assert len(result["msg"]) == len("kafka-storage format failed (exit 1): ") + 2000
    assert result["rc"] == 1
    assert fake.chowns == []


def test_command_failure_without_stderr_reports_stdout(fake, layout):
    fake.tool = FakeStorageTool(rc=127, out="java: not found\n", err="")
    result = run(args_for(layout), expect=FailJson)
    assert result["msg"] == "kafka-storage format failed (exit 127): java: not found"


def test_command_that_leaves_no_meta_properties(fake, layout):
    fake.tool = FakeStorageTool(write=False)
    result = run(args_for(layout, owner="kafka"), expect=FailJson)
    assert result["msg"] == "kafka-storage format finished but left no meta.properties in " + ", ".join(layout.dirs)
    assert fake.chowns == []


def test_metadata_log_dir_from_the_config(fake, layout):
    metadata = str(layout.tmp / "metadata")
    layout.write_config(metadata_log_dir=metadata)
    result = run(args_for(layout, _ansible_check_mode=True))
    assert result["formatted"] == layout.dirs + [metadata]
    result = run(args_for(layout, owner="kafka"))
    assert result["formatted"] == layout.dirs + [metadata]
    assert meta(metadata)["cluster.id"] == CLUSTER_ID
    assert (metadata, 1234, -1) in fake.chowns
    # and it is checked like the others once formatted
    write_meta(metadata, OTHER_ID, "4")
    assert run(args_for(layout), expect=FailJson)["msg"].startswith(metadata + " is formatted for cluster " + OTHER_ID)


def test_metadata_log_dir_that_is_a_log_dir_is_checked_once(fake, layout):
    layout.write_config(metadata_log_dir=layout.dirs[0])
    result = run(args_for(layout, _ansible_check_mode=True))
    assert result["formatted"] == layout.dirs


def test_config_without_node_id_skips_the_node_check(fake, layout):
    with open(layout.config, "w") as handle:
        handle.write("log.dirs=%s\n" % ",".join(layout.dirs))
    for directory in layout.dirs:
        write_meta(directory, CLUSTER_ID, "9")
    assert run(args_for(layout))["changed"] is False
