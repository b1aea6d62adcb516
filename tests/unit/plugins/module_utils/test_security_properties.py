# Copyright: kafkaops.platform contributors
# Apache-2.0 (see LICENSE)
"""Property-based tests of the security model: invariants over generated valid descriptions."""

from __future__ import annotations

import re

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ansible_collections.kafkaops.platform.plugins.module_utils import security
from ansible_collections.kafkaops.platform.plugins.module_utils.security import SecurityConfigError

SASL = ["plain", "scram-sha-256", "scram-sha-512", "oauthbearer", "gssapi"]
SECRET_PREFIX = "S3cr3t~"

# secrets: a recognisable prefix (so a secret never appears by chance in a path) and then
# any printable text, quotes and backslashes included
secrets = st.text(alphabet=st.characters(min_codepoint=32, max_codepoint=0x2FF, blacklist_categories=("Cc",)),
                  min_size=1, max_size=12).map(lambda text: SECRET_PREFIX + text)
names = st.from_regex(r"\A[A-Z][A-Z0-9_]{0,10}\Z")


def _combination():
    plain = st.sampled_from([("PLAINTEXT", "none"), ("SSL", "none"), ("SSL", "mtls")])
    sasl = st.tuples(st.sampled_from(["SASL_PLAINTEXT", "SASL_SSL"]),
                     st.lists(st.sampled_from(SASL), min_size=1, max_size=3, unique=True))
    sasl_mtls = st.lists(st.sampled_from(SASL), min_size=1, max_size=3, unique=True).map(
        lambda mechanisms: ("SASL_SSL", ["mtls"] + mechanisms))
    return st.one_of(plain, sasl, sasl_mtls)


@st.composite
def descriptions(draw):
    count = draw(st.integers(min_value=2, max_value=5))
    listener_names = draw(st.lists(names, min_size=count, max_size=count, unique=True))
    ports = draw(st.lists(st.integers(min_value=1024, max_value=65535), min_size=count, max_size=count, unique=True))
    listeners = []
    for name, port in zip(listener_names, ports, strict=True):
        protocol, authentication = draw(_combination())
        listener = {"name": name, "port": port, "protocol": protocol, "authentication": authentication}
        if draw(st.booleans()):
            listener["advertised_host"] = draw(st.sampled_from(["lb.example.com", "10.0.0.7", "kafka.internal"]))
        listeners.append(listener)
    controller = listeners[0]
    auth = controller["authentication"]
    first_sasl = [a for a in ([auth] if isinstance(auth, str) else auth) if a in SASL][:1]
    if first_sasl and first_sasl[0].startswith("scram"):
        controller["authentication"] = ["plain"] + [a for a in auth if a != "plain"]
    secret = draw(st.lists(secrets, min_size=12, max_size=12, unique=True))
    return {
        "listeners": listeners,
        "controller_listener": listeners[0]["name"],
        "inter_broker_listener": listeners[1]["name"],
        "tls": {"keystore": {"path": "/etc/kafka/{host}.p12", "password": secret[0]},
                "truststore": {"path": "/etc/kafka/ca.p12", "password": secret[1]}},
        "credentials": {
            "broker": {"username": "broker", "password": secret[2], "client_id": "broker-app", "client_secret": secret[3]},
            "controller": {"username": "controller", "password": secret[4], "client_id": "ctl-app", "client_secret": secret[5]},
            "admin": {"username": "admin", "password": secret[6], "client_id": "adm-app", "client_secret": secret[7],
                      "principal": "admin@EXAMPLE.COM", "keytab": "/etc/admin.keytab",
                      "keystore": {"path": "/etc/admin.pem", "type": "PEM", "key_password": secret[8]}},
            "users": [{"username": "app%d" % i, "password": secret[9 + i]} for i in range(3)],
        },
        "kerberos": {"principal": "kafka/{host}@EXAMPLE.COM", "keytab": "/etc/kafka.keytab"},
        "oauthbearer": {"token_endpoint_url": "https://idp/token", "jwks_endpoint_url": "https://idp/jwks"},
        "authorizer": {"enabled": draw(st.booleans()) and all(lsn["authentication"] != "none" for lsn in listeners[:2]),
                       "super_users": ["User:ops"]},
    }


NODES = [
    {"roles": ["broker"], "host": "b1.example.com"},
    {"roles": ["controller"], "host": "c1.example.com"},
    {"roles": ["broker", "controller"], "host": "n1.example.com"},
]
FAST = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])

_JAAS = re.compile(r'^(?P<module>[\w.]+) required(?P<options>( \w+=("(?:[^"\\]|\\.)*"|true|false))*);$')
_OPTION = re.compile(r' (\w+)=("(?:[^"\\]|\\.)*"|true|false)')


def parse_jaas(text):
    """Independent parser of the JAAS strings the model writes: module and unescaped options."""
    match = _JAAS.match(text)
    assert match, "malformed JAAS: %r" % text
    options = {}
    for key, value in _OPTION.findall(match.group("options")):
        options[key] = re.sub(r"\\(.)", r"\1", value[1:-1]) if value.startswith('"') else value
    return match.group("module"), options


@FAST
@given(descriptions())
def test_every_listener_is_in_the_protocol_map_and_ports_are_unique(desc):
    canonical = security.normalize(desc)
    controller = canonical["controller_listener"]
    for node in NODES:
        props = security.server_properties(desc, node)
        mapping = dict(entry.split(":") for entry in props["listener.security.protocol.map"].split(","))
        opened = [entry.split("://")[0] for entry in props["listeners"].split(",")]
        ports = [int(entry.rsplit(":", 1)[1]) for entry in props["listeners"].split(",")]
        assert len(ports) == len(set(ports))
        assert set(opened) <= set(mapping)
        assert mapping[controller] == next(lsn["protocol"] for lsn in canonical["listeners"] if lsn["name"] == controller)
        if "broker" in node["roles"]:
            assert set(mapping) == {lsn["name"] for lsn in canonical["listeners"]}
            advertised = [entry.split("://")[0] for entry in props["advertised.listeners"].split(",")]
            assert controller not in advertised
            assert props["inter.broker.listener.name"] in opened
        else:
            assert opened == [controller]
            assert "advertised.listeners" not in props
        assert props["controller.listener.names"] == controller


@FAST
@given(descriptions())
def test_jaas_strings_are_well_formed_and_round_trip_secrets(desc):
    values = set(security.secret_values(desc))
    for node in NODES:
        for key, value in security.server_properties(desc, node).items():
            if key.endswith("sasl.jaas.config"):
                module, options = parse_jaas(value)
                assert module in security.LOGIN_MODULES.values()
                for name, option in options.items():
                    if name in ("password", "clientSecret") or name.startswith("user_"):
                        assert option in values


@FAST
@given(descriptions())
def test_no_secret_leaks_into_a_non_secret_property(desc):
    values = security.secret_values(desc)
    assert values and all(value.startswith(SECRET_PREFIX) for value in values)
    outputs = [security.server_properties(desc, node) for node in NODES]
    canonical = security.normalize(desc)
    for listener in canonical["listeners"]:
        if listener["name"] == canonical["controller_listener"]:
            continue
        for client in security.CLIENT_KINDS:
            outputs.append(security.client_properties(desc, client, listener=listener["name"], identity="admin",
                                                      host="h1"))
    outputs.append(security.zookeeper_properties(desc, {"host": "z1"}))
    for props in outputs:
        for key, value in props.items():
            if not security.is_secret_property(key):
                assert SECRET_PREFIX not in value, key


@FAST
@given(descriptions())
def test_normalize_is_idempotent_and_keeps_the_input(desc):
    import copy
    before = copy.deepcopy(desc)
    once = security.normalize(desc)
    assert desc == before
    assert security.normalize(once) == once


@FAST
@given(descriptions(), st.data())
def test_sasl_on_a_non_sasl_protocol_is_always_rejected(desc, data):
    index = data.draw(st.integers(min_value=0, max_value=len(desc["listeners"]) - 1))
    desc["listeners"][index]["protocol"] = data.draw(st.sampled_from(["PLAINTEXT", "SSL"]))
    desc["listeners"][index]["authentication"] = data.draw(st.sampled_from(SASL))
    try:
        security.normalize(desc)
    except SecurityConfigError as error:
        assert str(error).startswith("platform_security.listeners[%d].authentication: " % index)
        assert "needs protocol SASL_PLAINTEXT or SASL_SSL" in str(error)
    else:
        raise AssertionError("accepted a SASL mechanism on a non-SASL protocol")


@FAST
@given(descriptions(), st.data())
def test_a_duplicate_port_is_always_rejected(desc, data):
    first, second = data.draw(st.lists(st.integers(min_value=0, max_value=len(desc["listeners"]) - 1),
                                       min_size=2, max_size=2, unique=True).map(sorted))
    desc["listeners"][second]["port"] = desc["listeners"][first]["port"]
    try:
        security.normalize(desc)
    except SecurityConfigError as error:
        assert str(error) == "platform_security.listeners[%d].port: duplicate port %d (also used by %s)" % (
            second, desc["listeners"][first]["port"], desc["listeners"][first]["name"])
    else:
        raise AssertionError("accepted a duplicate port")


@FAST
@given(descriptions())
def test_scram_arguments_name_every_password_user(desc):
    canonical = security.normalize(desc)
    scram = {a for lsn in canonical["listeners"] for a in lsn["authentication"] if a.startswith("scram")}
    try:
        entries = security.scram_credentials(desc)
    except SecurityConfigError as error:
        assert "kafka-storage --add-scram" in str(error)
        return
    users = {"broker", "controller", "admin", "app0", "app1", "app2"}
    assert {(e["mechanism"], e["username"]) for e in entries} == {(m.upper(), u) for m in scram for u in users}
    for entry in entries:
        assert entry["no_log"] is True
        assert re.match(r"^SCRAM-SHA-(256|512)=\[name=[^,]+,password=[^,]+\]$", entry["argument"])
