# Copyright: kafkaops.platform contributors
# Apache-2.0 (see LICENSE)
"""Every free-text field of the security description, fed random text - control characters,
the separators of properties files, JAAS lines and listener lists, quotes, backslashes, unicode
beyond the BMP: either the description is refused with a message naming the field, or the broker's
rendered properties file has one line per property and reads back (java.util.Properties rules,
then Kafka's JAAS parser rules) to exactly the value given.

The Properties and JAAS readers used here are checked against the real java.util.Properties and
Kafka's JaasConfig in tests/integration/test_rendered_text_java.py.
"""

from __future__ import annotations

import copy
import re

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from ansible_collections.kafkaops.platform.plugins.module_utils import properties as props
from ansible_collections.kafkaops.platform.plugins.module_utils import security
from ansible_collections.kafkaops.platform.plugins.module_utils.security import SecurityConfigError

HOST = "n1.example.com"
NODE = {"roles": ["broker", "controller"], "host": HOST}
BASE = {
    "listeners": [
        {"name": "CLIENT", "port": 9092, "protocol": "SASL_SSL", "authentication": ["scram-sha-512", "plain"],
         "advertised_host": "lb.example.com", "bind_address": "0.0.0.0"},
        {"name": "INTERNAL", "port": 9091, "protocol": "SASL_PLAINTEXT", "authentication": "scram-sha-512"},
        {"name": "CONTROLLER", "port": 9093, "protocol": "SASL_PLAINTEXT", "authentication": "plain"},
    ],
    "tls": {"keystore": {"path": "/etc/kafka/tls/{host}.p12", "password": "KS"},
            "truststore": {"path": "/etc/kafka/tls/trust.p12", "password": "TS"}},
    "credentials": {"broker": {"username": "broker", "password": "BP"},
                    "controller": {"username": "controller", "password": "CP"},
                    "admin": {"username": "admin", "password": "AP"},
                    "users": [{"username": "app", "password": "UP"}]},
    "authorizer": {"enabled": True, "super_users": ["User:ops"]},
    "principal_mapping": {"ssl": ["DEFAULT"]},
}

# control characters, every separator these formats know, quotes, escapes, and any other character
# (astral ones included); surrogates cannot be encoded
SPECIAL = "\n\r\t\x00\x0b\x0c\x7f\x85 =:#!\\,;\"'{}/@$%[]*"
texts = st.text(alphabet=st.one_of(st.sampled_from(SPECIAL), st.characters(blacklist_categories=("Cs",))), max_size=24)
FREE_TEXT = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _stream_tokenizer_words(text):
    """The tokens of a JAAS line as Kafka's JaasConfig reads it (java.io.StreamTokenizer with
    // and /* */ comments and - _ $ as word characters): words, numbers, quoted strings (their
    escapes undone) and single characters."""
    tokens, i = [], 0
    word = re.compile(r"[A-Za-z_$\-\u00a0-\U0010ffff][A-Za-z0-9_$.\-\u00a0-\U0010ffff]*")
    while i < len(text):
        char = text[i]
        if char <= " ":
            i += 1
        elif text.startswith("//", i) or text.startswith("/*", i):
            raise AssertionError("a comment in a JAAS line: %r" % text)
        elif char in "\"'":
            j, out = i + 1, []
            while text[j] != char:
                assert text[j] not in "\r\n", "a line break inside a quoted JAAS value: %r" % text
                if text[j] == "\\":
                    j += 1
                out.append(text[j])
                j += 1
            tokens.append(("quoted", "".join(out)))
            i = j + 1
        else:
            match = word.match(text, i)
            if match:
                tokens.append(("word", match.group()))
                i = match.end()
            else:
                tokens.append(("char", char))
                i += 1
    return tokens


def read_jaas(text):
    """Login module and options of a one-module JAAS line, read as Kafka reads it."""
    tokens = _stream_tokenizer_words(text)
    assert tokens[0][0] == "word" and tokens[1] == ("word", "required"), text
    options, rest = {}, tokens[2:]
    while rest and rest[0] != ("char", ";"):
        key, equals, value = rest[:3]
        assert key[0] == "word" and equals == ("char", "=") and value[0] in ("quoted", "word"), "malformed JAAS: %r" % text
        options[key[1]] = value[1]
        rest = rest[3:]
    assert rest == [("char", ";")], "JAAS line does not end with one ';': %r" % text
    return tokens[0][1], options


def _listener(name):
    def find(rendered, key):
        entries = dict(entry.split("://", 1) for entry in rendered[key].split(","))
        return entries[name].rsplit(":", 1)[0]
    return find


def _bracketed(value):
    return "[%s]" % value if ":" in value and not value.startswith("[") else value


# field path in the description -> (where its value is found in the rendered properties, what it should read)
FIELDS = {
    "tls.keystore.password": (lambda r: r["listener.name.client.ssl.keystore.password"], None),
    "tls.keystore.path": (lambda r: r["listener.name.client.ssl.keystore.location"], lambda v: v.replace("{host}", HOST)),
    "tls.truststore.password": (lambda r: r["listener.name.client.ssl.truststore.password"], None),
    "tls.truststore.path": (lambda r: r["listener.name.client.ssl.truststore.location"], lambda v: v.replace("{host}", HOST)),
    "credentials.broker.password":
        (lambda r: read_jaas(r["listener.name.internal.scram-sha-512.sasl.jaas.config"])[1]["password"], None),
    "credentials.broker.username":
        (lambda r: read_jaas(r["listener.name.internal.scram-sha-512.sasl.jaas.config"])[1]["username"], None),
    "credentials.controller.password":
        (lambda r: read_jaas(r["listener.name.controller.plain.sasl.jaas.config"])[1]["password"], None),
    "credentials.users.0.password":
        (lambda r: read_jaas(r["listener.name.client.plain.sasl.jaas.config"])[1]["user_app"], None),
    "credentials.users.0.username":
        (lambda r: sorted(k[5:] for k in read_jaas(r["listener.name.client.plain.sasl.jaas.config"])[1]
                          if k[5:] not in ("broker", "controller", "admin")), lambda v: [v]),
    "listeners.0.advertised_host": (lambda r: _listener("CLIENT")(r, "advertised.listeners"), _bracketed),
    "listeners.0.bind_address": (lambda r: _listener("CLIENT")(r, "listeners"), _bracketed),
    "authorizer.super_users.0": (lambda r: r["super.users"].split(";")[0], None),
    "principal_mapping.ssl.0": (lambda r: r["ssl.principal.mapping.rules"], None),
}


def _set(description, dotted, value):
    target = description
    parts = [int(p) if p.isdigit() else p for p in dotted.split(".")]
    for part in parts[:-1]:
        target = target[part]
    target[parts[-1]] = value


def _error_path(dotted):
    """The path a message names for the field: platform_security.a.b[0].c"""
    return "platform_security." + re.sub(r"\.(\d+)", r"[\1]", dotted)


def render_and_read(description):
    """The broker's properties file for ``description`` and what a reader gets back from it."""
    rendered = security.server_properties(description, NODE)
    text = props.to_java_properties(rendered)
    # one line per property: nothing was added
    assert len(text.splitlines()) == len(rendered), text
    read = props.parse_java_properties(text)
    assert read == {key: str(value) for key, value in rendered.items()}
    return read


def test_the_base_description_renders_its_own_values():
    read = render_and_read(BASE)
    for dotted, (find, expected) in FIELDS.items():
        value = BASE
        for part in dotted.split("."):
            value = value[int(part)] if part.isdigit() else value[part]
        assert find(read) == (expected or (lambda v: v))(value), dotted


@pytest.mark.parametrize("dotted", sorted(FIELDS))
def test_a_free_text_field_is_refused_by_name_or_reads_back_exactly(dotted):
    find, expected = FIELDS[dotted]

    @FREE_TEXT
    @given(texts)
    @example("a\nb")
    @example("x\\u0041")
    @example('q"uo\\"te')
    @example("h1,EVIL://h2:1")
    @example("k=v#!:")
    @example("\U0001f600 \u00e9")
    def check(value):
        description = copy.deepcopy(BASE)
        _set(description, dotted, value)
        try:
            read = render_and_read(description)
        except SecurityConfigError as error:
            message = str(error)
            assert message.startswith("platform_security"), message
            assert _error_path(dotted) in message or (dotted.startswith("credentials") and "platform_security.credentials" in message), message
            return
        assert find(read) == (expected or (lambda v: v))(value)

    check()
