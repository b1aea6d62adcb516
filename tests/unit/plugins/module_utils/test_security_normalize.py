# Copyright: kafkaops.platform contributors
# Apache-2.0 (see LICENSE)
"""Tests of _security.normalize: the canonical form, the listener roles' defaults, the checks that span sections."""

from __future__ import annotations

import copy
import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ansible_collections.kafkaops.platform.plugins.module_utils._security.base import DEFAULT_SECURITY, SecurityConfigError
from ansible_collections.kafkaops.platform.plugins.module_utils._security.normalize import TOP_KEYS, normalize

KEYSTORE = {"path": "/k.p12", "password": "pw"}


def listener(name, port, protocol="PLAINTEXT", authentication=None):
    found = {"name": name, "port": port, "protocol": protocol}
    if authentication is not None:
        found["authentication"] = authentication
    return found


def refused(message):
    return pytest.raises(SecurityConfigError, match="^" + re.escape(message) + "$")


def test_every_key_of_the_canonical_form_is_present_in_order():
    sec = normalize(None)
    assert list(sec) == ["listeners", "controller_listener", "inter_broker_listener", "client_listener", "admin_listener",
                         "tls", "authorizer", "principal_mapping", "kerberos", "oauthbearer", "credentials", "zookeeper"]
    assert set(sec) == set(TOP_KEYS)
    assert [lsn["name"] for lsn in sec["listeners"]] == [lsn["name"] for lsn in DEFAULT_SECURITY["listeners"]]
    assert normalize({}) == sec


def test_listener_roles_default_in_order():
    sec = normalize({"listeners": [listener("REPL", 1), listener("CTL", 2), listener("APPS", 3), listener("OPS", 4)],
                     "inter_broker_listener": "REPL", "controller_listener": "CTL"})
    assert (sec["client_listener"], sec["admin_listener"]) == ("APPS", "APPS")
    only_two = normalize({"listeners": [listener("INTERNAL", 1), listener("CONTROLLER", 2)]})
    assert (only_two["client_listener"], only_two["admin_listener"]) == ("INTERNAL", "INTERNAL")


@given(st.sampled_from([None, "CLIENT", "INTERNAL"]), st.booleans())
def test_normalizing_twice_changes_nothing(admin, with_tls):
    description = copy.deepcopy(DEFAULT_SECURITY)
    if admin:
        description["admin_listener"] = admin
    if with_tls:
        description["listeners"][0].update(protocol="SSL", authentication="mtls")
        description["tls"] = {"keystore": dict(KEYSTORE), "truststore": {"path": "/ca.pem", "type": "PEM"}}
        description["credentials"] = {"admin": {"keystore": {"path": "/a.pem", "type": "PEM"}}}
    once = normalize(description)
    assert normalize(once) == once


@pytest.mark.parametrize("description,message", [
    ({"listeners": []}, "platform_security.listeners: must be a non-empty list of listeners"),
    ({"listeners": [listener("A", 1), listener("A", 2)]}, "platform_security.listeners[1].name: duplicate listener name A (also listeners[0])"),
    ({"listeners": [listener("A", 1), listener("B", 1)]}, "platform_security.listeners[1].port: duplicate port 1 (also used by A)"),
    ({"listeners": [listener("A", 1), listener("CONTROLLER", 2)]},
     "platform_security.inter_broker_listener: listener INTERNAL (the default) is not defined in platform_security.listeners "
     "(defined: A, CONTROLLER)"),
    ({"inter_broker_listener": "CONTROLLER"},
     "platform_security.inter_broker_listener: CONTROLLER is the controller listener; brokers must replicate over a different listener"),
    ({"admin_listener": "CONTROLLER"},
     "platform_security.admin_listener: CONTROLLER is the controller listener; clients connect to broker listeners"),
])
def test_bad_listener_roles(description, message):
    with refused(message):
        normalize(description)


def test_tls_listeners_need_their_material():
    description = {"listeners": [listener("CLIENT", 9092, "SSL", "mtls"), listener("INTERNAL", 9091), listener("CONTROLLER", 9093)]}
    with refused("platform_security.listeners[0]: protocol SSL needs a keystore: set platform_security.tls.keystore or "
                 "platform_security.listeners[0].tls.keystore"):
        normalize(description)
    description["tls"] = {"keystore": KEYSTORE}
    with refused("platform_security.listeners[0]: mtls needs a truststore to verify client certificates: set "
                 "platform_security.tls.truststore or platform_security.listeners[0].tls.truststore"):
        normalize(description)


def test_processes_need_credentials_for_their_listeners():
    description = {"listeners": [listener("CLIENT", 9092), listener("INTERNAL", 9091, "SASL_PLAINTEXT", "scram-sha-512"),
                                 listener("CONTROLLER", 9093)]}
    with refused("platform_security.credentials.broker: username and password is required because brokers replicate over "
                 "INTERNAL with SASL mechanism SCRAM-SHA-512"):
        normalize(description)


def test_controllers_cannot_use_scram_first():
    description = {"listeners": [listener("CLIENT", 9092), listener("INTERNAL", 9091),
                                 listener("CONTROLLER", 9093, "SASL_PLAINTEXT", ["scram-sha-256", "plain"])]}
    with pytest.raises(SecurityConfigError, match=r"^platform_security\.listeners\[2\]\.authentication: scram-sha-256 cannot be "):
        normalize(description)


def test_the_admin_client_needs_credentials():
    description = {"listeners": [listener("CLIENT", 9092, "SASL_PLAINTEXT", "oauthbearer"), listener("INTERNAL", 9091),
                                 listener("CONTROLLER", 9093)],
                   "oauthbearer": {"jwks_endpoint_url": "https://idp/jwks"}}
    with refused("platform_security.credentials.admin: client_id and client_secret is required because this collection's admin "
                 "client connects to CLIENT (SASL mechanism OAUTHBEARER)"):
        normalize(description)


def test_gssapi_and_oauth_need_their_sections():
    with refused("platform_security.kerberos: is required because a listener uses gssapi (the brokers' service principal and keytab)"):
        normalize({"listeners": [listener("CLIENT", 9092, "SASL_PLAINTEXT", "gssapi"), listener("INTERNAL", 9091),
                                 listener("CONTROLLER", 9093)]})


def test_the_authorizer_needs_authenticated_brokers():
    with refused("platform_security.authorizer.enabled: the authorizer needs authenticated brokers, but inter broker listener "
                 "INTERNAL has no authentication, so brokers would connect as User:ANONYMOUS; use mtls or a SASL mechanism on INTERNAL"):
        normalize({"authorizer": {"enabled": True}})
