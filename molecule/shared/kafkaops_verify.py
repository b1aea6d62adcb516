"""pytest plugin with the shared fixtures of the verify tests (loaded with -p kafkaops_verify): what the deployment must look like (written by
verify.yml from the inventory) and a Kafka client configuration built by the collection's own
security code."""
import json
import os

import pytest


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
