# Copyright: kafkaops.platform contributors
# Apache-2.0 (see LICENSE)
"""Fixtures of the integration tests: real Kafka clusters on 127.0.0.1 and a way to run the
collection's modules through ``ansible-playbook``, as users do.

* ``local_kafka`` - a factory: ``local_kafka(nodes=4, security=..., controllers=..., properties=...)``
  starts a :class:`kafka_local.LocalKafka` once per session for each distinct set of arguments and
  stops it at the end of the session. Clusters are shared: use unique topic, user and principal
  names, and do not stop their nodes. A test that stops nodes starts its own
  ``LocalKafka(...)`` in a ``with`` block.
* ``kafka_plaintext`` - one plaintext node.
* ``kafka_scram`` - three nodes with SASL SCRAM-SHA-512, the StandardAuthorizer and ``admin`` as
  super user (:data:`kafka_local.SCRAM_SECURITY`).
* ``ansible_playbook`` - runs tasks on localhost with the JSON callback and returns the results.

Tests are skipped when Java or the Kafka tarball (``tests/harness/kafka_dist.sh 4.3.1``) is missing.
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
if HERE not in sys.path:
    sys.path.insert(0, HERE)

import kafka_local  # noqa: E402

sys.path.insert(0, os.path.join(kafka_local.ROOT, "tests", "harness"))
from proctree import stop_tree  # noqa: E402

COLLECTIONS = os.path.join(kafka_local.ROOT, ".cache", "collections")


def _unique_key(**kwargs):
    return json.dumps(kwargs, sort_keys=True, default=str)


@pytest.fixture(scope="session")
def local_kafka():
    """Factory of session-wide clusters; see the module docstring."""
    if not shutil.which("java"):
        pytest.skip("java is not installed")
    if not os.path.isfile(kafka_local.tarball()):
        pytest.skip("%s is missing: run tests/harness/kafka_dist.sh %s" % (kafka_local.tarball(), kafka_local.DEFAULT_VERSION))
    clusters = {}

    def start(nodes=1, security=None, controllers=None, properties=None):
        key = _unique_key(nodes=nodes, security=security, controllers=controllers, properties=properties)
        if key not in clusters:
            clusters[key] = kafka_local.LocalKafka(nodes=nodes, security=security, controllers=controllers,
                                                   properties=properties).start()
        return clusters[key]

    try:
        yield start
    finally:
        for cluster in clusters.values():
            cluster.stop()


@pytest.fixture(scope="session")
def kafka_plaintext(local_kafka):
    return local_kafka(nodes=1)


@pytest.fixture(scope="session")
def kafka_scram(local_kafka):
    return local_kafka(nodes=3, security=kafka_local.SCRAM_SECURITY)


class PlaybookRun:
    """The outcome of one ``ansible-playbook`` run."""

    def __init__(self, process, log_path):
        self.rc = process.returncode
        self.stdout = process.stdout
        self.stderr = process.stderr
        with open(log_path, errors="replace") as handle:
            self.log = handle.read()
        try:
            self.output = json_document(self.stdout)
        except AssertionError as exc:
            raise AssertionError("%s\nstderr:\n%s" % (exc, self.stderr[-3000:])) from None

    @property
    def results(self) -> list:
        """The result of every task on localhost, in order."""
        found = []
        for play in self.output["plays"]:
            for task in play["tasks"]:
                found.append(task["hosts"]["localhost"])
        return found

    @property
    def text(self) -> str:
        """Everything the run printed or logged, for checks that no secret leaks."""
        return self.stdout + self.stderr + self.log


class BackgroundRun:
    """An ``ansible-playbook`` run started with ``background=True``."""

    def __init__(self, popen, log_path):
        self.popen = popen
        self.log_path = log_path

    def running(self) -> bool:
        return self.popen.poll() is None

    def interrupt(self, signum, timeout=60) -> None:
        """Send ``signum`` to ansible-playbook and every process it started (the module too),
        as stopping a job does, and wait until all of them are gone."""
        stop_tree(self.popen.pid, signum, timeout)
        self.popen.wait(timeout)

    def wait(self, timeout=300) -> PlaybookRun:
        stdout, stderr = self.popen.communicate(timeout=timeout)
        self.log_path.touch()
        return PlaybookRun(subprocess.CompletedProcess(self.popen.args, self.popen.returncode, stdout, stderr),
                           self.log_path)


def json_document(stdout: str) -> dict:
    """The JSON callback's report, also when verbose messages are printed around it."""
    decoder = json.JSONDecoder()
    position = 0
    while True:
        start = stdout.find("{", position)
        if start < 0:
            raise AssertionError("no JSON report in ansible-playbook output:\n" + stdout[-3000:])
        if start == 0 or stdout[start - 1] == "\n":
            try:
                document, _end = decoder.raw_decode(stdout, start)
            except ValueError:
                document = None
            if isinstance(document, dict) and "plays" in document:
                return document
        position = start + 1


@pytest.fixture
def ansible_playbook(tmp_path):
    """``ansible_playbook(tasks, extra_vars=None, check=False, diff=False, verbosity=0)`` writes a play
    of ``tasks`` (a list of task dicts; JSON is valid YAML) against localhost, runs it with the
    collection on the collections path and the Python of this test session (which has
    kafka-python), passes ``extra_vars`` with ``-e @file`` (never on the command line) and
    returns a :class:`PlaybookRun`. Failed tasks fail the run unless ``expect_failure`` is set."""
    counter = [0]

    def run(tasks, extra_vars=None, check=False, diff=False, verbosity=0, expect_failure=False, background=False):
        counter[0] += 1
        workdir = tmp_path / ("run-%d" % counter[0])
        workdir.mkdir()
        playbook = workdir / "playbook.yml"
        playbook.write_text(json.dumps([{"name": "kafka_local test", "hosts": "localhost", "gather_facts": False,
                                         "tasks": tasks}], indent=2))
        inventory = workdir / "inventory.ini"
        inventory.write_text("localhost ansible_connection=local ansible_python_interpreter=%s\n" % sys.executable)
        variables = workdir / "vars.json"
        variables.write_text(json.dumps(extra_vars or {}))
        variables.chmod(0o600)
        log_path = workdir / "ansible.log"
        # no user or repository configuration; only a longer internal poll interval (the default,
        # 0.001 s, costs 5% of a core while the playbook waits on a task)
        (workdir / "ansible.cfg").write_text("[defaults]\ninternal_poll_interval = 0.01\n")
        env = dict(os.environ)
        env.update({
            "ANSIBLE_CONFIG": str(workdir / "ansible.cfg"),
            "ANSIBLE_COLLECTIONS_PATH": COLLECTIONS,
            "ANSIBLE_STDOUT_CALLBACK": "json",
            "ANSIBLE_LOG_PATH": str(log_path),
            "ANSIBLE_LOCAL_TEMP": str(workdir / "tmp"),
            "ANSIBLE_REMOTE_TEMP": str(workdir / "remote-tmp"),
            "ANSIBLE_RETRY_FILES_ENABLED": "false",
            "ANSIBLE_NOCOLOR": "1",
            "ANSIBLE_DEPRECATION_WARNINGS": "false",
            "PYTHONWARNINGS": "ignore",
        })
        cmd = [os.path.join(os.path.dirname(sys.executable), "ansible-playbook"), "-i", str(inventory),
               "-e", "@" + str(variables), str(playbook)]
        if check:
            cmd.append("--check")
        if diff:
            cmd.append("--diff")
        if verbosity:
            cmd.append("-" + "v" * verbosity)
        if background:
            # its own process group, so a test can interrupt the run the way a stopped job is
            return BackgroundRun(subprocess.Popen(cmd, cwd=workdir, env=env, stdout=subprocess.PIPE,
                                                  stderr=subprocess.PIPE, text=True, start_new_session=True),
                                 log_path)
        process = subprocess.run(cmd, cwd=workdir, env=env, capture_output=True, text=True, timeout=300,
                                 check=False)
        log_path.touch()
        outcome = PlaybookRun(process, log_path)
        if process.returncode != 0 and not expect_failure:
            failed = [r for r in outcome.results if r.get("failed")]
            raise AssertionError("ansible-playbook failed (rc %d): %s\n%s" % (
                process.returncode, json.dumps(failed, indent=2)[:4000], process.stderr[-2000:]))
        return outcome

    return run
