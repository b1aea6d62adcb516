"""The test hosts' connection plugin (tests/harness/ansible_plugins/connection/podman_pipelined.py),
with podman itself replaced by a recorder: what it runs for commands, piped modules and files."""
import os

import pytest
from ansible.playbook.play_context import PlayContext
from ansible.plugins.loader import connection_loader

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
connection_loader.add_directory(os.path.join(ROOT, "tests", "harness", "ansible_plugins", "connection"))


class Podman:
    """Records the podman command lines; `mount` answers with a directory standing for the container's root."""

    def __init__(self, root):
        self.root = root
        self.calls = []

    def __call__(self, cmd, cmd_args=None, in_data=None, use_container_id=True):
        line = ([cmd] if isinstance(cmd, str) else list(cmd)) + (["host-1"] if use_container_id else []) + list(cmd_args or [])
        self.calls.append((line, in_data))
        if line[0] == "mount":
            return 0, str(self.root).encode(), b""
        if line[0] == "cp":
            source, dest = line[-2:]
            with open(dest, "w", encoding="utf-8") as handle:
                handle.write("copied by podman cp from " + source)
        return 0, b"out", b""


@pytest.fixture()
def connection(tmp_path, monkeypatch):
    context = PlayContext()
    context.remote_addr = "host-1"
    conn = connection_loader.get("podman_pipelined", context, None)
    conn.set_options(direct={"remote_addr": "host-1"})
    podman = Podman(tmp_path / "root")
    (tmp_path / "root" / "etc").mkdir(parents=True)
    monkeypatch.setattr(conn, "_podman", podman)
    return conn, podman


def test_declares_pipelining(connection):
    conn = connection[0]
    assert conn.has_pipelining is True
    assert conn.transport == "podman_pipelined"


def test_a_piped_module_is_one_exec_with_stdin(connection):
    conn, podman = connection
    rc, out, err = conn.exec_command("/bin/sh -c '/usr/bin/python3 && sleep 0'", in_data=b"MODULE")
    assert (rc, out, err) == (0, b"out", b"")
    # no mount for a command: one podman call, with -i and the module on its standard input
    assert podman.calls == [(["exec", "-i", "host-1", "/bin/sh", "-c", "/usr/bin/python3 && sleep 0"], b"MODULE")]


def test_a_command_without_input_gets_no_stdin(connection):
    conn, podman = connection
    conn.exec_command("/bin/sh -c 'echo ~'")
    assert podman.calls == [(["exec", "host-1", "/bin/sh", "-c", "echo ~"], None)]


def test_remote_user_is_passed(connection):
    conn, podman = connection
    conn.user = "kafka"
    conn.exec_command("id", in_data=b"x")
    assert podman.calls[0][0][:4] == ["exec", "-i", "--user", "kafka"]


def test_files_go_through_the_mount_taken_once(connection, tmp_path):
    conn, podman = connection
    source = tmp_path / "module.py"
    source.write_text("payload")
    conn.put_file(str(source), "/etc/a")
    conn.put_file(str(source), "/etc/b")
    assert [c[0][0] for c in podman.calls] == ["mount"]
    assert (tmp_path / "root" / "etc" / "b").read_text() == "payload"
    conn.fetch_file("/etc/a", str(tmp_path / "back"))
    assert (tmp_path / "back").read_text() == "payload"


def test_fetch_outside_the_root_file_system_uses_podman_cp(connection, tmp_path):
    conn, podman = connection
    conn.fetch_file("/tmp/only-on-tmpfs", str(tmp_path / "fetched"))
    assert podman.calls[-1][0] == ["cp", "host-1:/tmp/only-on-tmpfs", str(tmp_path / "fetched")]
    assert (tmp_path / "fetched").read_text() == "copied by podman cp from host-1:/tmp/only-on-tmpfs"
    # the mount is kept for later transfers
    assert conn._mount_point == str(tmp_path / "root").encode()
