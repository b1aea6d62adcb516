"""Bad inventories stop site.yml in its first play, with a message saying what to fix, before any
host is changed. The hosts are local-connection aliases of this machine, so the playbook runs in
check mode: even a check that failed to stop the run could not change anything here."""
from __future__ import annotations

import json
import os
import subprocess

import pytest

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


ZK_MODE = {"platform_kafka_mode": "zookeeper", "platform_kafka_version": "3.9.2"}
ENSEMBLE = {"z%d" % i: {"zookeeper_myid": i} for i in (1, 2, 3)}

CASES = [
    ("duplicate node ids", dict(hosts={"k1": {"kafka_node_id": 1}, "k2": {"kafka_node_id": 1},
                                       "k3": {"kafka_node_id": 3}}),
     "kafka_node_id 1 is used by k1 and k2"),
    ("even quorum", dict(controllers=["k1", "k2"]), "2 controllers: a KRaft quorum needs an odd number"),
    ("no node id", dict(hosts={"k1": {}, "k2": {"kafka_node_id": 2}, "k3": {"kafka_node_id": 3}}),
     "kafka_node_id"),
    ("node id of the wrong type", dict(hosts={"k1": {"kafka_node_id": "first"}, "k2": {"kafka_node_id": 2},
                                              "k3": {"kafka_node_id": 3}}),
     "kafka_node_id"),
    ("limit of the wrong type", dict(group_vars={"kafka_broker_limit_nofile": "lots"}), "kafka_broker_limit_nofile"),
    ("malformed heap size", dict(group_vars={"kafka_controller_heap_size": "1 GB"}), "kafka_controller_heap_size"),
    ("bad listener name", dict(group_vars={"platform_security": {"listeners": [
        {"name": "client", "port": 9092, "protocol": "PLAINTEXT"},
        {"name": "INTERNAL", "port": 9091, "protocol": "PLAINTEXT"},
        {"name": "CONTROLLER", "port": 9093, "protocol": "PLAINTEXT"}]}}),
     "'client' is not a valid listener name"),
    ("duplicate port", dict(group_vars={"platform_security": {"listeners": [
        {"name": "CLIENT", "port": 9092, "protocol": "PLAINTEXT"},
        {"name": "INTERNAL", "port": 9092, "protocol": "PLAINTEXT"},
        {"name": "CONTROLLER", "port": 9093, "protocol": "PLAINTEXT"}]}}),
     "duplicate port 9092"),
    ("replication factor above the broker count", dict(brokers=["k1"], group_vars={
        "kafka_broker_properties": {"default.replication.factor": 3}}),
     "default.replication.factor is 3 but the cluster has 1 broker(s)"),
    ("archive missing", dict(group_vars={"platform_kafka_archive_src": "/nonexistent/kafka_2.13-4.3.1.tgz"}),
     "/nonexistent/kafka_2.13-4.3.1.tgz does not exist on the control node"),
    ("invalid cluster id", dict(group_vars={"platform_cluster_id": "not-a-cluster-id"}),
     "is not a KRaft cluster id"),
    ("ZooKeeper mode without an ensemble", dict(controllers=[], group_vars=ZK_MODE),
     "ZooKeeper mode needs an ensemble: put 1, 3 or 5 hosts in the zookeeper group"),
    ("ensemble of two", dict(controllers=[], group_vars=ZK_MODE,
                             zookeeper={"z1": {"zookeeper_myid": 1}, "z2": {"zookeeper_myid": 2}}),
     "2 ZooKeeper servers: an ensemble has 1, 3 or 5 servers"),
    ("duplicate myid", dict(controllers=[], group_vars=ZK_MODE, zookeeper={
        "z1": {"zookeeper_myid": 1}, "z2": {"zookeeper_myid": 2}, "z3": {"zookeeper_myid": 2}}),
     "zookeeper_myid 2 is used by z2 and z3"),
    ("myid missing", dict(controllers=[], group_vars=ZK_MODE, zookeeper={"z1": {}}), "zookeeper_myid"),
    ("ZooKeeper mode on Kafka 4", dict(controllers=[], group_vars=dict(ZK_MODE, platform_kafka_version="4.3.1"),
                                       zookeeper=ENSEMBLE),
     "Kafka 4 removed ZooKeeper mode"),
    ("KRaft settings in ZooKeeper mode", dict(controllers=[], zookeeper=ENSEMBLE, group_vars=dict(
        ZK_MODE, kafka_broker_properties={"process.roles": "broker"})),
     "kafka_broker_properties sets process.roles, which only KRaft nodes read"),
    ("ZooKeeper settings in KRaft mode", dict(group_vars={"kafka_broker_properties": {"zookeeper.connect": "zk:2181"}}),
     "kafka_broker_properties sets zookeeper.connect, which only ZooKeeper-mode brokers read"),
    ("unknown mode", dict(group_vars={"platform_kafka_mode": "zk"}), "platform_kafka_mode"),
    ("two Connect clusters with one group id", dict(services={"kafka_connect": {
        "w1": {"kafka_connect_cluster": "cdc", "kafka_connect_group_id": "shared"},
        "w2": {"kafka_connect_cluster": "mirror", "kafka_connect_group_id": "shared"}}}),
     "Connect clusters 'cdc' and 'mirror' both use the group id 'shared'"),
    ("Connect topics replicated more than the brokers", dict(services={"kafka_connect": {
        "w1": {"kafka_connect_replication_factor": 5}}}),
     "w1: kafka_connect_replication_factor 5 is more than the 3 broker(s)"),
    ("a plugin download without a checksum", dict(services={"kafka_connect": {"w1": {"kafka_connect_plugins": [
        {"name": "debezium-postgres", "url": "https://plugins.invalid/debezium.tar.gz", "version": "3.6.1.Final"}]}}}),
     "w1: kafka_connect_plugins[0] (debezium-postgres).checksum must be ALGORITHM:HEX"),
    ("Schema Registry over http where TLS is required", dict(group_vars={"platform_tls_internal_ca": True}, services={
        "schema_registry": {"sr1": {"schema_registry_rest_tls": False}}}),
     "sr1: schema_registry_rest_tls is false but the security description requires TLS"),
    ("ksqlDB given a plain-http Schema Registry where TLS is required", dict(
        group_vars={"platform_tls_internal_ca": True},
        services={"ksqldb": {"q1": {"ksqldb_schema_registry_url": "http://sr1:8081", "ksqldb_keystore_password": "x"}}}),
     "q1: ksqldb_schema_registry_url http://sr1:8081 is plain http"),
    ("Schema Registry instances with different REST users", dict(services={"schema_registry": {
        "sr1": {"schema_registry_rest_users": [{"name": "ops", "password": "Pw-one"}]},
        "sr2": {"schema_registry_rest_users": [{"name": "ops", "password": "Pw-two"}]}}}),
     "sr2: schema_registry_rest_users differs from sr1's for ops"),
    ("a ksqlDB REST password Jetty would read as roles", dict(services={"ksqldb": {
        "q1": {"ksqldb_rest_users": [{"name": "ops", "password": "pw,admin"}]}}}),
     "q1: ksqldb_rest_users[0].password cannot be kept in Jetty's users file"),
    ("a Connect cluster name Kubernetes cannot use", dict(group_vars={"platform_target": "kubernetes"}, services={
        "kafka_connect": {"w1": {"kafka_connect_cluster": "CDC_1"}}}),
     "kafka_connect_cluster 'CDC_1' makes the StatefulSet name 'kafka-connect-CDC_1'"),
    ("REST over TLS for Schema Registry pods without the internal CA", dict(
        group_vars={"platform_target": "kubernetes"},
        services={"schema_registry": {"sr1": {"schema_registry_rest_tls": True, "schema_registry_keystore_password": "x"}}}),
     "schema_registry_rest_tls: REST over TLS on Kubernetes and OpenShift needs platform_tls_internal_ca"),
    ("a Connect plugin from a control-node file on Kubernetes", dict(group_vars={"platform_target": "kubernetes"}, services={
        "kafka_connect": {"w1": {"kafka_connect_plugins": [{"name": "own", "src": "/tmp/own.jar", "version": "1.0"}]}}}),
     "w1: kafka_connect_plugins own comes from a file on the control node, which cannot reach the pods"),
    ("no delay between looks at the pods", dict(group_vars={"platform_target": "kubernetes",
                                                            "platform_kubernetes_wait_delay": 0}),
     "platform_kubernetes_wait_delay must be at least 1 second, not 0"),
]


@pytest.mark.parametrize("kwargs,message", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_bad_inventory_stops_before_any_change(tmp_path, kwargs, message):
    rc, output = run_site(inventory(tmp_path, **kwargs))
    assert rc != 0, output[-3000:]
    assert message in output, output[-3000:]
    # the first play (read-only checks) is where it stopped
    assert "Deploy the KRaft controllers" not in output, output[-3000:]
    # the REST passwords of the cases above are named in no message
    assert not any(secret in output for secret in ("Pw-one", "Pw-two", "pw,admin"))


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
