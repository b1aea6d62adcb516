# Copyright: kafkaops.platform contributors
# Apache-2.0 (see LICENSE)
"""Tests of _security.base: the checks of single values, each naming the key it refuses."""

from __future__ import annotations

import re

import pytest

from ansible_collections.kafkaops.platform.plugins.module_utils._security import base
from ansible_collections.kafkaops.platform.plugins.module_utils._security.base import SecurityConfigError


def test_fail_names_the_path():
    with pytest.raises(SecurityConfigError, match=r"^platform_security\.tls: is wrong$"):
        base.fail("platform_security.tls", "is wrong")


def test_the_error_is_a_value_error():
    assert issubclass(SecurityConfigError, ValueError)


def test_mapping_accepts_none_and_copies():
    assert base.as_mapping(None, "p", ("a",)) == {}
    value = {"a": 1}
    copied = base.as_mapping(value, "p", ("a",))
    assert copied == value and copied is not value


@pytest.mark.parametrize("value,message", [
    ([], "p: must be a mapping, got list"),
    ({1: "x"}, "p: keys must be strings, got 1"),
    ({"pasword": "x"}, "p.pasword: unknown key (did you mean password?); valid keys: password, path"),
    ({"zzz": "x"}, "p.zzz: unknown key; valid keys: password, path"),
])
def test_mapping_refuses(value, message):
    with pytest.raises(SecurityConfigError, match="^" + re.escape(message) + "$"):
        base.as_mapping(value, "p", ("path", "password"))


def test_strings():
    assert base.as_string(None, "p") is None
    assert base.as_string("", "p", allow_empty=True) == ""
    assert base.required_string("x", "p") == "x"
    for value, message in ((None, "p: is required"), (True, "p: must be a string, got bool"), ("", "p: must not be empty")):
        with pytest.raises(SecurityConfigError, match="^" + re.escape(message) + "$"):
            base.required_string(value, "p")


def test_secrets_are_never_echoed():
    with pytest.raises(SecurityConfigError) as info:
        base.as_secret("line\nbreak-s3cret", "p.password")
    assert "s3cret" not in str(info.value)
    assert str(info.value) == "p.password: must not contain control characters such as newlines"
    with pytest.raises(SecurityConfigError, match=re.escape("must be a string (quote numbers in YAML), got int")):
        base.as_secret(1234, "p")
    assert base.as_secret(None, "p") is None


def test_booleans():
    assert base.as_boolean(None, "p", True) is True
    assert base.as_boolean(False, "p", True) is False
    with pytest.raises(SecurityConfigError, match=re.escape("p: must be true or false, got 'yes'")):
        base.as_boolean("yes", "p", True)


@pytest.mark.parametrize("value,port", [(9092, 9092), ("9092", 9092), (1, 1), (65535, 65535)])
def test_ports(value, port):
    assert base.as_port(value, "p") == port


@pytest.mark.parametrize("value,message", [
    (None, "p: is required"), (True, "p: must be a port number, got True"), ("x", "p: must be a port number, got 'x'"),
    (0, "p: must be between 1 and 65535, got 0"), (70000, "p: must be between 1 and 65535, got 70000"),
])
def test_bad_ports(value, message):
    with pytest.raises(SecurityConfigError, match="^" + re.escape(message) + "$"):
        base.as_port(value, "p")


def test_an_optional_port():
    assert base.as_port(None, "p", required=False) is None


def test_string_lists():
    assert base.as_string_list(None, "p") == []
    assert base.as_string_list("TLSv1.3", "p") == ["TLSv1.3"]
    assert base.as_string_list(("a", "b"), "p") == ["a", "b"]
    with pytest.raises(SecurityConfigError, match=re.escape("p: must be a list of strings")):
        base.as_string_list({"a": 1}, "p")
    with pytest.raises(SecurityConfigError, match=re.escape("p[1]: 'b c' is not a valid word")):
        base.as_string_list(["a", "b c"], "p", re.compile(r"^\w+$"), "word")


def test_host_placeholder_only_where_it_is_replaced():
    base.check_no_placeholder(None, "p")
    base.check_no_placeholder("kafka", "p")
    with pytest.raises(SecurityConfigError, match=re.escape("p: {host} is only replaced in file paths and Kerberos principals")):
        base.check_no_placeholder("user-{host}", "p")


def test_authentications_are_none_mtls_and_the_sasl_mechanisms():
    assert base.AUTHENTICATIONS == ("none", "mtls", "plain", "scram-sha-256", "scram-sha-512", "oauthbearer", "gssapi")
    assert set(base.LOGIN_MODULES) == set(base.SASL_MECHANISMS.values())
