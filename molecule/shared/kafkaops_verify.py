"""pytest plugin with the shared fixtures of the verify tests (loaded with -p kafkaops_verify): what the deployment must look like (written by
verify.yml from the inventory) and a Kafka client configuration built by the collection's own
security code."""
import importlib.util
import json
import os
import shutil
import subprocess

import pytest
import testinfra.backend
from testinfra.backend.podman import PodmanBackend


def _connection_plugin():
    """The test hosts' ansible connection (tests/harness/ansible_plugins/connection/podman_nsenter.py),
    whose nsenter command line the testinfra backend below shares."""
    path = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))),
                        "tests", "harness", "ansible_plugins", "connection", "podman_nsenter.py")
    spec = importlib.util.spec_from_file_location("kafkaops_podman_nsenter", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


class NsenterPodmanBackend(PodmanBackend):
    """testinfra's podman backend with commands run through nsenter, as ansible reaches the test hosts:
    a `podman exec` costs about 0.19 CPU-s here, an nsenter about 5 ms. Same fallback as the
    connection: podman exec for a user other than root or without root on the control node."""

    _plugin = None

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._pid = self._started = None

    def _init_pid(self) -> int:
        plugin = type(self)._plugin
        if self._pid is None or plugin.start_time(self._pid) != self._started:
            out = subprocess.run(["podman", "inspect", "--format", "{{.State.Pid}}", self.name],
                                 capture_output=True, text=True, check=True).stdout.strip()
            self._pid, self._started = int(out), plugin.start_time(int(out))
        return self._pid

    def run(self, command, *args, **kwargs):
        if self.user is not None or os.geteuid() != 0 or shutil.which("nsenter") is None:
            return super().run(command, *args, **kwargs)
        if type(self)._plugin is None:
            type(self)._plugin = _connection_plugin()
        plugin = type(self)._plugin
        cmd = self.get_command(command, *args)
        line = plugin.nsenter_command(self._init_pid(), ["/bin/sh", "-c", cmd])
        out = self.run_local(" ".join(["%s"] * len(line)), *line)
        out.command = self.encode(cmd)
        return out


# `--hosts=podman://NAME` (verify.yml) now builds the backend above
testinfra.backend.BACKENDS["podman"] = __name__ + ".NsenterPodmanBackend"


@pytest.fixture(scope="session")
def expected():
    with open(os.environ["KAFKAOPS_EXPECTED"], encoding="utf-8") as handle:
        return json.load(handle)


@pytest.fixture(scope="session")
def client_config(expected):
    from ansible_collections.kafkaops.platform.plugins.module_utils import security

    config = security.kafka_python_client_config(
        security.normalize(expected["security"]), identity=expected.get("admin_identity"))
    config["bootstrap_servers"] = expected["bootstrap_servers"]
    return config


@pytest.fixture()
def me(host, expected):
    """What this host must run."""
    name = host.backend.get_hostname()
    if name not in expected["hosts"] and expected["mode"] == "zookeeper" \
            and name in [server["host"] for server in expected["zookeeper"]]:
        # a host of the ensemble that runs no Kafka process yet (a future KRaft controller)
        pytest.skip("runs ZooKeeper only")
    return expected["hosts"][name]
