# Copyright: kafkaops.platform contributors
# Apache-2.0 (see LICENSE)
"""Running the collection's playbooks from a scenario's pytest module, as an operator would.

A run gets the scenario's inventory and its extra variables in a file, reports through the JSON
callback, and either runs to the end (its report returned, with ``failed``: the failed tasks as
``(task, host, msg)``, and ``seconds``) or in the background (the process returned, to be killed
half-way: :func:`kill_after_first_restart`)."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time


class Playbooks:
    def __init__(self, project: str, inventories, workdir: str, prefix: str) -> None:
        self.project = project
        self.inventories = list(inventories)
        self.workdir = workdir
        self.prefix = prefix
        self.runs = 0

    def run(self, name, extra_vars=None, inventories=(), background=False, expect_failure=False, check=False):
        """Run playbooks/<name>; assert it succeeded (or failed, with ``expect_failure``). ``check``: with
        ``--check --diff`` (each task's result then holds its ``diff``)."""
        self.runs += 1
        varfile = os.path.join(self.workdir, "%s-vars-%d.json" % (self.prefix, self.runs))
        with open(varfile, "w") as handle:
            json.dump(extra_vars or {}, handle)
        cmd = [os.path.join(os.path.dirname(sys.executable), "ansible-playbook")]
        for source in self.inventories + list(inventories):
            cmd += ["-i", source]
        cmd += ["-e", "@" + varfile] + (["--check", "--diff"] if check else [])
        cmd += [os.path.join(self.project, "playbooks", name)]
        env = dict(os.environ, ANSIBLE_STDOUT_CALLBACK="json", ANSIBLE_NOCOLOR="1")
        if background:
            # its report in a file: failures() tells what failed when it ends badly
            output = os.path.join(self.workdir, "%s-run-%d.json" % (self.prefix, self.runs))
            with open(output, "w") as out, open(output + ".err", "w") as err:
                process = subprocess.Popen(cmd, env=env, stdout=out, stderr=err)
            process.output = output
            return process
        started = time.monotonic()
        process = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=1800, check=False)
        report = _report(process.stdout)
        if expect_failure:
            assert process.returncode != 0, "%s succeeded, a failure was expected" % name
        else:
            assert process.returncode == 0, "%s failed (rc %d): %s\n%s" % (
                name, process.returncode, report["failed"], process.stderr[-3000:])
        report["seconds"] = round(time.monotonic() - started, 1)
        print("%s: %ss, changed per host %s" % (name, report["seconds"],
                                                {h: s["changed"] for h, s in sorted(report.get("stats", {}).items())}))
        return report


def _failure_message(result: dict) -> str:
    """A failed result's msg; for a loop ("One or more items failed"), the failed items' own messages too."""
    items = [item.get("msg") for item in result.get("results") or [] if isinstance(item, dict) and item.get("failed")]
    return "%s%s" % (result.get("msg"), (": " + " | ".join(str(m) for m in items)) if items else "")


def _report(stdout: str) -> dict:
    report = json.loads(stdout[stdout.index("{"):]) if "{" in stdout else {}
    report["failed"] = [(task["task"]["name"], host, _failure_message(result))
                        for play in report.get("plays", []) for task in play["tasks"]
                        for host, result in task["hosts"].items() if result.get("failed")]
    return report


def failures(process) -> str:
    """What a background run that ended badly says: its failed tasks, else its last error lines."""
    with open(process.output) as handle:
        stdout = handle.read()
    with open(process.output + ".err") as handle:
        stderr = handle.read()
    try:
        failed = _report(stdout)["failed"]
    except ValueError:
        failed = []
    return "%s %s" % (failed, stderr[-2000:] if not failed else "")


def start_times(hosts, service: str = "kafka-broker") -> dict:
    """When ``service``'s main process started on each test host (systemd's monotonic timestamp)."""
    return {host: subprocess.run(["podman", "exec", host, "systemctl", "show", "--property=ExecMainStartTimestampMonotonic",
                                  "--value", service], capture_output=True, text=True, check=True).stdout.strip()
            for host in hosts}


def kill_after_first_restart(run, hosts, service: str = "kafka-broker", seconds: float = 900) -> None:
    """SIGKILL a background playbook run (its whole process tree) as soon as ``service`` has been
    restarted on one of ``hosts``, as a cancelled job or a closed laptop would stop it."""
    from proctree import stop_tree

    before = start_times(hosts, service)
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline and run.poll() is None:
        if start_times(hosts, service) != before:
            break
        time.sleep(0.3)
    assert run.poll() is None, "the run ended before any restart (rc %s): %s" % (
        run.returncode, failures(run) if getattr(run, "output", None) else "")
    stop_tree(run.pid, signal.SIGKILL)
    run.wait()
