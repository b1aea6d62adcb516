"""`hosts.py down` (tests/harness/hosts.py) against a fake podman: a failed `podman rm -f` is tried
again while hosts are left, an exit status other than 0 with nothing left is success, and hosts
still there after the last try stop the command with their names and what podman said."""
import importlib.util
import os
import subprocess

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))


@pytest.fixture()
def hosts():
    spec = importlib.util.spec_from_file_location("kafkaops_hosts_under_test", os.path.join(ROOT, "tests", "harness", "hosts.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


class FakePodman:
    """Answers `podman ps` with the containers left and `podman rm` with the next scripted outcome:
    (exit status, names it removes, what it prints on stderr)."""

    def __init__(self, names, outcomes):
        self.names = list(names)
        self.outcomes = list(outcomes)
        self.removals = []

    def run(self, cmd, check=True, capture=True):
        if cmd[:2] == ["podman", "ps"]:
            return subprocess.CompletedProcess(cmd, 0, "\n".join(self.names) + "\n", "")
        assert cmd[:5] == ["podman", "rm", "-f", "-t", "5"], cmd
        assert check is False, "a failed podman rm must not raise before it is tried again"
        self.removals.append(cmd[5:])
        code, removes, stderr = self.outcomes.pop(0)
        self.names = [n for n in self.names if n not in removes]
        return subprocess.CompletedProcess(cmd, code, "", stderr)


def test_a_failed_removal_is_tried_again_until_no_host_is_left(hosts, monkeypatch):
    podman = FakePodman(["t-1", "t-2", "t-3"], [(2, {"t-1", "t-3"}, "Error: t-2 is stopping"), (0, {"t-2"}, "")])
    monkeypatch.setattr(hosts, "run", podman.run)
    pauses = []
    monkeypatch.setattr(hosts.time, "sleep", pauses.append)
    hosts.down("t", pause=1.5)
    assert podman.removals == [["t-1", "t-2", "t-3"], ["t-2"]]
    assert pauses == [1.5]
    assert podman.names == []


def test_an_error_with_nothing_left_is_success(hosts, monkeypatch):
    podman = FakePodman(["t-1"], [(2, {"t-1"}, "Error: container state improper")])
    monkeypatch.setattr(hosts, "run", podman.run)
    monkeypatch.setattr(hosts.time, "sleep", lambda _seconds: pytest.fail("nothing was left to wait for"))
    hosts.down("t")
    assert podman.removals == [["t-1"]]


def test_hosts_left_after_the_last_try_stop_the_command_with_their_names(hosts, monkeypatch, capsys):
    podman = FakePodman(["t-1", "t-2"], [(2, {"t-1"}, "Error: t-2 is paused")] + [(2, set(), "Error: t-2 is paused")] * 2)
    monkeypatch.setattr(hosts, "run", podman.run)
    pauses = []
    monkeypatch.setattr(hosts.time, "sleep", pauses.append)
    with pytest.raises(SystemExit, match=r"could not remove t-2$"):
        hosts.down("t", attempts=3, pause=1.0)
    assert podman.removals == [["t-1", "t-2"], ["t-2"], ["t-2"]]
    assert pauses == [1.0, 2.0]
    err = capsys.readouterr().err
    assert "podman rm exited with 2, left t-2 (try 3 of 3): Error: t-2 is paused" in err


def test_no_host_no_podman_rm(hosts, monkeypatch):
    podman = FakePodman([], [])
    monkeypatch.setattr(hosts, "run", podman.run)
    hosts.down("t")
    assert podman.removals == []
