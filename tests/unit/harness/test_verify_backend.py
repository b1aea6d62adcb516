"""The verify tests' testinfra backend (molecule/shared/kafkaops_verify.py): podman:// hosts are
reached with nsenter, the container's init PID looked up once while that process lives."""
import os
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
sys.path.insert(0, os.path.join(ROOT, "molecule", "shared"))

import kafkaops_verify  # noqa: E402  pylint: disable=wrong-import-position
import testinfra.backend  # noqa: E402  pylint: disable=wrong-import-position


@pytest.fixture()
def backend(monkeypatch):
    inspected = []

    def fake_run(argv, **_kwargs):
        inspected.append(argv)
        return subprocess.CompletedProcess(argv, 0, "4242\n", "")

    monkeypatch.setattr(kafkaops_verify.subprocess, "run", fake_run)
    monkeypatch.setattr(kafkaops_verify.os, "geteuid", lambda: 0)
    monkeypatch.setattr(kafkaops_verify.shutil, "which", lambda name: "/usr/bin/" + name)
    host = testinfra.backend.get_backend("podman://host-1")
    monkeypatch.setattr(type(host), "_plugin", kafkaops_verify._connection_plugin())
    monkeypatch.setattr(type(host)._plugin, "start_time", lambda pid: "777")
    ran = []

    def run_local(command, *args):
        ran.append(host.quote(command, *args))
        return testinfra.backend.base.CommandResult(host, 0, b"out", b"", command)

    monkeypatch.setattr(host, "run_local", run_local)
    return host, inspected, ran


def test_podman_hosts_get_the_nsenter_backend(backend):
    host = backend[0]
    assert isinstance(host, kafkaops_verify.NsenterPodmanBackend)
    assert host.get_hostname() == "host-1"


def test_commands_enter_the_container_init_namespaces(backend):
    host, inspected, ran = backend
    result = host.run("systemctl is-active %s", "kafka")
    host.run("true")
    assert result.rc == 0
    assert inspected == [["podman", "inspect", "--format", "{{.State.Pid}}", "host-1"]]
    assert ran[0].startswith("nsenter --target=4242 --mount --uts --ipc --net --pid --cgroup --root --wd -- /usr/bin/env -i ")
    assert ran[0].endswith("/bin/sh -c 'systemctl is-active kafka'")


def test_a_restarted_container_is_looked_up_again(backend, monkeypatch):
    host, inspected, _ran = backend
    host.run("true")
    monkeypatch.setattr(type(host)._plugin, "start_time", lambda pid: "888")
    host.run("true")
    assert len(inspected) == 2
