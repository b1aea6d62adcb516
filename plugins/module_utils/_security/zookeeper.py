# Copyright: kafkaops.platform contributors
# Apache-2.0 (see LICENSE)
"""ZooKeeper's side of the security model: the server's ``zoo.cfg`` security settings and the JAAS
files of digest authentication (ZooKeeper servers, and brokers logging in to ZooKeeper)."""

from __future__ import annotations

from typing import Any, Dict, List, Optional, Sequence, Tuple

from ansible_collections.kafkaops.platform.plugins.module_utils._security.base import (
    ROOT,
    ZK_DIGEST_LOGIN_MODULE,
    ZK_NETTY_SERVER,
    ZK_SASL_PROVIDER,
    ZK_X509_PROVIDER,
    Canonical,
    Properties,
    as_mapping,
    fail,
)
from ansible_collections.kafkaops.platform.plugins.module_utils._security.normalize import normalize
from ansible_collections.kafkaops.platform.plugins.module_utils._security.render import quote, substitute
from ansible_collections.kafkaops.platform.plugins.module_utils._security.server import NODE_KEYS


def zookeeper_properties(description: Any, node: Any = None) -> Properties:
    """ZooKeeper server (``zoo.cfg``) security settings, all values strings.

    ``node`` may give ``host`` to replace ``{host}`` in store paths.
    """
    sec = normalize(description)
    host = None
    if node is not None:
        host = as_mapping(node, "node", NODE_KEYS).get("host")
    zk = sec["zookeeper"]
    props: Dict[str, Any] = {}
    if zk["client_port"] is not None:
        props["clientPort"] = str(zk["client_port"])
    if zk["tls"]:
        props["secureClientPort"] = str(zk["secure_client_port"])
        props["serverCnxnFactory"] = ZK_NETTY_SERVER
        props.update(_store_settings(sec, host, "ssl."))
        props["ssl.clientAuth"] = "need" if zk["authentication"] == "mtls" else "none"
    if zk["authentication"] == "mtls":
        props["authProvider.x509"] = ZK_X509_PROVIDER
    if zk["authentication"] == "digest":
        props["authProvider.sasl"] = ZK_SASL_PROVIDER
    if zk["authentication"] != "none":
        props["enforce.auth.enabled"] = "true"
        props["enforce.auth.schemes"] = "x509" if zk["authentication"] == "mtls" else "sasl"
    if zk["quorum_tls"]:
        props["sslQuorum"] = "true"
        props.update(_store_settings(sec, host, "ssl.quorum."))
    if zk["quorum_authentication"] == "digest":
        props["quorum.auth.enableSasl"] = "true"
        props["quorum.auth.learnerRequireSasl"] = "true"
        props["quorum.auth.serverRequireSasl"] = "true"
        props["quorum.auth.learner.saslLoginContext"] = "QuorumLearner"
        props["quorum.auth.server.saslLoginContext"] = "QuorumServer"
    return props


def _store_settings(sec: Canonical, host: Optional[str], prefix: str) -> Properties:
    """ZooKeeper's key and trust store and TLS settings, keys prefixed ``ssl.`` or ``ssl.quorum.``."""
    zk = sec["zookeeper"]
    path = ROOT + ".zookeeper"
    out: Dict[str, Any] = {}
    keystore = zk["keystore"]
    out[prefix + "keyStore.location"] = substitute(keystore["path"], host, path + ".keystore.path")
    out[prefix + "keyStore.type"] = keystore["type"]
    if keystore["password"] is not None:
        out[prefix + "keyStore.password"] = keystore["password"]
    truststore = zk["truststore"]
    if truststore is not None:
        out[prefix + "trustStore.location"] = substitute(truststore["path"], host, path + ".truststore.path")
        out[prefix + "trustStore.type"] = truststore["type"]
        if truststore["password"] is not None:
            out[prefix + "trustStore.password"] = truststore["password"]
    out[prefix + "hostnameVerification"] = "true" if sec["tls"]["endpoint_identification"] else "false"
    if sec["tls"]["protocols"]:
        out[prefix + "enabledProtocols"] = ",".join(sec["tls"]["protocols"])
    if sec["tls"]["cipher_suites"]:
        out[prefix + "ciphersuites"] = ",".join(sec["tls"]["cipher_suites"])
    return out


def jaas_file(description: Any, process: str) -> str:
    """Content of the JAAS file a process needs, or ``""`` when it needs none.

    ``process`` is ``zookeeper`` (Server / QuorumServer / QuorumLearner sections for
    digest authentication) or ``kafka`` (the Client section a ZooKeeper-mode broker uses
    to log in to ZooKeeper). Pass the file with ``-Djava.security.auth.login.config``.
    """
    sec = normalize(description)
    zk = sec["zookeeper"]
    creds = zk["credentials"]
    sections: List[str] = []
    if process == "zookeeper":
        if zk["authentication"] == "digest":
            sections.append(_section("Server", [("user_" + creds["kafka"]["username"], creds["kafka"]["password"])]))
        if zk["quorum_authentication"] == "digest":
            quorum = creds["quorum"]
            sections.append(_section("QuorumServer", [("user_" + quorum["username"], quorum["password"])]))
            sections.append(_section("QuorumLearner", [("username", quorum["username"]), ("password", quorum["password"])]))
    elif process == "kafka":
        if zk["authentication"] == "digest":
            kafka = creds["kafka"]
            sections.append(_section("Client", [("username", kafka["username"]), ("password", kafka["password"])]))
    else:
        fail("process", "%r is not a process; use zookeeper or kafka" % (process,))
    return "".join(sections)


def _section(name: str, options: Sequence[Tuple[str, str]]) -> str:
    """One JAAS section that logs in with ZooKeeper's digest module."""
    body = " ".join("%s=%s" % (key, quote(value, ROOT + ".zookeeper.credentials")) for key, value in options)
    return "%s {\n  %s required\n  %s;\n};\n" % (name, ZK_DIGEST_LOGIN_MODULE, body)
