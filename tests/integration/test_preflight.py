"""A check that reads the control node's view of a host: the service id a running ksqlDB server was
started with. The hosts are local-connection aliases of this machine, so the playbook runs in check
mode. The corpus of malformed inventories, run on real test hosts, is test_preflight_corpus.py."""
from __future__ import annotations

import json
import os
import subprocess

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

GOOD_HOSTS = {
    "k1": {"kafka_node_id": 1},
    "k2": {"kafka_node_id": 2},
    "k3": {"kafka_node_id": 3},
}


def inventory(tmp_path, hosts=None, controllers=None, brokers=None, group_vars=None, zookeeper=None, services=None):
    hosts = hosts if hosts is not None else GOOD_HOSTS
    names = list(hosts)
    all_vars = {
        "ansible_connection": "local",
        "ansible_python_interpreter": "{{ ansible_playbook_python }}",
        "platform_kafka_archive_src": str(tmp_path / "kafka.tgz"),
        "platform_host_address": "{{ inventory_hostname }}.invalid",
    }
    all_vars.update(group_vars or {})
    (tmp_path / "kafka.tgz").write_bytes(b"not a real archive: preflight only checks that it exists")
    data = {"all": {"vars": all_vars, "children": {
        "kafka_controller": {"hosts": {n: hosts[n] for n in (controllers if controllers is not None else names)}},
        # hosts that are no controller carry their node id here
        "kafka_broker": {"hosts": {n: {} if n in (controllers if controllers is not None else names) else hosts[n]
                                   for n in (brokers if brokers is not None else names)}},
        "zookeeper": {"hosts": zookeeper or {}},
    }}}
    # the services in front of Kafka: group -> {host: variables}
    for group, members in (services or {}).items():
        data["all"]["children"][group] = {"hosts": members}
    path = tmp_path / "hosts.json"
    path.write_text(json.dumps(data))
    return path


def run_site(path):
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=os.path.join(ROOT, ".cache", "collections"),
               ANSIBLE_CONFIG=os.path.join(ROOT, "ansible.cfg"), ANSIBLE_NOCOLOR="1", ANSIBLE_FORCE_COLOR="0")
    result = subprocess.run(["ansible-playbook", "--check", "-i", str(path), "kafkaops.platform.site"], env=env,
                            capture_output=True, text=True, timeout=300, check=False)
    return result.returncode, result.stdout + result.stderr


def test_a_ksqldb_service_id_change_stops_before_any_change(tmp_path):
    """A host whose ksqlDB runs with service id old_ (its current ksql-server.properties) may not be
    given another: its queries and command topic belong to old_."""
    (tmp_path / "etc" / "ksqldb").mkdir(parents=True)
    (tmp_path / "etc" / "ksqldb" / "ksql-server.properties").write_text("ksql.service.id=old_\nlisteners=http://0.0.0.0:8088\n")
    path = inventory(tmp_path, group_vars={"platform_config_root": str(tmp_path / "etc")},
                     services={"ksqldb": {"q1": {"ksqldb_service_id": "new_"}}})
    rc, output = run_site(path)
    assert rc != 0, output[-3000:]
    assert "q1: ksqldb_service_id would change from 'old_' to 'new_' on a running ksqlDB cluster" in output, output[-3000:]
    assert "Deploy the KRaft controllers" not in output, output[-3000:]
