# Copyright: kafkaops.platform contributors
# Apache-2.0 (see LICENSE)
"""Tests of the kafka_storage module's main(): real directories, a fake kafka-storage command that reads its
arguments from the @file the module hands to java, as the java launcher does; and of the argument file itself."""

from __future__ import annotations

import json
import os
import shutil
import stat
import subprocess
from types import SimpleNamespace

import pytest
from ansible.module_utils import basic
from hypothesis import given
from hypothesis import strategies as st

from ansible_collections.kafkaops.platform.plugins.module_utils.properties import parse_java_properties
from ansible_collections.kafkaops.platform.plugins.modules import kafka_storage
from ansible_collections.kafkaops.platform.tests.unit.plugins.modules.utils import ExitJson, FailJson, module_args

CLUSTER_ID = "AQIDBAUGBwgJCgsMDQ4PEA"
OTHER_ID = "BQYHCAkKCwwNDg8QERITFA"
KAFKA_HOME = "/opt/kafka/current"
JAVA = "/usr/lib/jvm/java-17/bin/java"
SCRAM = ["SCRAM-SHA-512=[name=broker,password=b-pw]", "SCRAM-SHA-256=[name=admin,password=a-pw]"]


def parse_argfile(text):
    """The arguments the java launcher (JDK 9 and later) reads from an ``@file``: a port of the tokenizer of
    its libjli/args.c. Outside quotes, space, tab, form feed and line breaks separate arguments, ``#`` starts a
    comment to the end of the line, a backslash is an ordinary character; ``'`` or ``"`` opens a quoted part,
    inside which only the same quote closes it, a raw line break ends the argument, and a backslash escapes
    (``\\n \\r \\t \\f``, any other character as itself, a line break joins the next line without its
    leading blanks)."""
    tokens, parts = [], []
    state, quote, anchor, index = "find_next", None, 0, 0
    while index < len(text):
        char = text[index]
        if state in ("find_next", "skip_lead_ws"):
            if char in " \n\r\t\f":
                index += 1
                continue
            state, anchor = ("in_token" if state == "find_next" else "in_quote"), index
        elif state == "in_escape":
            if char in "\n\r":
                state = "skip_lead_ws"
            else:
                parts.append({"n": "\n", "r": "\r", "t": "\t", "f": "\f"}.get(char, char))
                state = "in_quote"
            anchor = index = index + 1
            continue
        elif state == "in_comment":
            if char in "\n\r":
                state, anchor = "find_next", index + 1
            index += 1
            continue
        if char in " \t\f" and state == "in_quote":
            pass
        elif char in " \t\f\n\r":
            tokens.append("".join(parts) + text[anchor:index])
            parts, state = [], "find_next"
        elif char == "#" and state != "in_quote":
            state, anchor = "in_comment", index + 1
        elif char == "\\" and state == "in_quote":
            parts.append(text[anchor:index])
            state, anchor = "in_escape", index + 1
        elif char in "'\"" and not (state == "in_quote" and char != quote):
            if anchor != index:
                parts.append(text[anchor:index])
            anchor = index + 1
            if state == "in_token":
                state, quote = "in_quote", char
            else:
                state = "in_token"
        index += 1
    if state in ("in_token", "in_quote"):  # the file ends inside an argument
        if anchor < len(text):
            parts.append(text[anchor:])
        if parts:
            tokens.append("".join(parts))
    return tokens


class FakeStorageTool:
    """Stands in for ``java -cp libs/* @file``: records each call with the arguments read from the file (and the
    file's and its directory's modes and owners), and, like the real tool, writes meta.properties into every
    directory named by the configuration it is given."""

    def __init__(self, rc=0, out="Formatting /data with metadata.version 3.9-IV0.", err="", write=True):
        self.rc, self.out, self.err, self.write = rc, out, err, write
        self.calls = []

    def __call__(self, module, args, environ_update=None, **kwargs):
        call = {"args": list(args), "environ_update": environ_update, "kwargs": kwargs, "arguments": None}
        if args[-1].startswith("@"):
            path = args[-1][1:]
            with open(path, "rb") as handle:
                call["arguments"] = parse_argfile(handle.read().decode("utf-8"))
            call["file"] = {"path": path, "mode": stat.S_IMODE(os.stat(path).st_mode), "uid": os.stat(path).st_uid,
                            "dir_mode": stat.S_IMODE(os.stat(os.path.dirname(path)).st_mode),
                            "dir_entries": os.listdir(os.path.dirname(path))}
        self.calls.append(call)
        arguments = call["arguments"] or []
        if self.rc == 0 and self.write:
            config_path = arguments[arguments.index("--config") + 1]
            with open(config_path, encoding="latin-1") as handle:
                config = parse_java_properties(handle.read())
            directories = config["log.dirs"].split(",") + [config.get("metadata.log.dir")]
            for directory in filter(None, directories):
                path = os.path.join(directory, "meta.properties")
                if not os.path.exists(path):
                    cluster_id = next(a for a in arguments if a.startswith("--cluster-id="))[len("--cluster-id="):]
                    write_meta(directory, cluster_id, config["node.id"])
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


LAUNCHER = [JAVA, "-cp", KAFKA_HOME + "/libs/*"]


def expected_arguments(layout, *extra, main_class="kafka.tools.StorageTool"):
    """What the argument file must hold: the main class and the tool's arguments."""
    return [main_class, "format", "--cluster-id=" + CLUSTER_ID, "--config", layout.config, "--ignore-formatted"] + list(extra)


def assert_private_argfile(call):
    """The command names only the file; the file was 0600 in a 0700 directory of ours, and is gone."""
    assert call["args"] == LAUNCHER + ["@" + call["file"]["path"]]
    assert call["file"]["mode"] == 0o600 and call["file"]["dir_mode"] == 0o700
    assert call["file"]["uid"] == os.getuid() and call["file"]["dir_entries"] == ["arguments"]
    assert not os.path.exists(os.path.dirname(call["file"]["path"]))


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
    assert call["arguments"] == expected_arguments(layout, "--add-scram", SCRAM[0], "--add-scram", SCRAM[1])
    assert_private_argfile(call)
    assert not any(secret in arg for arg in call["args"] for secret in ("b-pw", "a-pw", "broker", "admin", "SCRAM"))
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
    assert fake.tool.calls[0]["arguments"] == expected_arguments(layout, "--release-version", "3.9-IV0")
    assert_private_argfile(fake.tool.calls[0])


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


def test_a_zookeeper_cluster_id_that_starts_with_a_dash_is_kept_and_not_read_as_an_option(fake, layout):
    """Kafka 3.9 in ZooKeeper mode draws its id without avoiding '-'; the migration formats the
    controllers with it, as --cluster-id=ID (the tool's parser took "-nFS..." after a space for an option)."""
    dash_id = "-nFStkgTQsae9id7XulL5Q"
    result = run(dict(args_for(layout), cluster_id=dash_id))
    assert result["changed"] is True
    assert "--cluster-id=" + dash_id in fake.tool.calls[0]["arguments"]
    for directory in layout.dirs:
        assert meta(directory)["cluster.id"] == dash_id


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


@pytest.mark.parametrize("cluster_id", ["", "short", CLUSTER_ID + "A", "A" * 22,
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


# --------------------------------------------------------------------------------------------------
# The argument file: no secret on a command line
# --------------------------------------------------------------------------------------------------

TRICKY = ["with space", 'dou"ble', "sin'gle", "back\\slash", "trailing\\", "#hash", "@at", "$HOME", "${PATH}",
          "~user", "tab\there", "line\nbreak", "cr\rlf", "form\ffeed", "unicodé €😀", "a=b", "[]", "]", "x]y[",
          '""', '"quoted"', "", " lead", "trail ", "-cp", "@@double"]


@pytest.mark.parametrize("password", TRICKY)
def test_tricky_passwords_reach_the_tool_and_no_command_line(fake, layout, password):
    credential = "SCRAM-SHA-256=[name=app,password=%s]" % password
    run(args_for(layout, scram_credentials=[credential]))
    call = fake.tool.calls[0]
    assert call["arguments"] == expected_arguments(layout, "--add-scram", credential)
    assert_private_argfile(call)
    assert not any("SCRAM" in arg or "name=app" in arg for arg in call["args"])


@given(st.lists(st.text(st.characters(blacklist_characters="\0", blacklist_categories=("Cs",)))))
def test_argfile_round_trips(arguments):
    assert parse_argfile(kafka_storage.render_argfile(arguments)) == arguments


def test_argfile_layout():
    assert kafka_storage.render_argfile(["kafka.tools.StorageTool", 'p"w\\#\n']) == '"kafka.tools.StorageTool"\n"p\\"w\\\\#\\n"\n'


def test_argfile_refuses_nul():
    with pytest.raises(ValueError, match="NUL"):
        kafka_storage.render_argfile(["a\0b"])


@pytest.mark.parametrize("text, arguments", [
    ('-cp lib/* Main # a comment\n"a b" c\\d', ["-cp", "lib/*", "Main", "a b", "c\\d"]),
    ("'it''s' \"x\\ty\" \"join \\\n   ed\"", ["its", "x\ty", "join ed"]),
    ('"unterminated\nnext', ["unterminated", "next"]),
    ("ab#cd\nef", ["ef"]),
    ('"" x', ["", "x"]),
])
def test_parse_argfile_follows_the_launcher(text, arguments):
    # each case checked against java 17 and 25 on this project's test host
    assert parse_argfile(text) == arguments


@pytest.mark.skipif(not (shutil.which("javac") and shutil.which("java")), reason="needs a JDK")
def test_the_real_java_launcher_reads_the_argfile(tmp_path):
    (tmp_path / "Echo.java").write_text(
        "public class Echo { public static void main(String[] a) { StringBuilder b = new StringBuilder(\"[\");"
        " for (int i = 0; i < a.length; i++) { if (i > 0) b.append(','); b.append('\"');"
        " for (char c : a[i].toCharArray()) b.append(String.format(\"\\\\u%04x\", (int) c)); b.append('\"'); }"
        " System.out.println(b.append(']')); } }")
    subprocess.run(["javac", "-d", str(tmp_path), str(tmp_path / "Echo.java")], check=True)
    arguments = ["Echo"] + TRICKY
    (tmp_path / "args").write_bytes(kafka_storage.render_argfile(arguments).encode("utf-8"))
    env = dict(os.environ, LC_ALL="C.UTF-8")
    env.pop("LD_LIBRARY_PATH", None)
    out = subprocess.run(["java", "-cp", str(tmp_path), "@%s" % (tmp_path / "args")], check=True, env=env,
                         capture_output=True, text=True).stdout
    assert json.loads(out) == TRICKY


# --------------------------------------------------------------------------------------------------
# SCRAM arguments as Kafka's ScramParser reads them
# --------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("argument", [
    "SCRAM-SHA-512=[name=admin,password=secret]",
    "SCRAM-SHA-256=[password=p w,name=a]",
    "SCRAM-SHA-256=[name=a,password=x=y]]",
    "SCRAM-SHA-256=[name=a,password=]",
    "SCRAM-SHA-256=[name=a,salt=c2FsdA==,saltedpassword=c2FsdA==,iterations=8192]",
    " SCRAM-SHA-256=[name=a,password=p] ",
])
def test_scram_arguments_kafka_reads(argument):
    assert kafka_storage.scram_argument_problem(argument) is None


COMMA = ("has a part 2 in brackets that is not name=..., password=..., salt=..., iterations=..., saltedpassword=...: "
         "Kafka splits the brackets on every comma, with no escape, so a SCRAM name or password cannot contain a comma")


@pytest.mark.parametrize("argument, problem", [
    ("SCRAM-SHA-256=[name=a,password=x,y]", COMMA.replace("part 2", "part 3")),
    ("SCRAM-SHA-256=[name=a,password=x,]", COMMA.replace("part 2", "part 3")),
    ("SCRAM-SHA-256=[name=a, password=x]", COMMA),
    ("SCRAM-SHA-256=[name=a,password=x,password=y]", "gives password= twice (a comma in a name or password?)"),
    ("SCRAM-SHA-1=[name=a,password=x]", "does not start with SCRAM-SHA-256= or SCRAM-SHA-512="),
    ("admin:secret", "does not start with SCRAM-SHA-256= or SCRAM-SHA-512="),
    ("SCRAM-SHA-256=name=a,password=x", "has no [...] after SCRAM-SHA-256="),
    ("SCRAM-SHA-256=[password=x]", "has no name="),
    ("SCRAM-SHA-256=[name=a]", "has no password="),
    ("SCRAM-SHA-256=[name=a,password=x\0]", "holds a NUL character, which no program argument can hold"),
])
def test_scram_arguments_kafka_refuses_or_misreads(argument, problem):
    assert kafka_storage.scram_argument_problem(argument) == problem


def test_bad_credential_fails_before_anything_runs_naming_its_index_not_its_text(fake, layout):
    credentials = [SCRAM[0], "SCRAM-SHA-256=[name=admin,password=s3cr,et]"]
    for check in (False, True):
        result = run(args_for(layout, scram_credentials=credentials, _ansible_check_mode=check), expect=FailJson)
        assert result["msg"] == "scram_credentials[1] " + COMMA.replace("part 2", "part 3")
        assert "s3cr" not in result["msg"]
    assert fake.tool.calls == []


def test_bad_credential_does_not_matter_once_formatted(fake, layout):
    for directory in layout.dirs:
        write_meta(directory, CLUSTER_ID, "4")
    assert run(args_for(layout, scram_credentials=["nonsense"]))["changed"] is False


# --------------------------------------------------------------------------------------------------
# The main class, the environment, old Java
# --------------------------------------------------------------------------------------------------

KAFKA_STORAGE_SH = """#!/bin/bash
# Licensed to the Apache Software Foundation (ASF) ...
# exec $(dirname $0)/kafka-run-class.sh commented.Out "$@"

exec $(dirname $0)/kafka-run-class.sh %s "$@"
"""


@pytest.mark.parametrize("script, main_class", [
    (KAFKA_STORAGE_SH % "kafka.tools.StorageTool", "kafka.tools.StorageTool"),
    (KAFKA_STORAGE_SH % "org.apache.kafka.tools.StorageTool", "org.apache.kafka.tools.StorageTool"),
    ('exec "$base_dir/kafka-run-class.sh" $EXTRA_ARGS org.example.Storage_Tool$Main "$@"\n', None),
    ('exec "$base_dir/kafka-run-class.sh" org.example.Storage_Tool$Main "$@"\n', "org.example.Storage_Tool$Main"),
])
def test_main_class_from_bin_kafka_storage(fake, layout, script, main_class):
    home = layout.tmp / "kafka"
    (home / "bin").mkdir(parents=True)
    (home / "bin" / "kafka-storage.sh").write_text(script)
    if main_class is None:
        result = run(args_for(layout, kafka_home=str(home)), expect=FailJson)
        assert result["msg"] == ("cannot find the storage tool's main class in %s/bin/kafka-storage.sh: no line runs "
                                 "kafka-run-class.sh <class>; point kafka_home at a Kafka distribution" % home)
        assert run(args_for(layout, kafka_home=str(home), _ansible_check_mode=True), expect=FailJson)["msg"] == result["msg"]
        assert fake.tool.calls == []
        return
    run(args_for(layout, kafka_home=str(home)))
    assert fake.tool.calls[0]["arguments"] == expected_arguments(layout, main_class=main_class)
    assert fake.tool.calls[0]["args"][:3] == [JAVA, "-cp", str(home / "libs" / "*")]


def test_unreadable_bin_kafka_storage(fake, layout):
    home = layout.tmp / "kafka"
    (home / "bin" / "kafka-storage.sh").mkdir(parents=True)  # a directory: open() fails
    result = run(args_for(layout, kafka_home=str(home)), expect=FailJson)
    assert result["msg"].startswith("cannot read %s/bin/kafka-storage.sh: " % home)


def test_ld_library_path_is_emptied_for_the_launcher(fake, layout, monkeypatch):
    # a LD_LIBRARY_PATH naming another JVM makes the launcher exec itself with the file's arguments
    monkeypatch.setenv("LD_LIBRARY_PATH", "/usr/lib/jvm/other/lib/server")
    run(args_for(layout))
    assert fake.tool.calls[0]["environ_update"] == {"KAFKA_HEAP_OPTS": "-Xmx256m", "LD_LIBRARY_PATH": ""}


UNICODE = "SCRAM-SHA-256=[name=app,password=pässwörd]"


@pytest.mark.parametrize("codeset, best, environ_update", [
    ("UTF-8", None, {}),
    ("utf8", None, {}),
    ("ANSI_X3.4-1968", "C.utf8", {"LC_ALL": "C.utf8"}),
    ("ANSI_X3.4-1968", "C", None),
])
def test_non_ascii_arguments_get_a_utf8_locale(fake, layout, monkeypatch, codeset, best, environ_update):
    asked = []
    monkeypatch.setattr(kafka_storage.locale, "nl_langinfo", lambda item: codeset)
    monkeypatch.setattr(kafka_storage, "get_best_parsable_locale",
                        lambda module, preferences: asked.append(preferences) or best)
    if environ_update is None:
        result = run(args_for(layout, scram_credentials=[UNICODE]), expect=FailJson)
        assert result["msg"] == (
            "the arguments of the storage tool (a SCRAM name or password, or a path) hold characters beyond ASCII, "
            "but the locale is ANSI_X3.4-1968 and the host has no UTF-8 locale (C.UTF-8, C.utf8, en_US.UTF-8, "
            "en_US.utf8): Java would read each such character as U+FFFD; install one, e.g. C.UTF-8")
        assert fake.tool.calls == []
        return
    run(args_for(layout, scram_credentials=[UNICODE]))
    assert fake.tool.calls[0]["environ_update"] == dict({"KAFKA_HEAP_OPTS": "-Xmx256m"}, **environ_update)
    assert fake.tool.calls[0]["arguments"][-1] == UNICODE
    assert asked == ([] if best is None else [["C.UTF-8", "C.utf8", "en_US.UTF-8", "en_US.utf8"]])


def test_ascii_arguments_leave_the_locale_alone(fake, layout, monkeypatch):
    monkeypatch.setattr(kafka_storage.locale, "nl_langinfo", lambda item: "ANSI_X3.4-1968")
    run(args_for(layout, scram_credentials=SCRAM))
    assert fake.tool.calls[0]["environ_update"] == {"KAFKA_HEAP_OPTS": "-Xmx256m"}


def test_java_without_argument_files(fake, layout):
    fake.tool = FakeStorageTool(rc=1, out="", err="Error: Could not find or load main class @/tmp/kafka-storage-x/arguments\n")
    result = run(args_for(layout), expect=FailJson)
    assert result["msg"] == ("kafka-storage format failed (exit 1): Error: Could not find or load main class "
                             "@/tmp/kafka-storage-x/arguments\n%s does not read @argument files: run the storage tool "
                             "with Java 9 or later (java option)" % JAVA)


def test_argfile_is_removed_when_the_command_fails(fake, layout):
    fake.tool = FakeStorageTool(rc=1, err="boom")
    run(args_for(layout, scram_credentials=SCRAM), expect=FailJson)
    assert not os.path.exists(os.path.dirname(fake.tool.calls[0]["file"]["path"]))


def test_argfile_is_removed_when_running_raises(fake, layout, monkeypatch):
    seen = []

    def explode(module, args, **kwargs):
        seen.append(args[-1][1:])
        raise RuntimeError("interrupted")

    monkeypatch.setattr(basic.AnsibleModule, "run_command", explode)
    with module_args(args_for(layout, scram_credentials=SCRAM)), pytest.raises(RuntimeError):
        kafka_storage.main()
    assert seen and not os.path.exists(os.path.dirname(seen[0]))


KAFKA_4_OUTPUT = (
    "Bootstrap metadata: BootstrapMetadata(records=[ApiMessageAndVersion(FeatureLevelRecord(name='metadata.version', "
    "featureLevel=30) at version 0), ApiMessageAndVersion(UserScramCredentialRecord(name='alice', mechanism=1, "
    "salt=[49, 48, 100], storedKey=[46, -98, 82, 0], serverKey=[-32, 90], iterations=4096) at version 0)], "
    "metadataVersionLevel=30, source=format command)\nFormatting metadata directory /data with metadata.version 4.3-IV0.\n")


def test_scram_salts_and_keys_are_masked_in_the_output(fake, layout):
    fake.tool = FakeStorageTool(out=KAFKA_4_OUTPUT)
    result = run(args_for(layout, scram_credentials=SCRAM))
    assert result["stdout"] == KAFKA_4_OUTPUT.replace("salt=[49, 48, 100]", "salt=[redacted]").replace(
        "storedKey=[46, -98, 82, 0]", "storedKey=[redacted]").replace("serverKey=[-32, 90]", "serverKey=[redacted]")
    fake.tool = FakeStorageTool(rc=1, out=KAFKA_4_OUTPUT, err="")
    layout.dirs.append(str(layout.tmp / "data3"))
    layout.write_config()
    message = run(args_for(layout), expect=FailJson)["msg"]
    assert "salt=[redacted], storedKey=[redacted], serverKey=[redacted]" in message and "46, -98" not in message
