"""The security scenario's promises, checked with real clients and on the real hosts."""
import json
import os
import re
import stat
import subprocess
import time
import uuid

import pytest
import testinfra
from kafka import KafkaAdminClient, KafkaConsumer, KafkaProducer
from kafka.admin import (
    ACLFilter,
    ACLOperation,
    ACLPermissionType,
    ACLResourcePatternType,
    NewTopic,
    ResourcePatternFilter,
    ResourceType,
    UserScramCredentialDeletion,
)
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


def _site_env(expected):
    return dict(os.environ, ANSIBLE_COLLECTIONS_PATH=os.path.join(expected["project_dir"], ".cache", "collections"),
                ANSIBLE_FORCE_COLOR="0", ANSIBLE_NOCOLOR="1",
                # the scenario's inventory reads these (archive and CA locations)
                MOLECULE_PROJECT_DIRECTORY=expected["project_dir"],
                MOLECULE_EPHEMERAL_DIRECTORY=os.path.dirname(os.path.abspath(os.environ["KAFKAOPS_EXPECTED"])))


def _playbook(expected, arguments, env=None, cwd=None, timeout=900):
    """``ansible-playbook -i <the scenario's inventory> arguments...``: ``(exit code, stdout + stderr)``."""
    run = subprocess.run(["ansible-playbook", "-i", expected["inventory_file"], *arguments], env=env or _site_env(expected),
                         capture_output=True, text=True, timeout=timeout, check=False, cwd=cwd)
    return run.returncode, run.stdout + run.stderr


def _ca_dir(expected):
    return os.path.dirname(expected["security"]["tls"]["ca_file"])


def test_a_run_without_the_ca_that_signed_the_hosts_stops_before_anything_changes(expected, tmp_path):
    """A fresh AWX execution environment: the CA directory is empty. The run must not make a new CA."""
    empty = tmp_path / "no-ca"
    empty.mkdir()
    returncode, output = _playbook(expected, ["-e", "platform_tls_ca_dir=%s" % empty, "kafkaops.platform.site"])
    assert returncode != 0, output[-3000:]
    hosts = sorted(expected["hosts"])
    flat = re.sub(r"\s+", " ", output)  # the YAML callback folds long messages over lines
    assert re.search(r"%s hold\(s\) certificates from an internal CA, but %s has no CA key"
                     % (re.escape(", ".join(hosts)), re.escape(str(empty))), flat), output[-3000:]
    assert os.listdir(empty) == [], "the refused run wrote into the CA directory"
    assert _changed_tasks(output) == []


def test_second_run_with_the_ca_from_variables_changes_no_host_and_prints_no_secret_at_vvv(expected, tmp_path):
    """Run the whole deployment again with --diff at -vvv, the CA handed over in variables (as an AWX credential
    does) into an empty CA directory: no host may change, not one secret - the CA key included - may be printed.

    This is the scenario's idempotence check (molecule's own idempotence step would run site.yml once
    more for the same answer), and it shows every argument, result and diff ansible would print. The only
    changes allowed are the control node's copies of the CA and its trust bundle in the new directory."""
    with open(os.path.join(_ca_dir(expected), "ca.key")) as handle:
        ca_key = handle.read()
    with open(os.path.join(_ca_dir(expected), "ca.crt")) as handle:
        ca_certificate = handle.read()
    fresh = tmp_path / "job-ca"
    variables = tmp_path / "ca-vars.json"
    variables.write_text(json.dumps({"platform_tls_ca_dir": str(fresh), "platform_tls_ca_key": ca_key,
                                     "platform_tls_ca_certificate": ca_certificate}))
    variables.chmod(0o600)
    returncode, output = _playbook(expected, ["--diff", "-vvv", "-e", "@%s" % variables, "kafkaops.platform.site"])
    (tmp_path / "vvv.log").write_text(output)
    assert returncode == 0, output[-3000:]
    assert "PLAY RECAP" in output
    changed = _changed_tasks(output)
    allowed = ("Create the CA directory", "Write the CA from the variables into the CA directory",
               "Write the control node's trust bundle (the CA and any extra trusted CAs, for the admin client)")
    assert changed and all(entry.split(": [")[0].split(" : ")[-1] in allowed for entry in changed), \
        "changed on a second run: %s" % changed
    assert (fresh / "ca.key").read_text() == ca_key.strip() + "\n"
    assert stat.S_IMODE((fresh / "ca.key").stat().st_mode) == 0o600
    for secret in list(expected["secrets"]) + [ca_key.strip().splitlines()[1]]:
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


USER_PLAYBOOK = """
# written as a user of the collection would: the connection is set once per play
- name: Client options set once, for the whole kafka group
  hosts: localhost
  connection: local
  gather_facts: false
  vars:
    ansible_python_interpreter: "{{ ansible_playbook_python }}"
  module_defaults:
    group/kafkaops.platform.kafka:
      bootstrap_servers: "{{ user_bootstrap }}"
      security_protocol: SASL_SSL
      sasl_mechanism: SCRAM-SHA-512
      sasl_username: admin
      sasl_password: "{{ security_admin_password }}"
      ssl_ca: "{{ user_ca }}"
  tasks:
    - name: A topic
      kafkaops.platform.kafka_topic: {name: "{{ user_prefix }}-options", partitions: 2, replication_factor: 3}
    - name: A SCRAM user
      kafkaops.platform.kafka_user: {name: "{{ user_prefix }}-user", password: "{{ user_password }}"}
    - name: Its ACLs
      kafkaops.platform.kafka_acl:
        acls:
          - {principal: "User:{{ user_prefix }}-user", resource_type: topic, resource_name: "{{ user_prefix }}-",
             pattern_type: prefixed, operations: [read, describe]}
    - name: A consumer group's offsets moved to the end of the topic (the group has no member)
      kafkaops.platform.kafka_consumer_group:
        group: "{{ user_prefix }}-group"
        topics: ["{{ user_prefix }}-options"]
        reset_to: latest
      register: user_reset
      failed_when: user_reset is failed or user_reset is not changed
    - name: A broker that does not answer, to see the error
      kafkaops.platform.kafka_topic: {name: "{{ user_prefix }}-never", bootstrap_servers: "{{ user_dead }}", request_timeout: 3}
      register: user_dead_result
      failed_when: "'cannot connect to ' ~ user_dead not in user_dead_result.msg"

- name: The inventory's own platform_security (internal CA on), read as a client's
  hosts: localhost
  connection: local
  gather_facts: false
  vars:
    ansible_python_interpreter: "{{ ansible_playbook_python }}"
  module_defaults:
    group/kafkaops.platform.kafka:
      bootstrap_servers: "{{ user_bootstrap }}"
      security: "{{ platform_security }}"
      identity: admin
      ssl_ca: "{{ user_ca }}"
  tasks:
    - name: A topic through the platform description
      kafkaops.platform.kafka_topic: {name: "{{ user_prefix }}-description", partitions: 1, replication_factor: 3}

- name: KAFKA_* environment variables only, as an AWX credential sets them
  hosts: localhost
  connection: local
  gather_facts: false
  vars:
    ansible_python_interpreter: "{{ ansible_playbook_python }}"
  tasks:
    - name: A topic with no connection option at all
      kafkaops.platform.kafka_topic: {name: "{{ user_prefix }}-environment", partitions: 1, replication_factor: 3}
"""


def test_a_user_playbook_sets_the_connection_once_and_prints_ports_but_no_secret(client_config, expected, tmp_path):
    """kafka_topic, kafka_user and kafka_acl from a user's playbook: client options through module_defaults of
    group kafkaops.platform.kafka, the inventory's platform_security as it is written, and KAFKA_* variables.
    At -vvv the output shows the listeners' ports and protocols in clear and no secret."""
    prefix = "user-%s" % uuid.uuid4().hex[:6]
    ca = expected["security"]["tls"]["ca_file"]
    dead = expected["bootstrap_servers"][0].rsplit(":", 1)[0] + ":9"
    (tmp_path / "user.yml").write_text(USER_PLAYBOOK)
    env = dict(_site_env(expected),
               KAFKA_BOOTSTRAP_SERVERS=",".join(expected["bootstrap_servers"]), KAFKA_SECURITY_PROTOCOL="SASL_SSL",
               KAFKA_SASL_MECHANISM="SCRAM-SHA-512", KAFKA_SASL_USERNAME="admin",
               KAFKA_SASL_PASSWORD=expected["security"]["credentials"]["admin"]["password"], KAFKA_SSL_CA=ca)
    user_password = "Pb-s3cret-%s" % uuid.uuid4().hex[:8]
    extra = {"user_prefix": prefix, "user_bootstrap": expected["bootstrap_servers"], "user_ca": ca, "user_dead": dead,
             "user_password": user_password}
    returncode, output = _playbook(expected, ["-vvv", "-e", json.dumps(extra), str(tmp_path / "user.yml")], env=env,
                                   cwd=str(tmp_path), timeout=600)
    (tmp_path / "user-vvv.log").write_text(output)
    admin = KafkaAdminClient(**client_config)
    try:
        assert returncode == 0, output[-3000:]
        topics = set(admin.list_topics())
        made = {prefix + "-options", prefix + "-description", prefix + "-environment"}
        assert made <= topics, sorted(t for t in topics if t.startswith(prefix))
        entry = admin.describe_user_scram_credentials([prefix + "-user"])[prefix + "-user"]
        assert not entry.get("error") and entry["credential_infos"], entry
        acls, _error = admin.describe_acls(_acls_of("User:%s-user" % prefix))
        assert sorted(a.operation.name for a in acls) == ["DESCRIBE", "READ"], acls
        # the reset committed the log end of both partitions (nothing was produced: 0) for the new group
        committed = admin.list_group_offsets({prefix + "-group": None})[prefix + "-group"]
        assert sorted((tp.topic, tp.partition, meta.offset) for tp, meta in committed.items()) == [
            (prefix + "-options", 0, 0), (prefix + "-options", 1, 0)], committed
        assert "cannot connect to %s" % dead in re.sub(r"\s+", " ", output)
        assert re.search(r"port\"?: 9092\b", output) and "SASL_SSL" in output, "ports and protocols must show in clear"
        for secret in expected["secrets"] + [user_password]:
            assert secret not in output, "a secret appears in the -vvv output (see %s)" % (tmp_path / "user-vvv.log")
    finally:
        names = [t for t in admin.list_topics() if t.startswith(prefix)]
        if names:
            admin.delete_topics(names)
        admin.delete_acls([_acls_of("User:%s-user" % prefix)])
        admin.alter_user_scram_credentials([UserScramCredentialDeletion(prefix + "-user", "SCRAM-SHA-512")])
        admin.delete_groups([prefix + "-group"])
        admin.close()


def _acls_of(principal):
    return ACLFilter(principal=principal, host=None, operation=ACLOperation.ANY, permission_type=ACLPermissionType.ANY,
                     resource_pattern=ResourcePatternFilter(ResourceType.ANY, None, ACLResourcePatternType.ANY))
