# Copyright: kafkaops.platform contributors
# Apache-2.0 (see LICENSE)
"""Tests of _security.render: JAAS lines, store properties, {host} substitution."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ansible_collections.kafkaops.platform.plugins.module_utils._security import render
from ansible_collections.kafkaops.platform.plugins.module_utils._security.base import SecurityConfigError

FILE_KEYSTORE = {"path": "/tls/{host}.p12", "type": "PKCS12", "password": "ks", "key_password": "kp",
                 "certificate_chain": None, "key": None}
INLINE_KEYSTORE = {"path": None, "type": "PEM", "password": None, "key_password": None, "certificate_chain": "CHAIN", "key": "KEY"}
PEM_TRUSTSTORE = {"path": "/tls/ca.pem", "type": "PEM", "password": None, "certificates": None}


def test_jaas_quotes_values_but_not_booleans():
    assert render.jaas("M", [("useKeyTab", "true"), ("user", 'a"b\\c')]) == 'M required useKeyTab=true user="a\\"b\\\\c";'
    assert render.jaas("M", []) == "M required;"


@given(st.text(alphabet=st.characters(min_codepoint=32, max_codepoint=0x2FF, blacklist_categories=("Cc",))))
def test_quoting_round_trips(value):
    quoted = render.quote(value, "p")
    assert quoted[0] == quoted[-1] == '"'
    assert quoted[1:-1].replace('\\"', '"').replace("\\\\", "\\") == value


def test_quoting_refuses_control_characters():
    with pytest.raises(SecurityConfigError, match="^p: must not contain control characters$"):
        render.quote("a\nb", "p")


def test_kerberos_options():
    assert render.kerberos_options("p@R", "/k") == [("useKeyTab", "true"), ("storeKey", "true"), ("keyTab", "/k"), ("principal", "p@R")]


def test_substitute():
    assert render.substitute(None, None, "p") is None
    assert render.substitute("/plain", None, "p") == "/plain"
    assert render.substitute("/{host}/{host}", "k1", "p") == "/k1/k1"
    with pytest.raises(SecurityConfigError, match="^p: uses {host} but no host was given$"):
        render.substitute("/{host}", "", "p")


@pytest.mark.parametrize("host,formatted", [("k1", "k1"), ("10.0.0.1", "10.0.0.1"), ("::1", "[::1]"), ("[::1]", "[::1]"), ("", "")])
def test_format_host(host, formatted):
    assert render.format_host(host) == formatted


def test_store_properties_of_files():
    assert render.store_properties("listener.name.x.", FILE_KEYSTORE, PEM_TRUSTSTORE, "k1", "path") == {
        "listener.name.x.ssl.keystore.location": "/tls/k1.p12",
        "listener.name.x.ssl.keystore.type": "PKCS12",
        "listener.name.x.ssl.keystore.password": "ks",
        "listener.name.x.ssl.key.password": "kp",
        "listener.name.x.ssl.truststore.location": "/tls/ca.pem",
        "listener.name.x.ssl.truststore.type": "PEM",
    }


def test_store_properties_of_inline_pem():
    assert render.store_properties("", INLINE_KEYSTORE, None, None, "path") == {
        "ssl.keystore.certificate.chain": "CHAIN", "ssl.keystore.key": "KEY", "ssl.keystore.type": "PEM"}
    assert render.store_properties("", None, None, None, "path") == {}


def test_store_paths_need_a_host():
    with pytest.raises(SecurityConfigError, match="^identity.keystore.path: uses {host} but no host was given$"):
        render.store_properties("", FILE_KEYSTORE, None, None, "identity")


def test_tls_common():
    assert render.tls_common({"endpoint_identification": False, "protocols": [], "cipher_suites": []}) == {
        "ssl.endpoint.identification.algorithm": ""}
    assert render.tls_common({"endpoint_identification": True, "protocols": ["TLSv1.3"], "cipher_suites": ["A", "B"]}) == {
        "ssl.endpoint.identification.algorithm": "https", "ssl.enabled.protocols": "TLSv1.3", "ssl.cipher.suites": "A,B"}


def test_describe_store():
    assert render.describe_store(FILE_KEYSTORE) == "a PKCS12 file"
    assert render.describe_store(INLINE_KEYSTORE) == "inline PEM"
