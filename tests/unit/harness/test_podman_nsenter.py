"""The test hosts' connection plugin (tests/harness/ansible_plugins/connection/podman_nsenter.py),
with podman and nsenter replaced by recorders: what it runs for modules, commands and files, how it
finds and caches the container's init PID, and when it falls back to podman exec."""
import os
import subprocess
import sys

import pytest
from ansible.errors import AnsibleConnectionFailure
from ansible.playbook.play_context import PlayContext
from ansible.plugins.loader import connection_loader

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
connection_loader.add_directory(os.path.join(ROOT, "tests", "harness", "ansible_plugins", "connection"))


class Podman:
    """Records podman command lines; `inspect` answers with the PID it is given."""

    def __init__(self, pid="4242"):
        self.pid = pid
        self.calls = []

    def __call__(self, cmd, cmd_args=None, in_data=None, use_container_id=True):
        line = ([cmd] if isinstance(cmd, str) else list(cmd)) + (["host-1"] if use_container_id else []) + list(cmd_args or [])
        self.calls.append((line, in_data))
        if line[0] == "inspect":
            return (0, f"{self.pid}\n".encode(), b"") if self.pid else (125, b"", b"Error: no such container host-1")
        return 0, b"from podman", b""


class Runner:
    """Stands for subprocess.run: records the command lines, plays `cat` for file transfers."""

    def __init__(self):
        self.calls = []
        self.files = {}

    def __call__(self, argv, stdin=None, stdout=None, stderr=None, input=None, check=False,  # noqa: A002 (subprocess's name)
                 capture_output=False):
        argv = [a.decode() for a in argv]
        stdout = subprocess.PIPE if capture_output else stdout
        self.calls.append({"argv": argv, "input": input, "stdin": stdin})
        script = argv[-1]
        if script.startswith("cat > "):
            self.files[script[6:]] = stdin.read()
        elif script.startswith("cat "):
            stdout.write(self.files[script[4:]])
        return subprocess.CompletedProcess(argv, 0, b"from nsenter" if stdout == subprocess.PIPE else None, b"")


@pytest.fixture()
def plugin(tmp_path, monkeypatch):
    module = sys.modules[connection_loader.get("podman_nsenter", PlayContext(), None, class_only=True).__module__]
    monkeypatch.setattr(module, "cache_dir", lambda: str(tmp_path / "pids"))
    monkeypatch.setattr(module.os, "geteuid", lambda: 0)
    monkeypatch.setattr(module.shutil, "which", lambda name: "/usr/bin/" + name)
    monkeypatch.setattr(module, "start_time", lambda pid: "777")
    runner = Runner()
    monkeypatch.setattr(module.subprocess, "run", runner)
    return module, runner


@pytest.fixture()
def connection(plugin):
    context = PlayContext()
    context.remote_addr = "host-1"
    conn = connection_loader.get("podman_nsenter", context, None)
    conn.set_options(direct={"remote_addr": "host-1"})
    podman = Podman()
    conn._podman = podman
    return conn, podman, plugin[1]


def test_declares_pipelining(connection):
    conn = connection[0]
    assert conn.has_pipelining is True
    assert conn.transport == "podman_nsenter"


def test_a_piped_module_is_one_nsenter_into_the_init_namespaces(connection):
    conn, podman, runner = connection
    rc, out, err = conn.exec_command("/bin/sh -c '/usr/bin/python3 && sleep 0'", in_data=b"MODULE")
    assert (rc, out, err) == (0, b"from nsenter", b"")
    assert [c[0] for c in podman.calls] == [["inspect", "--format", "{{.State.Pid}}", "host-1"]]
    call = runner.calls[0]
    assert call["input"] == b"MODULE"
    argv = call["argv"]
    assert argv[:2] == ["nsenter", "--target=4242"]
    for namespace in ("--mount", "--uts", "--ipc", "--net", "--pid", "--cgroup", "--root", "--wd"):
        assert namespace in argv
    # a clean environment, as podman exec gives, and the command split as a shell would
    tail = argv[argv.index("--") + 1:]
    assert tail[:3] == ["/usr/bin/env", "-i", "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"]
    assert tail[-3:] == ["/bin/sh", "-c", "/usr/bin/python3 && sleep 0"]


def test_a_command_without_input_reads_nothing(connection):
    conn, _podman, runner = connection
    conn.exec_command("/bin/sh -c 'echo ~'")
    assert runner.calls[0]["input"] is None
    assert runner.calls[0]["stdin"] == subprocess.DEVNULL


def test_the_pid_is_looked_up_once_while_the_init_process_lives(connection, plugin, monkeypatch):
    conn, podman, runner = connection
    conn.exec_command("true")
    conn.exec_command("true")
    assert len([c for c in podman.calls if c[0][0] == "inspect"]) == 1
    # a restarted container: the cached PID's start time no longer matches, so podman is asked again
    podman.pid = "5151"
    monkeypatch.setattr(plugin[0], "start_time", lambda pid: "777" if pid == 5151 else "999")
    conn.exec_command("true")
    assert len([c for c in podman.calls if c[0][0] == "inspect"]) == 2
    assert runner.calls[-1]["argv"][1] == "--target=5151"


def test_a_stopped_container_is_a_connection_failure(connection):
    conn, podman, _runner = connection
    podman.pid = ""
    with pytest.raises(AnsibleConnectionFailure, match="host-1 is not running"):
        conn.exec_command("true")


def test_a_user_other_than_root_goes_through_podman_exec(connection):
    conn, podman, runner = connection
    conn.user = "kafka"
    rc, out, _err = conn.exec_command("id", in_data=b"x")
    assert (rc, out) == (0, b"from podman")
    assert podman.calls == [(["exec", "-i", "--user", "kafka", "host-1", "id"], b"x")]
    assert runner.calls == []


def test_files_are_streamed_both_ways(connection, tmp_path):
    conn, _podman, runner = connection
    source = tmp_path / "module.py"
    source.write_bytes(b"payload\x00bytes")
    conn.put_file(str(source), "/tmp/a dir/module.py")
    assert runner.files == {"'/tmp/a dir/module.py'": b"payload\x00bytes"}
    conn.fetch_file("/tmp/a dir/module.py", str(tmp_path / "back"))
    assert (tmp_path / "back").read_bytes() == b"payload\x00bytes"


def test_start_time_reads_field_22_past_a_command_name_with_spaces(tmp_path):
    module = sys.modules[connection_loader.get("podman_nsenter", PlayContext(), None, class_only=True).__module__]
    (tmp_path / "12").mkdir()
    fields = ["S", "1"] + [str(n) for n in range(5, 30)]  # fields 3.. ; field 22 is the 20th after the name
    (tmp_path / "12" / "stat").write_text("12 (a b) c) " + " ".join(fields) + "\n")
    assert module.start_time(12, proc=str(tmp_path)) == fields[19]
    assert module.start_time(13, proc=str(tmp_path)) is None
