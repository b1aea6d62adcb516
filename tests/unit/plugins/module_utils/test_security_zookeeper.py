# Copyright: kafkaops.platform contributors
# Apache-2.0 (see LICENSE)
"""Tests of _security.zookeeper: zoo.cfg security settings and the JAAS files of digest authentication."""

from __future__ import annotations

import re

import pytest

from ansible_collections.kafkaops.platform.plugins.module_utils._security import zookeeper
from ansible_collections.kafkaops.platform.plugins.module_utils._security.base import SecurityConfigError

TLS = {"keystore": {"path": "/zk/{host}.p12", "password": "ks"}, "truststore": {"path": "/zk/ca.p12", "password": "ts"},
       "protocols": ["TLSv1.3"]}
DIGEST = {"authentication": "digest", "quorum_authentication": "digest",
          "credentials": {"kafka": {"username": "kafka", "password": 'k"pw'}, "quorum": {"username": "quorum", "password": "q-pw"}}}


def test_plain_zookeeper_has_only_its_port():
    assert zookeeper.zookeeper_properties({}) == {"clientPort": "2181"}


def test_mtls_and_quorum_tls():
    props = zookeeper.zookeeper_properties({"tls": TLS, "zookeeper": {"tls": True, "secure_client_port": 2182, "client_port": None,
                                                                      "authentication": "mtls", "quorum_tls": True}},
                                           {"host": "zk1"})
    assert props["secureClientPort"] == "2182" and "clientPort" not in props
    assert props["ssl.keyStore.location"] == "/zk/zk1.p12"
    assert props["ssl.quorum.trustStore.password"] == "ts"
    assert props["ssl.enabledProtocols"] == props["ssl.quorum.enabledProtocols"] == "TLSv1.3"
    assert props["ssl.clientAuth"] == "need"
    assert props["enforce.auth.schemes"] == "x509"
    assert props["sslQuorum"] == "true"


def test_store_paths_need_the_host():
    with pytest.raises(SecurityConfigError, match=re.escape("platform_security.zookeeper.keystore.path: uses {host} but no host was given")):
        zookeeper.zookeeper_properties({"tls": TLS, "zookeeper": {"tls": True, "secure_client_port": 2182}})


def test_digest_jaas_files():
    assert zookeeper.jaas_file({"zookeeper": DIGEST}, "zookeeper") == (
        'Server {\n  org.apache.zookeeper.server.auth.DigestLoginModule required\n  user_kafka="k\\"pw";\n};\n'
        'QuorumServer {\n  org.apache.zookeeper.server.auth.DigestLoginModule required\n  user_quorum="q-pw";\n};\n'
        'QuorumLearner {\n  org.apache.zookeeper.server.auth.DigestLoginModule required\n  username="quorum" password="q-pw";\n};\n')
    assert zookeeper.jaas_file({"zookeeper": DIGEST}, "kafka") == (
        'Client {\n  org.apache.zookeeper.server.auth.DigestLoginModule required\n  username="kafka" password="k\\"pw";\n};\n')
    assert zookeeper.jaas_file({}, "kafka") == ""


def test_jaas_for_an_unknown_process():
    with pytest.raises(SecurityConfigError, match=re.escape("process: 'broker' is not a process; use zookeeper or kafka")):
        zookeeper.jaas_file({}, "broker")
