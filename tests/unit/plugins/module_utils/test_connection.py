# Copyright: kafkaops.platform contributors
# Apache-2.0 (see LICENSE)
"""Tests of the client connection options (module_utils/connection.py): the environment fallbacks,
what kafka-python is given, client-only platform descriptions, and which values are hidden."""

from __future__ import annotations

import json
import os
import pathlib
import stat

import pytest

from ansible_collections.kafkaops.platform.plugins.module_utils import connection as cn
from ansible_collections.kafkaops.platform.plugins.module_utils.kafka_admin import KafkaAdminError, client_config
from ansible_collections.kafkaops.platform.plugins.module_utils.security import SecurityConfigError
from ansible_collections.kafkaops.platform.plugins.modules import kafka_topic
from ansible_collections.kafkaops.platform.tests.unit.plugins.modules.utils import module_args

PEM_CA = "-----BEGIN CERTIFICATE-----\nMIIBfake\n-----END CERTIFICATE-----\n"
PEM_KEY = "-----BEGIN PRIVATE KEY-----\nMIIEfake\n-----END PRIVATE KEY-----\n"

# what a user's inventory holds with platform_tls_internal_ca: true (no key stores: the roles add them)
INVENTORY_SASL_SSL = {
    "listeners": [
        {"name": "CONTROLLER", "port": 9093, "protocol": "SASL_SSL", "authentication": "plain"},
        {"name": "INTERNAL", "port": 9091, "protocol": "SASL_SSL", "authentication": "scram-sha-512"},
        {"name": "CLIENT", "port": 9092, "protocol": "SASL_SSL", "authentication": "scram-sha-512"},
    ],
    "authorizer": {"enabled": True, "super_users": ["User:admin"]},
    "credentials": {"admin": {"username": "admin", "password": "admin-secret-1"},
                    "broker": {"username": "broker", "password": "broker-secret-2"},
                    "controller": {"username": "controller", "password": "controller-secret-3"}},
}


def options(**given):
    full = {name: None for name in cn.ENVIRONMENT}
    full.update(given)
    return full


def writer(folder):
    def write(option, text):
        path = os.path.join(str(folder), option + ".pem")
        with open(path, "w") as handle:
            handle.write(text)
        return path
    return write


# -- secrets -----------------------------------------------------------------------------------

def test_secret_leaves_finds_every_secret_and_nothing_else():
    description = dict(INVENTORY_SASL_SSL, tls={"keystore": {"type": "PEM", "certificate_chain": PEM_CA, "key": PEM_KEY,
                                                             "key_password": "kp"}},
                       oauthbearer={"token_endpoint_url": "https://idp:8443/token"})
    description["credentials"] = dict(description["credentials"], users=[{"client_id": "app", "client_secret": "cs"}])
    found = cn.secret_leaves(description)
    assert found == {"admin-secret-1", "broker-secret-2", "controller-secret-3", PEM_KEY, "kp", "cs"}
    assert cn.secret_leaves(None) == set() and cn.secret_leaves("password") == set()
    # a refused description still has its secrets found: the walk does not validate
    assert cn.secret_leaves({"listeners": "nonsense", "credentials": {"admin": {"password": "x1"}}}) == {"x1"}


# -- the environment ------------------------------------------------------------------------------

def test_environment_fills_the_options_not_given():
    environ = {"KAFKA_BOOTSTRAP_SERVERS": "b1:9093, b2:9093", "KAFKA_SECURITY_PROTOCOL": "sasl_ssl",
               "KAFKA_SASL_MECHANISM": "scram-sha-512", "KAFKA_SASL_USERNAME": "app", "KAFKA_SASL_PASSWORD": "pw",
               "KAFKA_SSL_CHECK_HOSTNAME": "no", "KAFKA_REQUEST_TIMEOUT": "12", "KAFKA_SSL_CA": ""}
    resolved = cn.resolve_options(options(sasl_username="given"), environ)
    assert resolved["bootstrap_servers"] == ["b1:9093", "b2:9093"]
    assert (resolved["security_protocol"], resolved["sasl_mechanism"]) == ("SASL_SSL", "SCRAM-SHA-512")
    assert (resolved["sasl_username"], resolved["sasl_password"]) == ("given", "pw")
    assert resolved["ssl_check_hostname"] is False and resolved["request_timeout"] == 12
    assert resolved["ssl_ca"] is None  # an empty variable counts as unset


def test_with_a_platform_description_the_environment_gives_only_servers_and_timeout():
    environ = {"KAFKA_BOOTSTRAP_SERVERS": "b1:9093", "KAFKA_SASL_USERNAME": "other", "KAFKA_SASL_PASSWORD": "pw",
               "KAFKA_REQUEST_TIMEOUT": "9"}
    resolved = cn.resolve_options(options(security=INVENTORY_SASL_SSL), environ)
    assert resolved["bootstrap_servers"] == ["b1:9093"] and resolved["request_timeout"] == 9
    assert resolved["sasl_username"] is None and resolved["sasl_password"] is None


@pytest.mark.parametrize("environ, message", [
    ({}, "no bootstrap servers: set bootstrap_servers (host:port list) or KAFKA_BOOTSTRAP_SERVERS"),
    ({"KAFKA_BOOTSTRAP_SERVERS": " , "}, "KAFKA_BOOTSTRAP_SERVERS is set but names no server"),
    ({"KAFKA_BOOTSTRAP_SERVERS": "b:1", "KAFKA_SSL_CHECK_HOSTNAME": "maybe"}, "KAFKA_SSL_CHECK_HOSTNAME must be true or false"),
    ({"KAFKA_BOOTSTRAP_SERVERS": "b:1", "KAFKA_REQUEST_TIMEOUT": "soon"}, "KAFKA_REQUEST_TIMEOUT must be a whole number"),
    ({"KAFKA_BOOTSTRAP_SERVERS": "b:1", "KAFKA_REQUEST_TIMEOUT": "0"}, "request_timeout must be at least 1 second"),
    ({"KAFKA_BOOTSTRAP_SERVERS": "b:1", "KAFKA_SECURITY_PROTOCOL": "TLS"}, "KAFKA_SECURITY_PROTOCOL must be one of"),
    ({"KAFKA_BOOTSTRAP_SERVERS": "b:1", "KAFKA_SASL_MECHANISM": "GSSAPI"}, "KAFKA_SASL_MECHANISM must be one of"),
])
def test_unusable_environment_values_are_named(environ, message):
    with pytest.raises(cn.ConnectionOptionError) as caught:
        cn.resolve_options(options(), environ)
    assert str(caught.value).startswith(message)


def test_a_module_that_plans_offline_needs_no_server():
    assert cn.resolve_options(options(), {}, require_bootstrap=False)["bootstrap_servers"] is None


# -- what kafka-python is given ------------------------------------------------------------------

def test_plain_options_infer_the_protocol(tmp_path):
    ca = tmp_path / "ca.crt"
    ca.write_text(PEM_CA)
    write = writer(tmp_path)
    assert cn.client_settings(options(), None, write) == {"security_protocol": "PLAINTEXT"}
    assert cn.client_settings(options(ssl_ca=str(ca)), None, write) == {"security_protocol": "SSL", "ssl_cafile": str(ca)}
    sasl = options(sasl_mechanism="SCRAM-SHA-256", sasl_username="u", sasl_password="p")
    assert cn.client_settings(sasl, None, write) == {"security_protocol": "SASL_PLAINTEXT", "sasl_mechanism": "SCRAM-SHA-256",
                                                     "sasl_plain_username": "u", "sasl_plain_password": "p"}
    both = dict(sasl, ssl_ca=PEM_CA, ssl_check_hostname=False)
    config = cn.client_settings(both, None, write)
    assert config["security_protocol"] == "SASL_SSL" and config["ssl_check_hostname"] is False
    assert pathlib.Path(config["ssl_cafile"]).read_text() == PEM_CA


@pytest.mark.parametrize("given, message", [
    ({"security_protocol": "PLAINTEXT", "sasl_username": "u", "sasl_password": "p"},
     "sasl_username, sasl_password given, but the security protocol is PLAINTEXT: use SASL_PLAINTEXT or SASL_SSL"),
    ({"security_protocol": "SASL_PLAINTEXT", "ssl_ca": PEM_CA, "sasl_mechanism": "PLAIN", "sasl_username": "u",
      "sasl_password": "p"}, "ssl_ca given, but the security protocol is SASL_PLAINTEXT: use SSL or SASL_SSL"),
    ({"sasl_username": "u"}, "sasl_username and sasl_password go together"),
    ({"security_protocol": "SASL_SSL"}, "security protocol SASL_SSL needs sasl_mechanism, sasl_username, sasl_password "
                                        "(or KAFKA_SASL_MECHANISM, KAFKA_SASL_USERNAME, KAFKA_SASL_PASSWORD)"),
    ({"ssl_key": PEM_KEY}, "ssl_key and ssl_key_password need ssl_cert"),
    ({"ssl_ca": "/nonexistent/ca.crt"}, "ssl_ca: no file /nonexistent/ca.crt on the host that runs the module"),
])
def test_option_sets_that_cannot_work_are_refused(tmp_path, given, message):
    with pytest.raises(cn.ConnectionOptionError) as caught:
        cn.client_settings(options(**given), None, writer(tmp_path))
    assert str(caught.value).startswith(message)


def test_inline_pem_goes_to_private_files_removed_later():
    files = cn.PemFiles()
    path = files("ssl_key", PEM_KEY.rstrip("\n"))
    assert pathlib.Path(path).read_text() == PEM_KEY
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert stat.S_IMODE(os.stat(os.path.dirname(path)).st_mode) == 0o700
    assert files("ssl_cert", PEM_CA).startswith(os.path.dirname(path))


# -- the platform description read as a client's -------------------------------------------------------

def test_the_inventory_description_with_the_internal_ca_works_for_a_client(tmp_path):
    """The roles add the servers' key stores; a client needs none of them, only the CA."""
    with pytest.raises(SecurityConfigError, match="needs a keystore"):
        from ansible_collections.kafkaops.platform.plugins.module_utils import security
        security.normalize(INVENTORY_SASL_SSL)  # as a server description it is incomplete
    ca = tmp_path / "ca.crt"
    ca.write_text(PEM_CA)
    config = client_config(INVENTORY_SASL_SSL, options={"ssl_ca": str(ca)})
    assert config == {"security_protocol": "SASL_SSL", "sasl_mechanism": "SCRAM-SHA-512", "sasl_plain_username": "admin",
                      "sasl_plain_password": "admin-secret-1", "ssl_check_hostname": True, "ssl_cafile": str(ca)}


def test_a_client_only_description_is_valid():
    """No controller listener, no server key store, no broker credentials: what a user of MSK writes."""
    description = {"listeners": [{"name": "IAM", "port": 9096, "protocol": "SASL_SSL", "authentication": "scram-sha-512"}],
                   "tls": {"ca_file": "/etc/ssl/certs/ca-certificates.crt"},
                   "credentials": {"admin": {"username": "ops", "password": "pw"}}}
    config = client_config(description)
    assert config["security_protocol"] == "SASL_SSL" and config["sasl_plain_username"] == "ops"
    assert config["ssl_cafile"] == "/etc/ssl/certs/ca-certificates.crt"


def test_explicit_options_replace_the_description_parts_they_name(tmp_path):
    cert = tmp_path / "client.pem"
    cert.write_text(PEM_CA + PEM_KEY)
    mtls = {"listeners": [{"name": "CLIENT", "port": 9094, "protocol": "SSL", "authentication": "mtls"}],
            "tls": {"truststore": {"type": "JKS", "path": "/x/trust.jks", "password": "tp"}}}
    with pytest.raises(SecurityConfigError, match="needs an identity with a keystore"):
        client_config(mtls)
    config = client_config(mtls, options={"ssl_ca": PEM_CA, "ssl_cert": str(cert)})
    assert config["ssl_certfile"] == str(cert) and pathlib.Path(config["ssl_cafile"]).read_text() == PEM_CA
    scram = client_config(INVENTORY_SASL_SSL, options={"sasl_username": "app", "sasl_password": "app-pw", "ssl_ca": PEM_CA})
    assert (scram["sasl_mechanism"], scram["sasl_plain_username"], scram["sasl_plain_password"]) == (
        "SCRAM-SHA-512", "app", "app-pw")


def test_identity_without_a_description_is_refused():
    with pytest.raises(KafkaAdminError, match="identity names a part of the platform description, but security is not given"):
        client_config({}, identity="admin")


# -- the module: readable output, no secret ------------------------------------------------------------

def run_real(args, capsys):
    """Run kafka_topic's main() for real (Ansible's own exit path, which hides the no-log values)."""
    with module_args(args), pytest.raises(SystemExit):
        kafka_topic.main()
    return json.loads(capsys.readouterr().out)


def test_an_error_shows_ports_listeners_and_protocols_and_no_secret(capsys, tmp_path):
    ca = tmp_path / "ca.crt"
    ca.write_text(PEM_CA)
    # nothing listens on 127.0.0.1:9; the description's CLIENT listener is port 9092
    result = run_real({"bootstrap_servers": ["127.0.0.1:9"], "security": INVENTORY_SASL_SSL, "listener": "CLIENT",
                       "ssl_ca": str(ca), "name": "orders", "request_timeout": 2}, capsys)
    text = json.dumps(result)
    assert result["failed"] is True
    assert result["msg"].startswith("cannot connect to 127.0.0.1:9")
    for secret in ("admin-secret-1", "broker-secret-2", "controller-secret-3"):
        assert secret not in text
    listeners = result["invocation"]["module_args"]["security"]["listeners"]
    assert listeners[2] == INVENTORY_SASL_SSL["listeners"][2]  # port, name, protocol, mechanism in clear
    hidden = {"username": "admin", "password": "VALUE_SPECIFIED_IN_NO_LOG_PARAMETER"}
    assert result["invocation"]["module_args"]["security"]["credentials"]["admin"] == hidden


def test_a_refused_parameter_hides_the_description_secrets(capsys):
    result = run_real({"bootstrap_servers": ["127.0.0.1:9"], "security": INVENTORY_SASL_SSL, "name": "orders",
                       "partitions": "many"}, capsys)
    assert "partitions" in result["msg"] and "admin-secret-1" not in json.dumps(result)


def test_a_password_from_the_environment_is_hidden(capsys, monkeypatch):
    monkeypatch.setenv("KAFKA_SASL_PASSWORD", "env-secret-4")
    monkeypatch.setenv("KAFKA_SASL_USERNAME", "app")
    monkeypatch.setenv("KAFKA_SASL_MECHANISM", "PLAIN")
    result = run_real({"bootstrap_servers": ["127.0.0.1:9"], "name": "orders env-secret-4", "request_timeout": 2}, capsys)
    assert result["failed"] is True and "env-secret-4" not in json.dumps(result)
    assert result["invocation"]["module_args"]["sasl_username"] == "app"
    assert result["msg"].startswith("name: 'orders ********' is not a topic name")
