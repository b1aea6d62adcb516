# Copyright: kafkaops.platform contributors
# Apache-2.0 (see LICENSE)
"""The TLS material a Connect pod gets on Kubernetes and OpenShift, tried on a real Connect worker
(no kubelet runs pods in the kube scenarios, so the pod's side is played here, on loopback):

1. a pod certificate from a CA, with the names module_utils._kubernetes.services.tls_pods gives it,
   turned into the PKCS12 key and trust stores by the filters' functions (module_utils._kubernetes.tls);
2. the objects the role renders: the Secret ``<set>-tls`` is written out as a pod would see it
   mounted, and the pod's own start script copies the stores into the TLS directory (0600);
3. a real Connect worker reads those stores with the REST properties the role writes
   (listeners.https.ssl.*) and HTTP basic auth (the role's login files): it answers over https,
   verified against the CA;
4. the readiness probe the StatefulSet carries logs in over TLS: it passes with the right header
   and fails with a wrong one, through curl and, where an image has no curl, through wget;
5. a re-run keeps both stores (the Secret, and so the pods, unchanged); another password or a new
   certificate makes new ones.
"""
from __future__ import annotations

import base64
import datetime
import ipaddress
import os
import shutil
import subprocess

import pytest
from connect_local import LocalConnect
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

from ansible_collections.kafkaops.platform.plugins.module_utils import connect_cluster
from ansible_collections.kafkaops.platform.plugins.module_utils import properties as props
from ansible_collections.kafkaops.platform.plugins.module_utils._kubernetes import services, tls

PASSWORD = "St0re-pw-pods"
TLS_DIR = "/etc/kafka/tls"
AUTH_DIR = "/opt/kafkaops/rest-auth"


def _name(common):
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common)])


def issue(ca_key, ca_cert, common, names):
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    now = datetime.datetime.now(datetime.timezone.utc)
    sans = [x509.IPAddress(ipaddress.ip_address(n)) if n[0].isdigit() else x509.DNSName(n) for n in names]
    cert = (x509.CertificateBuilder().subject_name(_name(common)).issuer_name(ca_cert.subject).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(minutes=5))
            .not_valid_after(now + datetime.timedelta(days=2))
            .add_extension(x509.SubjectAlternativeName(sans), critical=False)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .sign(ca_key, hashes.SHA256()))
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    return pem.decode() + cert.public_bytes(serialization.Encoding.PEM).decode() + ca_cert.public_bytes(serialization.Encoding.PEM).decode()


@pytest.fixture(scope="module")
def ca(tmp_path_factory):
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(_name("test CA")).issuer_name(_name("test CA")).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(minutes=5))
            .not_valid_after(now + datetime.timedelta(days=2))
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True).sign(key, hashes.SHA256()))
    path = tmp_path_factory.mktemp("ca") / "ca.crt"
    path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    return {"key": key, "cert": cert, "pem": path.read_text(), "file": str(path)}


def spec_for(material, port=8083, probe_authorization=""):
    spec = {"name": "kafka", "namespace": "kafka-prod", "platform": "kubernetes", "kind": "connect", "component": "connect",
            "replicas": 1, "image": "apache/kafka:4.3.1", "port": port, "config_name": "worker.properties",
            "properties": {"group.id": "connect"}, "secret": True, "heap_size": "256m",
            "tls": True, "tls_dir": TLS_DIR, "store_name": "kafka-connect", "tls_material": material,
            "extra_names": ["127.0.0.1"]}
    if probe_authorization:
        spec.update({"auth_files": {"rest-jaas.conf": "x", "rest-users.properties": "x"}, "auth_dir": AUTH_DIR,
                     "probe_authorization": probe_authorization})
    return spec


def by_name(objects):
    return {(o["kind"], o["metadata"]["name"]): o for o in objects}


def test_a_connect_pods_stores_serve_its_rest_api_over_tls_and_the_probe_logs_in(kafka_plaintext, ca, tmp_path):
    # 1. the pod's certificate with the names the role gives it, and the stores the filters make
    pod = services.tls_pods(spec_for({"keystores": {"0": "x"}}))[0]
    assert pod["pod"] == "kafka-connect-0" and "127.0.0.1" in pod["names"]
    assert "kafka-connect-0.kafka-connect-pods.kafka-prod.svc.cluster.local" in pod["names"]
    pem = issue(ca["key"], ca["cert"], pod["pod"], pod["names"])
    material = {"truststore": ca["pem"], "keystores": {"0": pem},
                "pkcs12": {"0": tls.pkcs12_keystore(pem, PASSWORD, alias=pod["pod"])},
                "truststore_pkcs12": tls.pkcs12_truststore(ca["pem"], PASSWORD)}

    # 2. the Secret as the pod sees it mounted, and the pod's start script copying the stores
    objects = by_name(services.manifests(spec_for(material)))
    secret = objects[("Secret", "kafka-connect-tls")]
    assert sorted(secret["stringData"]) == ["keystore-0.pem", "truststore.pem"]
    assert sorted(secret["data"]) == ["keystore-0.p12", "truststore.p12"]
    source, tls_dir, config, run_dir = (tmp_path / d for d in ("tls-source", "tls", "config", "run"))
    for directory in (source, tls_dir, config, run_dir):
        directory.mkdir()
    for name, text in secret["stringData"].items():
        (source / name).write_text(text)
    for name, data in secret["data"].items():
        (source / name).write_bytes(base64.b64decode(data))
    (config / "worker.properties").write_text("group.id=connect\n")
    script = objects[("ConfigMap", "kafka-connect-scripts")]["data"]["start.sh"]
    script = (script.replace(services.TLS_SOURCE_DIR, str(source)).replace(TLS_DIR, str(tls_dir))
              .replace(services.CONFIG_DIR, str(config)).replace(services.RUN_DIR, str(run_dir))
              .replace("exec /opt/kafka/bin/connect-distributed.sh", "true"))
    started = subprocess.run(["bash", "-c", script], env=dict(os.environ, HOSTNAME="kafka-connect-0"),
                             capture_output=True, text=True, check=False)
    assert started.returncode == 0, started.stderr
    assert sorted(os.listdir(tls_dir)) == ["kafka-connect-keystore.p12", "kafka-connect-truststore.p12", "keystore.pem", "truststore.pem"]
    for name in ("kafka-connect-keystore.p12", "keystore.pem"):
        assert oct((tls_dir / name).stat().st_mode & 0o777) == "0o600", name

    # 3. a real worker with the REST properties the role writes, reading the copied stores, with basic auth
    cluster = {"group_id": "connect", "config_topic": "c", "offset_topic": "o", "status_topic": "s", "replication_factor": 1,
               "rest_port": 8083, "rest_tls": True, "rest_users": ["ops"]}
    written = connect_cluster.worker_properties({
        "cluster": cluster, "address": "kafka-connect-0", "bootstrap_servers": ["b:9092"], "plugin_path": "/p",
        "secrets_dir": "/s", "rest_tls": {"keystore": TLS_DIR + "/kafka-connect-keystore.p12",
                                          "truststore": TLS_DIR + "/kafka-connect-truststore.p12", "password": PASSWORD}})
    rest = {k: str(v).replace(TLS_DIR, str(tls_dir)) for k, v in written.items()
            if k.startswith("listeners.https.") or k == "rest.extension.classes"}
    assert rest["listeners.https.ssl.keystore.type"] == "PKCS12"
    auth_dir = tmp_path / "rest-auth"
    auth_dir.mkdir()
    login = connect_cluster.rest_auth([{"name": "ops", "password": "Ops-pw-1"}], str(auth_dir))
    for item in login["files"]:
        with open(item["path"], "w") as handle:
            handle.write(item["content"])
    with LocalConnect(kafka_plaintext, workers=1, properties=rest, tls_ca=ca["file"], auth=("ops", "Ops-pw-1"),
                      jvm_options=login["jvm_options"]) as connect:
        # started: wait_ready asked /connectors over https, the certificate checked against the CA for 127.0.0.1
        assert connect.url(1).startswith("https://127.0.0.1:")
        assert connect.get("/connectors") == []

        # 4. the StatefulSet's readiness probe, logged in over TLS, through curl and through wget
        port = connect.workers[1].port
        header = tmp_path / "probe-authorization"
        rendered = by_name(services.manifests(spec_for(material, port, probe_authorization="Basic x")))
        command = rendered[("StatefulSet", "kafka-connect")]["spec"]["template"]["spec"]["containers"][0]["readinessProbe"]
        command = command["exec"]["command"][2].replace(AUTH_DIR + "/probe-authorization", str(header))
        no_curl = tmp_path / "bin"
        no_curl.mkdir()
        for tool in ("wget", "cat"):
            os.symlink(shutil.which(tool), no_curl / tool)
        for path in (os.environ["PATH"], str(no_curl)):
            for value, passes in (("Basic " + base64.b64encode(b"ops:Ops-pw-1").decode(), True),
                                  ("Basic " + base64.b64encode(b"ops:wrong").decode(), False)):
                header.write_text(value)
                result = subprocess.run(["/bin/bash", "-c", command], env=dict(os.environ, PATH=path),
                                        capture_output=True, text=True, timeout=30, check=False)
                assert (result.returncode == 0) == passes, (path, value, result.returncode, result.stderr)
        assert "Ops-pw-1" not in connect.log_text()

    # 5. a re-run keeps the stores; a new password or certificate replaces them
    assert tls.pkcs12_keystore(pem, PASSWORD, current=material["pkcs12"]["0"]) == material["pkcs12"]["0"]
    assert tls.pkcs12_truststore(ca["pem"], PASSWORD, current=material["truststore_pkcs12"]) == material["truststore_pkcs12"]
    assert tls.pkcs12_keystore(pem, "other-pw", current=material["pkcs12"]["0"]) != material["pkcs12"]["0"]
    renewed = issue(ca["key"], ca["cert"], pod["pod"], pod["names"])
    assert tls.pkcs12_keystore(renewed, PASSWORD, current=material["pkcs12"]["0"]) != material["pkcs12"]["0"]
    assert props.parse_java_properties((run_dir / "worker.properties").read_text())["rest.advertised.host.name"] == \
        "kafka-connect-0.kafka-connect-pods.kafka-prod.svc.cluster.local"
