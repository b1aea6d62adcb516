# Copyright: kafkaops.platform contributors
# Apache-2.0 (see LICENSE)
"""Tests of _security.secrets: SCRAM users for kafka-storage, the secrets of a description, secret keys, JVM properties."""

from __future__ import annotations

import re

import pytest

from ansible_collections.kafkaops.platform.plugins.module_utils._security import secrets
from ansible_collections.kafkaops.platform.plugins.module_utils._security.base import SecurityConfigError

SCRAM = {
    "listeners": [
        {"name": "CLIENT", "port": 9092, "protocol": "SASL_PLAINTEXT", "authentication": ["scram-sha-256", "scram-sha-512"]},
        {"name": "INTERNAL", "port": 9091, "protocol": "SASL_PLAINTEXT", "authentication": "scram-sha-512"},
        {"name": "CONTROLLER", "port": 9093, "protocol": "PLAINTEXT"},
    ],
    "credentials": {"broker": {"username": "broker", "password": "b-pw"}, "admin": {"username": "admin", "password": "a-pw"},
                    "users": [{"username": "admin", "password": "a-pw"}, {"username": "app", "password": "app-pw"}]},
}


def test_one_scram_user_per_mechanism_and_username():
    entries = secrets.scram_credentials(SCRAM)
    assert [(e["username"], e["mechanism"]) for e in entries] == [
        ("broker", "SCRAM-SHA-256"), ("broker", "SCRAM-SHA-512"), ("admin", "SCRAM-SHA-256"), ("admin", "SCRAM-SHA-512"),
        ("app", "SCRAM-SHA-256"), ("app", "SCRAM-SHA-512")]
    assert entries[0] == {"mechanism": "SCRAM-SHA-256", "username": "broker", "argument": "SCRAM-SHA-256=[name=broker,password=b-pw]",
                          "no_log": True}
    assert secrets.scram_credentials({}) == []


@pytest.mark.parametrize("password", ["a,b", " lead", "trail ", '"quoted"'])
def test_kafka_storage_cannot_take_every_password(password):
    description = dict(SCRAM, credentials={"broker": {"username": "broker", "password": password},
                                           "admin": {"username": "admin", "password": "a-pw"}})
    with pytest.raises(SecurityConfigError, match="^" + re.escape("platform_security.credentials.broker.password: kafka-storage")):
        secrets.scram_credentials(description)


def test_secret_values_each_once():
    description = dict(SCRAM, tls={"keystore": {"path": "/k.p12", "password": "ks-pw"}},
                       zookeeper={"authentication": "digest", "credentials": {"kafka": {"username": "kafka", "password": "b-pw"}}})
    assert secrets.secret_values(description) == ["ks-pw", "b-pw", "a-pw", "app-pw"]


@pytest.mark.parametrize("key,secret", [
    ("ssl.keystore.password", True), ("listener.name.client.scram-sha-512.sasl.jaas.config", True), ("ssl.keystore.key", True),
    ("ssl.key.password", True), ("ssl.keystore.location", False), ("sasl.mechanism", False),
])
def test_secret_property_keys(key, secret):
    assert secrets.is_secret_property(key) is secret


def test_oauth_urls_are_allowed_for_the_jvm():
    assert secrets.jvm_system_properties({}) == {}
    description = {
        "listeners": [{"name": "CLIENT", "port": 9092, "protocol": "SASL_PLAINTEXT", "authentication": "oauthbearer"},
                      {"name": "INTERNAL", "port": 9091, "protocol": "PLAINTEXT"},
                      {"name": "CONTROLLER", "port": 9093, "protocol": "PLAINTEXT"}],
        "oauthbearer": {"jwks_endpoint_url": "https://idp/jwks", "token_endpoint_url": "https://idp/token"},
        "credentials": {"admin": {"client_id": "admin", "client_secret": "s"}},
    }
    assert secrets.jvm_system_properties(description) == {
        "org.apache.kafka.sasl.oauthbearer.allowed.urls": "https://idp/jwks,https://idp/token"}
