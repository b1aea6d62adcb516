# Copyright: kafkaops.platform contributors
# Apache-2.0 (see LICENSE)
"""Tests of the security filters: wiring to the model, error conversion, keyword-only use, sidecar docs."""

from __future__ import annotations

import inspect
import os

import pytest
import yaml
from ansible.errors import AnsibleFilterError

from ansible_collections.kafkaops.platform.plugins.filter import security as filters
from ansible_collections.kafkaops.platform.plugins.module_utils import security

FILTER_DIR = os.path.dirname(os.path.abspath(filters.__file__))
NAMES = ["kafka_security_normalize", "kafka_server_properties", "kafka_client_properties",
         "kafka_zookeeper_security_properties", "kafka_scram_credentials", "kafka_zookeeper_jaas"]

SCRAM_DESCRIPTION = {
    "listeners": [
        {"name": "CLIENT", "port": 9092, "protocol": "SASL_PLAINTEXT", "authentication": "scram-sha-512"},
        {"name": "INTERNAL", "port": 9091, "protocol": "SASL_PLAINTEXT", "authentication": "scram-sha-512"},
        {"name": "CONTROLLER", "port": 9093, "protocol": "SASL_PLAINTEXT", "authentication": "plain"},
    ],
    "credentials": {"broker": {"username": "broker", "password": "broker-secret"},
                    "controller": {"username": "controller", "password": "controller-secret"},
                    "admin": {"username": "admin", "password": "admin-secret"}},
}


def test_filter_names():
    assert sorted(filters.FilterModule().filters()) == sorted(NAMES)


def test_filters_return_what_the_model_returns():
    table = filters.FilterModule().filters()
    node = {"roles": ["broker"], "host": "b1"}
    assert table["kafka_security_normalize"](SCRAM_DESCRIPTION) == security.normalize(SCRAM_DESCRIPTION)
    assert table["kafka_server_properties"](SCRAM_DESCRIPTION, node=node) == security.server_properties(SCRAM_DESCRIPTION, node)
    assert table["kafka_client_properties"](SCRAM_DESCRIPTION, client="connect", identity="admin") == (
        security.client_properties(SCRAM_DESCRIPTION, "connect", identity="admin"))
    assert table["kafka_zookeeper_security_properties"]({}) == {"clientPort": "2181"}
    assert [entry["argument"] for entry in table["kafka_scram_credentials"](SCRAM_DESCRIPTION)] == [
        "SCRAM-SHA-512=[name=broker,password=broker-secret]",
        "SCRAM-SHA-512=[name=controller,password=controller-secret]",
        "SCRAM-SHA-512=[name=admin,password=admin-secret]",
    ]


def test_the_canonical_form_is_accepted_again():
    canonical = filters.kafka_security_normalize(SCRAM_DESCRIPTION)
    assert filters.kafka_server_properties(canonical, node={"roles": ["controller"]})["listeners"] == "CONTROLLER://:9093"


@pytest.mark.parametrize("call,message", [
    (lambda: filters.kafka_security_normalize({"listeners": [{"name": "x", "port": 1, "protocol": "PLAINTEXT"}]}),
     "platform_security.listeners[0].name: 'x' is not a valid listener name: use upper case letters, digits and _, "
     "starting with a letter"),
    (lambda: filters.kafka_server_properties({}, node={"roles": ["worker"]}),
     "node.roles: 'worker' is not a role; use broker and/or controller"),
    (lambda: filters.kafka_client_properties(SCRAM_DESCRIPTION, client="producer"),
     "identity: client producer on listener CLIENT needs an identity with username and password "
     "(listener mechanisms: SCRAM-SHA-512)"),
    (lambda: filters.kafka_zookeeper_security_properties({"zookeeper": {"tls": True}}),
     "platform_security.zookeeper.secure_client_port: is required when tls is true"),
    (lambda: filters.kafka_scram_credentials({"tls": {"keystore": {"path": "/k.p12"}}}),
     "platform_security.tls.keystore.password: is required for a PKCS12 keystore"),
])
def test_model_errors_become_filter_errors_with_the_same_message(call, message):
    with pytest.raises(AnsibleFilterError) as info:
        call()
    assert info.value.message == message
    assert isinstance(info.value.__cause__, security.SecurityConfigError)


@pytest.mark.parametrize("name", NAMES)
def test_parameters_beyond_the_input_are_keyword_only(name):
    parameters = list(inspect.signature(getattr(filters, name)).parameters.values())
    assert parameters[0].kind is inspect.Parameter.POSITIONAL_OR_KEYWORD
    assert all(p.kind is inspect.Parameter.KEYWORD_ONLY for p in parameters[1:])


def test_positional_arguments_are_refused():
    with pytest.raises(TypeError):
        filters.kafka_client_properties({}, "admin")  # pylint: disable=too-many-function-args,missing-kwoa


@pytest.mark.parametrize("name", NAMES)
def test_sidecar_documentation(name):
    with open(os.path.join(FILTER_DIR, name + ".yml"), encoding="utf-8") as handle:
        doc = yaml.safe_load(handle)
    assert set(doc) == {"DOCUMENTATION", "EXAMPLES", "RETURN"}
    documentation = doc["DOCUMENTATION"]
    assert documentation["name"] == name
    assert documentation["short_description"]
    assert documentation["positional"] == "_input"
    keywords = list(inspect.signature(getattr(filters, name)).parameters)[1:]
    assert sorted(documentation["options"]) == sorted(["_input"] + keywords)
    for option in documentation["options"].values():
        assert option["description"] and option["type"]
    assert "kafkaops.platform." + name in doc["EXAMPLES"]
    assert isinstance(yaml.safe_load(doc["EXAMPLES"]), list)
    assert "_value" in doc["RETURN"]
