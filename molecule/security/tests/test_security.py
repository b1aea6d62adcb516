"""The security scenario's promises, checked with real clients and on the real hosts."""
import os
import re
import subprocess
import time
import uuid

import pytest
import testinfra
from kafka import KafkaAdminClient, KafkaConsumer, KafkaProducer
from kafka.admin import NewTopic
from kafka.errors import KafkaError, TopicAuthorizationFailedError


def _user_config(client_config, expected, username):
    from ansible_collections.kafkaops.platform.plugins.module_utils import security

    config = security.kafka_python_client_config(security.normalize(expected["security"]), identity=username)
    config["bootstrap_servers"] = expected["bootstrap_servers"]
    return config


@pytest.fixture(scope="module")
def topic(client_config):
    name = "secured-%s" % uuid.uuid4().hex[:8]
    admin = KafkaAdminClient(**client_config)
    admin.create_topics([NewTopic(name, num_partitions=1, replication_factor=3,
                                  topic_configs={"min.insync.replicas": "2"})])
    admin.close()
    time.sleep(2)
    yield name
    admin = KafkaAdminClient(**client_config)
    admin.delete_topics([name])
    admin.close()


def test_client_listener_requires_tls_and_scram(expected):
    assert expected["security"]["listeners"][0]["protocol"] == "SASL_SSL"


def _refused(**config):
    """Connecting and listing topics must fail; returns the error for further checks."""
    with pytest.raises((KafkaError, OSError)) as caught:
        admin = KafkaAdminClient(request_timeout_ms=5000, bootstrap_timeout_ms=8000, **config)
        try:
            admin.list_topics()
        finally:
            admin.close()
    return caught.value


def test_plaintext_connection_to_the_tls_port_fails(expected):
    _refused(bootstrap_servers=expected["bootstrap_servers"], security_protocol="PLAINTEXT")


def test_tls_without_sasl_is_refused(client_config, expected):
    config = {k: v for k, v in client_config.items() if not k.startswith("sasl_")}
    config["security_protocol"] = "SSL"
    _refused(**config)


def _credential_refusals(expected):
    """Per broker host, how many connections its server.log says it refused for invalid credentials
    (Kafka's SocketServer logs each refusal at INFO)."""
    counts = {}
    for name, spec in expected["hosts"].items():
        if "broker" in spec["roles"]:
            log = "%s/%s/server.log" % (expected["log_root"], spec["service"])
            out = testinfra.get_host("podman://" + name).check_output(
                "grep -c 'Failed authentication with .*due to invalid credentials' %s || true", log)
            counts[name] = int(out.strip() or 0)
    return counts


def test_wrong_password_is_refused(client_config, expected, caplog):
    before = _credential_refusals(expected)
    config = dict(client_config, sasl_plain_password="not-the-password")
    _refused(**config)
    # Either the client read the broker's refusal, or (seen on a loaded machine: the broker closes
    # the connection right after its answer, and the client saw only the close) a broker logged that
    # it refused the credentials; a connection that failed for another reason shows neither.
    client_saw_it = any("SaslAuthenticationFailed" in record.getMessage() for record in caplog.records)
    after = _credential_refusals(expected)
    assert client_saw_it or any(after[name] > before[name] for name in after), \
        "the connection failed, but not because the broker refused the credentials (refusals logged: %s -> %s)" % (
            before, after)


def test_authenticated_client_without_acls_is_denied(client_config, expected, topic):
    config = _user_config(client_config, expected, "noacl")
    producer = KafkaProducer(acks="all", max_block_ms=10000, **config)
    try:
        with pytest.raises(TopicAuthorizationFailedError):
            producer.send(topic, b"denied").get(timeout=15)
    finally:
        producer.close()


def test_super_user_produces_and_consumes(client_config, topic):
    producer = KafkaProducer(acks="all", **client_config)
    for i in range(100):
        producer.send(topic, key=b"k%d" % i, value=b"v%d" % i)
    producer.flush(timeout=30)
    producer.close()
    consumer = KafkaConsumer(topic, group_id="secured-" + topic, auto_offset_reset="earliest",
                             consumer_timeout_ms=15000, **client_config)
    values = {record.value for record in consumer}
    consumer.close()
    assert {b"v%d" % i for i in range(100)} <= values


def test_brokers_talk_over_mtls(host, expected):
    props = host.file("%s/kafka-broker/server.properties" % expected["config_root"]).content_string
    assert "listener.name.internal.ssl.client.auth=required" in props
    assert "listener.name.controller.ssl.client.auth=required" in props
    assert "inter.broker.listener.name=INTERNAL" in props


def test_key_material_is_private(host):
    for path in ("/etc/kafka/tls/keystore.pem", "/etc/kafka/tls/keystore.d/10-key.pem"):
        key = host.file(path)
        assert key.mode == 0o640 and key.user == "root" and key.group == "kafka", path


def test_no_world_readable_file_holds_a_secret(host, expected):
    secrets = expected["secrets"]
    assert secrets, "the scenario defines secrets; the test must look for them"
    files = host.check_output(
        "find /etc /opt/kafka /var/lib/kafka /var/log/kafka /tmp -xdev -type f -perm -o=r 2>/dev/null").split()
    leaks = []
    for secret in secrets:
        result = host.run("grep -lF -- %s %s", secret, " ".join(files))
        leaks += [line for line in result.stdout.split() if line]
    assert leaks == [], "world-readable files holding a secret: %s" % sorted(set(leaks))


def _changed_tasks(output):
    """The tasks that report a change in an ansible-playbook output, with the hosts they changed."""
    changed, task = [], None
    for line in output.splitlines():
        if line.startswith("TASK ["):
            task = line[6:line.rfind("]")]
        elif line.startswith("changed: ["):
            changed.append("%s: %s" % (task, line[len("changed: "):].split(" ", 1)[0]))
    return changed


def test_second_run_changes_nothing_and_prints_no_secret_at_vvv(expected, tmp_path):
    """Run the whole deployment again with --diff at -vvv: nothing may change, not one secret may be printed.

    This is the scenario's idempotence check (molecule's own idempotence step would run site.yml once
    more for the same answer), and it shows every argument, result and diff ansible would print."""
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=os.path.join(expected["project_dir"], ".cache", "collections"),
               ANSIBLE_FORCE_COLOR="0", ANSIBLE_NOCOLOR="1",
               # the scenario's inventory reads these (archive and CA locations)
               MOLECULE_PROJECT_DIRECTORY=expected["project_dir"],
               MOLECULE_EPHEMERAL_DIRECTORY=os.path.dirname(os.path.abspath(os.environ["KAFKAOPS_EXPECTED"])))
    run = subprocess.run(["ansible-playbook", "-i", expected["inventory_file"], "--diff", "-vvv",
                          "kafkaops.platform.site"], env=env, capture_output=True, text=True, timeout=900,
                         check=False)
    output = run.stdout + run.stderr
    (tmp_path / "vvv.log").write_text(output)
    assert run.returncode == 0, output[-3000:]
    recap = output[output.index("PLAY RECAP"):]
    assert re.findall(r"changed=(\d+)", recap), recap
    assert set(re.findall(r"changed=(\d+)", recap)) == {"0"}, "changed on a second run: %s" % _changed_tasks(output)
    for secret in expected["secrets"]:
        assert secret not in output, "a secret appears in the -vvv output (see %s)" % (tmp_path / "vvv.log")


def test_authorized_application_user_produces_and_consumes(client_config, expected):
    """User:app gets topic and group ACLs on the prefix app- from platform_acls (kafka_acl)."""
    name = "app-%s" % uuid.uuid4().hex[:8]
    admin = KafkaAdminClient(**client_config)
    admin.create_topics([NewTopic(name, num_partitions=1, replication_factor=3,
                                  topic_configs={"min.insync.replicas": "2"})])
    admin.close()
    time.sleep(2)
    config = _user_config(client_config, expected, "app")
    try:
        producer = KafkaProducer(acks="all", **config)
        for i in range(50):
            producer.send(name, value=b"app-%d" % i).get(timeout=30)
        producer.close()
        consumer = KafkaConsumer(name, group_id="app-readers", auto_offset_reset="earliest",
                                 consumer_timeout_ms=15000, **config)
        values = {record.value for record in consumer}
        consumer.close()
        assert values == {b"app-%d" % i for i in range(50)}
    finally:
        admin = KafkaAdminClient(**client_config)
        admin.delete_topics([name])
        admin.close()


def test_application_user_is_denied_outside_its_prefix(client_config, expected, topic):
    config = _user_config(client_config, expected, "app")
    producer = KafkaProducer(acks="all", max_block_ms=10000, **config)
    try:
        with pytest.raises(TopicAuthorizationFailedError):
            producer.send(topic, b"not-mine").get(timeout=15)
    finally:
        producer.close()
