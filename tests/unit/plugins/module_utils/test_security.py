# Copyright: kafkaops.platform contributors
# Apache-2.0 (see LICENSE)
"""Unit tests of the security model: defaults, exact outputs, every protocol x authentication, errors."""

from __future__ import annotations

import copy

import pytest

from ansible_collections.kafkaops.platform.plugins.module_utils import security
from ansible_collections.kafkaops.platform.plugins.module_utils.security import SecurityConfigError

BROKER = {"roles": ["broker"], "host": "kafka-1.example.com"}
CONTROLLER = {"roles": ["controller"], "host": "kafka-1.example.com"}
COMBINED = {"roles": ["broker", "controller"], "host": "kafka-1.example.com"}
ZK_BROKER = {"roles": ["broker"], "host": "kafka-1.example.com", "zookeeper_mode": True}

KEYSTORE = {"path": "/etc/kafka/tls/{host}.p12", "password": "ks-secret"}
TRUSTSTORE = {"path": "/etc/kafka/tls/truststore.p12", "password": "ts-secret"}
PEM_CHAIN = "-----BEGIN CERTIFICATE-----\nMIIBchain\n-----END CERTIFICATE-----\n"
PEM_KEY = "-----BEGIN PRIVATE KEY-----\nMIIEkey\n-----END PRIVATE KEY-----\n"

SCRAM = "org.apache.kafka.common.security.scram.ScramLoginModule"
PLAIN = "org.apache.kafka.common.security.plain.PlainLoginModule"
OAUTH = "org.apache.kafka.common.security.oauthbearer.OAuthBearerLoginModule"
KRB5 = "com.sun.security.auth.module.Krb5LoginModule"

SASL = ["plain", "scram-sha-256", "scram-sha-512", "oauthbearer", "gssapi"]
MECHANISM = {"plain": "PLAIN", "scram-sha-256": "SCRAM-SHA-256", "scram-sha-512": "SCRAM-SHA-512",
             "oauthbearer": "OAUTHBEARER", "gssapi": "GSSAPI"}


def full_credentials():
    """Identities with material for every mechanism, so any listener combination has credentials."""
    return {
        "broker": {"username": "broker", "password": "broker-secret", "client_id": "broker-app", "client_secret": "broker-oauth"},
        "controller": {"username": "controller", "password": "controller-secret",
                       "client_id": "controller-app", "client_secret": "controller-oauth"},
        "admin": {"username": "admin", "password": "admin-secret", "client_id": "admin-app", "client_secret": "admin-oauth",
                  "principal": "admin@EXAMPLE.COM", "keytab": "/etc/security/admin.keytab",
                  "keystore": {"path": "/etc/kafka/tls/admin.pem", "type": "PEM", "key_password": "admin-key-secret"}},
        "users": [{"username": "connect", "password": "connect-secret"}],
    }


def description(client=("SASL_SSL", "scram-sha-512"), internal=("SSL", "mtls"), controller=("SSL", "mtls"), **extra):
    result = {
        "listeners": [
            {"name": "CLIENT", "port": 9092, "protocol": client[0], "authentication": client[1]},
            {"name": "INTERNAL", "port": 9091, "protocol": internal[0], "authentication": internal[1]},
            {"name": "CONTROLLER", "port": 9093, "protocol": controller[0], "authentication": controller[1]},
        ],
        "tls": {"keystore": dict(KEYSTORE), "truststore": dict(TRUSTSTORE)},
        "credentials": full_credentials(),
        "kerberos": {"principal": "kafka/{host}@EXAMPLE.COM", "keytab": "/etc/security/kafka.keytab"},
        "oauthbearer": {"token_endpoint_url": "https://idp.example.com/token",
                        "jwks_endpoint_url": "https://idp.example.com/jwks", "expected_audience": ["kafka"]},
    }
    result.update(extra)
    return result


def error_of(function, *args, **kwargs):
    with pytest.raises(SecurityConfigError) as info:
        function(*args, **kwargs)
    return str(info.value)


# ---------------------------------------------------------------------------------------
# Defaults
# ---------------------------------------------------------------------------------------

class TestDefaults:
    def test_default_constant_is_the_documented_layout(self):
        assert security.DEFAULT_SECURITY["listeners"] == [
            {"name": "CLIENT", "port": 9092, "protocol": "PLAINTEXT", "authentication": "none"},
            {"name": "INTERNAL", "port": 9091, "protocol": "PLAINTEXT", "authentication": "none"},
            {"name": "CONTROLLER", "port": 9093, "protocol": "PLAINTEXT", "authentication": "none"},
        ]
        assert security.DEFAULT_SECURITY["inter_broker_listener"] == "INTERNAL"
        assert security.DEFAULT_SECURITY["controller_listener"] == "CONTROLLER"

    @pytest.mark.parametrize("empty", [None, {}])
    def test_nothing_set_means_the_default(self, empty):
        assert security.normalize(empty) == security.normalize(security.DEFAULT_SECURITY)

    def test_normalize_does_not_modify_its_input(self):
        original = copy.deepcopy(security.DEFAULT_SECURITY)
        security.normalize(security.DEFAULT_SECURITY)
        assert original == security.DEFAULT_SECURITY

    def test_canonical_form_of_the_default(self):
        canonical = security.normalize({})
        assert canonical["inter_broker_listener"] == "INTERNAL"
        assert canonical["controller_listener"] == "CONTROLLER"
        assert canonical["client_listener"] == "CLIENT"
        assert canonical["admin_listener"] == "CLIENT"
        assert canonical["listeners"][0] == {
            "name": "CLIENT", "port": 9092, "protocol": "PLAINTEXT", "authentication": ["none"],
            "advertised_host": None, "advertised_port": 9092, "bind_address": "", "tls": None,
        }
        assert canonical["authorizer"] == {"enabled": False, "super_users": [], "allow_everyone_if_no_acl_found": False}
        assert canonical["zookeeper"]["client_port"] == 2181
        assert canonical["zookeeper"]["tls"] is False

    def test_normalize_is_idempotent(self):
        once = security.normalize(description())
        assert security.normalize(once) == once

    def test_default_combined_node(self):
        assert security.server_properties({}, COMBINED) == {
            "listeners": "CLIENT://:9092,INTERNAL://:9091,CONTROLLER://:9093",
            "advertised.listeners": "CLIENT://kafka-1.example.com:9092,INTERNAL://kafka-1.example.com:9091",
            "listener.security.protocol.map": "CLIENT:PLAINTEXT,INTERNAL:PLAINTEXT,CONTROLLER:PLAINTEXT",
            "inter.broker.listener.name": "INTERNAL",
            "controller.listener.names": "CONTROLLER",
        }

    def test_default_broker_knows_the_controller_listener_but_does_not_open_it(self):
        assert security.server_properties({}, BROKER) == {
            "listeners": "CLIENT://:9092,INTERNAL://:9091",
            "advertised.listeners": "CLIENT://kafka-1.example.com:9092,INTERNAL://kafka-1.example.com:9091",
            "listener.security.protocol.map": "CLIENT:PLAINTEXT,INTERNAL:PLAINTEXT,CONTROLLER:PLAINTEXT",
            "inter.broker.listener.name": "INTERNAL",
            "controller.listener.names": "CONTROLLER",
        }

    def test_default_controller_has_no_advertised_listeners(self):
        assert security.server_properties({}, CONTROLLER) == {
            "listeners": "CONTROLLER://:9093",
            "listener.security.protocol.map": "CONTROLLER:PLAINTEXT",
            "controller.listener.names": "CONTROLLER",
        }

    def test_default_zookeeper_mode_broker(self):
        assert security.server_properties({}, ZK_BROKER) == {
            "listeners": "CLIENT://:9092,INTERNAL://:9091",
            "advertised.listeners": "CLIENT://kafka-1.example.com:9092,INTERNAL://kafka-1.example.com:9091",
            "listener.security.protocol.map": "CLIENT:PLAINTEXT,INTERNAL:PLAINTEXT",
            "inter.broker.listener.name": "INTERNAL",
            "zookeeper.set.acl": "false",
        }

    def test_default_clients(self):
        assert security.client_properties({}, "admin") == {"security.protocol": "PLAINTEXT"}
        assert security.kafka_python_client_config({}) == {"security_protocol": "PLAINTEXT"}
        assert security.scram_credentials({}) == []
        assert security.secret_values({}) == []
        assert security.zookeeper_properties({}) == {"clientPort": "2181"}
        assert security.jaas_file({}, "zookeeper") == ""
        assert security.jaas_file({}, "kafka") == ""


# ---------------------------------------------------------------------------------------
# Exact outputs of representative descriptions
# ---------------------------------------------------------------------------------------

class TestExactServerProperties:
    def test_sasl_ssl_scram_clients_mtls_internal_and_controller_on_a_broker(self):
        props = security.server_properties(description(authorizer={"enabled": True, "super_users": ["User:kafka-broker"]}), BROKER)
        store = {
            "ssl.keystore.location": "/etc/kafka/tls/kafka-1.example.com.p12",
            "ssl.keystore.password": "ks-secret",
            "ssl.keystore.type": "PKCS12",
            "ssl.truststore.location": "/etc/kafka/tls/truststore.p12",
            "ssl.truststore.password": "ts-secret",
            "ssl.truststore.type": "PKCS12",
        }
        expected = {
            "listeners": "CLIENT://:9092,INTERNAL://:9091",
            "advertised.listeners": "CLIENT://kafka-1.example.com:9092,INTERNAL://kafka-1.example.com:9091",
            "listener.security.protocol.map": "CLIENT:SASL_SSL,INTERNAL:SSL,CONTROLLER:SSL",
            "inter.broker.listener.name": "INTERNAL",
            "controller.listener.names": "CONTROLLER",
            "listener.name.client.sasl.enabled.mechanisms": "SCRAM-SHA-512",
            "listener.name.client.scram-sha-512.sasl.jaas.config": SCRAM + " required;",
            "listener.name.internal.ssl.client.auth": "required",
            "ssl.endpoint.identification.algorithm": "https",
            "authorizer.class.name": "org.apache.kafka.metadata.authorizer.StandardAuthorizer",
            "allow.everyone.if.no.acl.found": "false",
            "super.users": "User:kafka-broker;User:broker;User:controller;User:admin",
        }
        for listener in ("client", "internal", "controller"):
            expected.update({"listener.name.%s.%s" % (listener, key): value for key, value in store.items()})
        assert props == expected

    def test_controller_only_node_serves_the_controller_listener_only(self):
        props = security.server_properties(description(controller=("SASL_SSL", "plain")), CONTROLLER)
        assert props["listeners"] == "CONTROLLER://:9093"
        assert "advertised.listeners" not in props
        assert "inter.broker.listener.name" not in props
        assert props["listener.security.protocol.map"] == "CONTROLLER:SASL_SSL"
        assert props["sasl.mechanism.controller.protocol"] == "PLAIN"
        assert props["listener.name.controller.sasl.enabled.mechanisms"] == "PLAIN"
        assert props["listener.name.controller.plain.sasl.jaas.config"] == (
            PLAIN + ' required username="controller" password="controller-secret" '
            'user_controller="controller-secret" user_admin="admin-secret";')
        assert not [key for key in props if key.startswith(("listener.name.client.", "listener.name.internal."))]

    def test_broker_logs_in_to_the_controller_listener_without_serving_it(self):
        props = security.server_properties(description(controller=("SASL_SSL", "plain")), BROKER)
        assert props["sasl.mechanism.controller.protocol"] == "PLAIN"
        assert "listener.name.controller.sasl.enabled.mechanisms" not in props
        assert props["listener.name.controller.plain.sasl.jaas.config"] == (
            PLAIN + ' required username="controller" password="controller-secret";')

    def test_plain_inter_broker_listener_lists_every_user(self):
        props = security.server_properties(description(internal=("SASL_PLAINTEXT", "plain")), BROKER)
        assert props["sasl.mechanism.inter.broker.protocol"] == "PLAIN"
        assert props["listener.name.internal.plain.sasl.jaas.config"] == (
            PLAIN + ' required username="broker" password="broker-secret" user_broker="broker-secret" '
            'user_controller="controller-secret" user_admin="admin-secret" user_connect="connect-secret";')

    def test_scram_inter_broker_listener_carries_the_broker_login(self):
        props = security.server_properties(description(internal=("SASL_SSL", "scram-sha-256")), BROKER)
        assert props["sasl.mechanism.inter.broker.protocol"] == "SCRAM-SHA-256"
        assert props["listener.name.internal.scram-sha-256.sasl.jaas.config"] == (
            SCRAM + ' required username="broker" password="broker-secret";')

    def test_gssapi_uses_the_service_principal_of_the_host(self):
        props = security.server_properties(description(internal=("SASL_SSL", "gssapi")), BROKER)
        assert props["sasl.mechanism.inter.broker.protocol"] == "GSSAPI"
        assert props["sasl.kerberos.service.name"] == "kafka"
        assert props["listener.name.internal.gssapi.sasl.jaas.config"] == (
            KRB5 + ' required useKeyTab=true storeKey=true keyTab="/etc/security/kafka.keytab" '
            'principal="kafka/kafka-1.example.com@EXAMPLE.COM";')

    def test_oauthbearer_server_and_inter_broker_client(self):
        props = security.server_properties(description(internal=("SASL_SSL", "oauthbearer")), BROKER)
        prefix = "listener.name.internal.oauthbearer."
        assert props[prefix + "sasl.jaas.config"] == OAUTH + ' required clientId="broker-app" clientSecret="broker-oauth";'
        assert props[prefix + "sasl.server.callback.handler.class"] == security.OAUTH_VALIDATOR_HANDLER
        assert props[prefix + "sasl.login.callback.handler.class"] == security.OAUTH_LOGIN_HANDLER
        assert props["sasl.oauthbearer.jwks.endpoint.url"] == "https://idp.example.com/jwks"
        assert props["sasl.oauthbearer.expected.audience"] == "kafka"
        assert props["sasl.oauthbearer.token.endpoint.url"] == "https://idp.example.com/token"

    def test_client_only_oauthbearer_listener_validates_tokens_without_logging_in(self):
        props = security.server_properties(description(client=("SASL_SSL", "oauthbearer")), BROKER)
        assert props["listener.name.client.oauthbearer.sasl.jaas.config"] == OAUTH + " required;"
        assert "listener.name.client.oauthbearer.sasl.login.callback.handler.class" not in props
        assert "sasl.oauthbearer.token.endpoint.url" not in props

    def test_several_mechanisms_on_one_listener(self):
        props = security.server_properties(description(client=("SASL_SSL", ["scram-sha-512", "plain", "mtls"])), BROKER)
        assert props["listener.name.client.sasl.enabled.mechanisms"] == "SCRAM-SHA-512,PLAIN"
        assert props["listener.name.client.scram-sha-512.sasl.jaas.config"] == SCRAM + " required;"
        assert props["listener.name.client.plain.sasl.jaas.config"].startswith(PLAIN + ' required user_broker="broker-secret"')
        assert props["listener.name.client.ssl.client.auth"] == "required"

    def test_advertised_overrides(self):
        desc = description()
        desc["listeners"].append({"name": "EXTERNAL", "port": 9094, "protocol": "SASL_SSL", "authentication": "scram-sha-512",
                                  "advertised_host": "kafka.example.com", "advertised_port": 443, "bind_address": "::"})
        node = dict(BROKER, advertised={"CLIENT": {"host": "b1.k8s.example.com", "port": 31092}})
        props = security.server_properties(desc, node)
        assert props["listeners"] == "CLIENT://:9092,INTERNAL://:9091,EXTERNAL://[::]:9094"
        assert props["advertised.listeners"] == (
            "CLIENT://b1.k8s.example.com:31092,INTERNAL://kafka-1.example.com:9091,EXTERNAL://kafka.example.com:443")

    def test_inline_pem_material(self):
        desc = description(tls={"keystore": {"certificate_chain": PEM_CHAIN, "key": PEM_KEY, "key_password": "pem-key-secret"},
                                "truststore": {"certificates": PEM_CHAIN}})
        props = security.server_properties(desc, BROKER)
        assert props["listener.name.internal.ssl.keystore.type"] == "PEM"
        assert props["listener.name.internal.ssl.keystore.certificate.chain"] == PEM_CHAIN
        assert props["listener.name.internal.ssl.keystore.key"] == PEM_KEY
        assert props["listener.name.internal.ssl.key.password"] == "pem-key-secret"
        assert props["listener.name.internal.ssl.truststore.certificates"] == PEM_CHAIN
        assert props["listener.name.internal.ssl.truststore.type"] == "PEM"
        assert "listener.name.internal.ssl.keystore.password" not in props
        assert "listener.name.internal.ssl.keystore.location" not in props

    def test_listener_tls_block_overrides_the_global_one(self):
        desc = description()
        desc["listeners"][0]["tls"] = {"keystore": {"path": "/etc/kafka/public.jks", "type": "JKS", "password": "public-secret"}}
        props = security.server_properties(desc, BROKER)
        assert props["listener.name.client.ssl.keystore.location"] == "/etc/kafka/public.jks"
        assert props["listener.name.client.ssl.keystore.type"] == "JKS"
        assert props["listener.name.client.ssl.truststore.location"] == "/etc/kafka/tls/truststore.p12"
        assert props["listener.name.internal.ssl.keystore.type"] == "PKCS12"

    def test_tls_options_and_principal_rules(self):
        desc = description(principal_mapping={"ssl": ["RULE:^CN=(.*?),OU=.*$/$1/L", "DEFAULT"],
                                              "kerberos": ["RULE:[1:$1@$0](.*@EXAMPLE.COM)s/@.*//", "DEFAULT"]})
        desc["tls"].update({"endpoint_identification": False, "protocols": ["TLSv1.3"], "cipher_suites": ["TLS_AES_256_GCM_SHA384"]})
        props = security.server_properties(desc, BROKER)
        assert props["ssl.endpoint.identification.algorithm"] == ""
        assert props["ssl.enabled.protocols"] == "TLSv1.3"
        assert props["ssl.cipher.suites"] == "TLS_AES_256_GCM_SHA384"
        assert props["ssl.principal.mapping.rules"] == "RULE:^CN=(.*?),OU=.*$/$1/L,DEFAULT"
        assert props["sasl.kerberos.principal.to.local.rules"] == "RULE:[1:$1@$0](.*@EXAMPLE.COM)s/@.*//,DEFAULT"

    def test_zookeeper_mode_broker_with_tls_to_zookeeper(self):
        desc = description(authorizer={"enabled": True},
                           zookeeper={"tls": True, "secure_client_port": 2182, "client_port": None, "authentication": "mtls"})
        props = security.server_properties(desc, ZK_BROKER)
        assert props["authorizer.class.name"] == "kafka.security.authorizer.AclAuthorizer"
        assert "controller.listener.names" not in props
        assert "CONTROLLER" not in props["listener.security.protocol.map"]
        assert not [key for key in props if key.startswith("listener.name.controller.")]
        zk = {key: value for key, value in props.items() if key.startswith("zookeeper.")}
        assert zk == {
            "zookeeper.set.acl": "true",
            "zookeeper.ssl.client.enable": "true",
            "zookeeper.clientCnxnSocket": "org.apache.zookeeper.ClientCnxnSocketNetty",
            "zookeeper.ssl.keystore.location": "/etc/kafka/tls/kafka-1.example.com.p12",
            "zookeeper.ssl.keystore.type": "PKCS12",
            "zookeeper.ssl.keystore.password": "ks-secret",
            "zookeeper.ssl.truststore.location": "/etc/kafka/tls/truststore.p12",
            "zookeeper.ssl.truststore.type": "PKCS12",
            "zookeeper.ssl.truststore.password": "ts-secret",
            "zookeeper.ssl.endpoint.identification.algorithm": "HTTPS",
        }

    def test_values_are_strings(self):
        for node in (BROKER, CONTROLLER, COMBINED):
            props = security.server_properties(description(), node)
            assert all(isinstance(key, str) and isinstance(value, str) for key, value in props.items())

    def test_jaas_values_are_escaped_for_kafkas_parser(self):
        desc = description(internal=("SASL_SSL", "scram-sha-512"))
        desc["credentials"]["broker"]["password"] = 'se"cr\\et'
        props = security.server_properties(desc, BROKER)
        assert props["listener.name.internal.scram-sha-512.sasl.jaas.config"] == (
            SCRAM + ' required username="broker" password="se\\"cr\\\\et";')


# ---------------------------------------------------------------------------------------
# Every listener protocol x authentication
# ---------------------------------------------------------------------------------------

VALID = [("PLAINTEXT", "none"), ("SSL", "none"), ("SSL", "mtls")]
VALID += [(protocol, mechanism) for protocol in ("SASL_PLAINTEXT", "SASL_SSL") for mechanism in SASL]
VALID += [("SASL_SSL", ["mtls", mechanism]) for mechanism in SASL]

INVALID = []
for _mechanism in SASL:
    for _protocol in ("PLAINTEXT", "SSL"):
        INVALID.append((_protocol, _mechanism, "%s is a SASL mechanism and needs protocol SASL_PLAINTEXT or SASL_SSL, "
                                               "but the protocol is %s" % (_mechanism, _protocol)))
for _protocol in ("PLAINTEXT", "SASL_PLAINTEXT"):
    _authentication = "mtls" if _protocol == "PLAINTEXT" else ["mtls", "plain"]
    INVALID.append((_protocol, _authentication, "mtls needs protocol SSL (or SASL_SSL together with a SASL mechanism), "
                                                "but the protocol is %s" % _protocol))
for _protocol in ("SASL_PLAINTEXT", "SASL_SSL"):
    INVALID.append((_protocol, "none", "protocol %s needs at least one SASL mechanism "
                                       "(plain, scram-sha-256, scram-sha-512, oauthbearer, gssapi)" % _protocol))
INVALID.append(("SASL_SSL", "mtls", "protocol SASL_SSL needs at least one SASL mechanism "
                                    "(plain, scram-sha-256, scram-sha-512, oauthbearer, gssapi)"))
INVALID.append(("SSL", ["none", "mtls"], "none cannot be combined with other authentications"))


def _ids(value):
    return "-".join(value) if isinstance(value, list) else str(value)


class TestEveryCombination:
    def test_the_matrix_covers_every_protocol_and_authentication(self):
        seen = {(p, a) for p, auth, *_rest in VALID + INVALID for a in ([auth] if isinstance(auth, str) else auth)}
        for protocol in security.PROTOCOLS:
            for authentication in security.AUTHENTICATIONS:
                assert (protocol, authentication) in seen

    @pytest.mark.parametrize("protocol,authentication", VALID, ids=[p + "-" + _ids(a) for p, a in VALID])
    def test_valid_combination_on_the_client_listener(self, protocol, authentication):
        props = security.server_properties(description(client=(protocol, authentication)), BROKER)
        auths = [authentication] if isinstance(authentication, str) else authentication
        mechanisms = [MECHANISM[a] for a in auths if a in MECHANISM]
        own = {k[len("listener.name.client."):]: v for k, v in props.items() if k.startswith("listener.name.client.")}
        assert "CLIENT:%s" % protocol in props["listener.security.protocol.map"].split(",")
        if mechanisms:
            assert own.pop("sasl.enabled.mechanisms") == ",".join(mechanisms)
            for mechanism in mechanisms:
                jaas = own.pop(mechanism.lower() + ".sasl.jaas.config")
                assert jaas.startswith(security.LOGIN_MODULES[mechanism] + " required")
                assert jaas.endswith(";")
            if "OAUTHBEARER" in mechanisms:
                assert own.pop("oauthbearer.sasl.server.callback.handler.class") == security.OAUTH_VALIDATOR_HANDLER
        if protocol in ("SSL", "SASL_SSL"):
            assert own.pop("ssl.keystore.location") == "/etc/kafka/tls/kafka-1.example.com.p12"
            assert own.pop("ssl.keystore.password") == "ks-secret"
            assert own.pop("ssl.keystore.type") == "PKCS12"
            assert own.pop("ssl.truststore.location") == "/etc/kafka/tls/truststore.p12"
            assert own.pop("ssl.truststore.password") == "ts-secret"
            assert own.pop("ssl.truststore.type") == "PKCS12"
        if "mtls" in auths:
            assert own.pop("ssl.client.auth") == "required"
        assert own == {}

    @pytest.mark.parametrize("protocol,authentication", VALID, ids=[p + "-" + _ids(a) for p, a in VALID])
    def test_valid_combination_on_the_inter_broker_listener(self, protocol, authentication):
        props = security.server_properties(description(internal=(protocol, authentication)), BROKER)
        auths = [authentication] if isinstance(authentication, str) else authentication
        mechanisms = [MECHANISM[a] for a in auths if a in MECHANISM]
        assert props["inter.broker.listener.name"] == "INTERNAL"
        if mechanisms:
            first = mechanisms[0]
            assert props["sasl.mechanism.inter.broker.protocol"] == first
            jaas = props["listener.name.internal.%s.sasl.jaas.config" % first.lower()]
            login = {"PLAIN": 'username="broker"', "SCRAM-SHA-256": 'username="broker"', "SCRAM-SHA-512": 'username="broker"',
                     "OAUTHBEARER": 'clientId="broker-app"', "GSSAPI": 'principal="kafka/kafka-1.example.com@EXAMPLE.COM"'}[first]
            assert login in jaas
        else:
            assert "sasl.mechanism.inter.broker.protocol" not in props

    @pytest.mark.parametrize("protocol,authentication", VALID, ids=[p + "-" + _ids(a) for p, a in VALID])
    def test_valid_combination_on_the_controller_listener(self, protocol, authentication):
        auths = [authentication] if isinstance(authentication, str) else authentication
        mechanisms = [MECHANISM[a] for a in auths if a in MECHANISM]
        desc = description(controller=(protocol, authentication))
        if mechanisms and mechanisms[0].startswith("SCRAM"):
            message = error_of(security.normalize, desc)
            assert message.startswith("platform_security.listeners[2].authentication: %s cannot be the first mechanism "
                                      "of the controller listener" % mechanisms[0].lower())
            assert "KAFKA-15513" in message
            return
        for node in (BROKER, CONTROLLER, COMBINED):
            props = security.server_properties(desc, node)
            assert props["controller.listener.names"] == "CONTROLLER"
            assert "CONTROLLER:%s" % protocol in props["listener.security.protocol.map"].split(",")
            if mechanisms:
                assert props["sasl.mechanism.controller.protocol"] == mechanisms[0]
                assert "listener.name.controller.%s.sasl.jaas.config" % mechanisms[0].lower() in props
            served = "controller" in node["roles"]
            assert ("listener.name.controller.ssl.client.auth" in props) == (served and "mtls" in auths)

    @pytest.mark.parametrize("protocol,authentication,message", INVALID,
                             ids=[p + "-" + _ids(a) for p, a, _msg in INVALID])
    def test_invalid_combination_is_rejected(self, protocol, authentication, message):
        assert error_of(security.normalize, description(client=(protocol, authentication))) == (
            "platform_security.listeners[0].authentication: " + message)


# ---------------------------------------------------------------------------------------
# Contradictions and typos
# ---------------------------------------------------------------------------------------

def _with(change):
    desc = description()
    change(desc)
    return desc


def _set(path, value):
    def change(desc):
        target = desc
        for key in path[:-1]:
            target = target[key]
        target[path[-1]] = value
    return change


def _delete(path):
    def change(desc):
        target = desc
        for key in path[:-1]:
            target = target[key]
        del target[path[-1]]
    return change


BAD = [
    ("duplicate port", _set(["listeners", 1, "port"], 9092),
     "platform_security.listeners[1].port: duplicate port 9092 (also used by CLIENT)"),
    ("duplicate name", _set(["listeners", 1, "name"], "CLIENT"),
     "platform_security.listeners[1].name: duplicate listener name CLIENT (also listeners[0])"),
    ("lower case name", _set(["listeners", 0, "name"], "client"),
     "platform_security.listeners[0].name: 'client' is not a valid listener name: use upper case letters, "
     "digits and _, starting with a letter"),
    ("name with dash", _set(["listeners", 0, "name"], "CLI-ENT"),
     "platform_security.listeners[0].name: 'CLI-ENT' is not a valid listener name: use upper case letters, "
     "digits and _, starting with a letter"),
    ("port out of range", _set(["listeners", 0, "port"], 70000),
     "platform_security.listeners[0].port: must be between 1 and 65535, got 70000"),
    ("port not a number", _set(["listeners", 0, "port"], "http"),
     "platform_security.listeners[0].port: must be a port number, got 'http'"),
    ("unknown protocol", _set(["listeners", 0, "protocol"], "TLS"),
     "platform_security.listeners[0].protocol: 'TLS' is not a security protocol; use one of PLAINTEXT, SSL, "
     "SASL_PLAINTEXT, SASL_SSL"),
    ("unknown authentication", _set(["listeners", 0, "authentication"], "scram"),
     "platform_security.listeners[0].authentication: 'scram' is not an authentication; use one of none, mtls, plain, "
     "scram-sha-256, scram-sha-512, oauthbearer, gssapi"),
    ("authentication twice", _set(["listeners", 0, "authentication"], ["plain", "plain"]),
     "platform_security.listeners[0].authentication[1]: plain is listed twice"),
    ("missing SASL mechanism", _delete(["listeners", 0, "authentication"]),
     "platform_security.listeners[0].authentication: is required for protocol SASL_SSL: name the SASL mechanism(s), "
     "e.g. scram-sha-512"),
    ("typo in a listener key", _set(["listeners", 0, "advertized_host"], "x"),
     "platform_security.listeners[0].advertized_host: unknown key (did you mean advertised_host?); valid keys: "
     "advertised_host, advertised_port, authentication, bind_address, name, port, protocol, tls"),
    ("typo in a top-level key", _set(["inter_broker_listner"], "INTERNAL"),
     "platform_security.inter_broker_listner: unknown key (did you mean inter_broker_listener?); valid keys: "
     "admin_listener, authorizer, client_listener, controller_listener, credentials, inter_broker_listener, kerberos, "
     "listeners, oauthbearer, principal_mapping, tls, zookeeper"),
    ("typo in tls", _set(["tls", "trustore"], {}),
     "platform_security.tls.trustore: unknown key (did you mean truststore?); valid keys: ca_file, cipher_suites, "
     "endpoint_identification, keystore, protocols, truststore"),
    ("missing inter-broker listener", _set(["inter_broker_listener"], "REPLICATION"),
     "platform_security.inter_broker_listener: listener REPLICATION is not defined in platform_security.listeners "
     "(defined: CLIENT, INTERNAL, CONTROLLER)"),
    ("missing controller listener", _set(["controller_listener"], "QUORUM"),
     "platform_security.controller_listener: listener QUORUM is not defined in platform_security.listeners "
     "(defined: CLIENT, INTERNAL, CONTROLLER)"),
    ("default inter-broker listener absent", _set(["listeners", 1, "name"], "REPLICATION"),
     "platform_security.inter_broker_listener: listener INTERNAL (the default) is not defined in "
     "platform_security.listeners (defined: CLIENT, REPLICATION, CONTROLLER)"),
    ("controller listener as inter-broker listener", _set(["inter_broker_listener"], "CONTROLLER"),
     "platform_security.inter_broker_listener: CONTROLLER is the controller listener; brokers must replicate over "
     "a different listener"),
    ("controller listener for clients", _set(["client_listener"], "CONTROLLER"),
     "platform_security.client_listener: CONTROLLER is the controller listener; clients connect to broker listeners"),
    ("TLS without keystore", _delete(["tls", "keystore"]),
     "platform_security.listeners[0]: protocol SASL_SSL needs a keystore: set platform_security.tls.keystore or "
     "platform_security.listeners[0].tls.keystore"),
    ("mTLS without truststore", _delete(["tls", "truststore"]),
     "platform_security.listeners[1]: mtls needs a truststore to verify client certificates: set "
     "platform_security.tls.truststore or platform_security.listeners[1].tls.truststore"),
    ("keystore without password", _delete(["tls", "keystore", "password"]),
     "platform_security.tls.keystore.password: is required for a PKCS12 keystore"),
    ("PEM keystore with a store password", _set(["tls", "keystore"], {"path": "/k.pem", "type": "PEM", "password": "x"}),
     "platform_security.tls.keystore.password: a PEM keystore has no store password; put the private key password "
     "in key_password"),
    ("PEM truststore with a password", _set(["tls", "truststore"], {"path": "/ca.pem", "type": "PEM", "password": "x"}),
     "platform_security.tls.truststore.password: a PEM truststore has no password; remove it"),
    ("keystore path and inline PEM",
     _set(["tls", "keystore"], {"path": "/k.p12", "password": "x", "certificate_chain": PEM_CHAIN, "key": PEM_KEY}),
     "platform_security.tls.keystore: set either path or certificate_chain/key, not both"),
    ("inline chain without key", _set(["tls", "keystore"], {"certificate_chain": PEM_CHAIN}),
     "platform_security.tls.keystore: certificate_chain and key must be given together"),
    ("unknown store type", _set(["tls", "keystore", "type"], "P12"),
     "platform_security.tls.keystore.type: 'P12' is not a store type; use one of PKCS12, JKS, PEM"),
    ("tls block on a plaintext listener", _set(["listeners", 0], {"name": "CLIENT", "port": 9092, "protocol": "PLAINTEXT",
                                                                  "tls": {"keystore": KEYSTORE}}),
     "platform_security.listeners[0].tls: TLS material is only used by SSL and SASL_SSL listeners, but the protocol "
     "is PLAINTEXT"),
    ("SASL inter-broker without broker credentials",
     lambda d: (d["listeners"][1].update(protocol="SASL_SSL", authentication="scram-sha-512"),
                d["credentials"].pop("broker")),
     "platform_security.credentials.broker: username and password is required because brokers replicate over "
     "INTERNAL with SASL mechanism SCRAM-SHA-512"),
    ("SASL controller without controller credentials",
     lambda d: (d["listeners"][2].update(protocol="SASL_SSL", authentication="plain"),
                d["credentials"].pop("controller")),
     "platform_security.credentials.controller: username and password is required because brokers and controllers "
     "talk to the controller quorum over CONTROLLER with SASL mechanism PLAIN"),
    ("OAuth inter-broker without client id",
     lambda d: (d["listeners"][1].update(protocol="SASL_SSL", authentication="oauthbearer"),
                d["credentials"].update(broker={"username": "b", "password": "p"})),
     "platform_security.credentials.broker: client_id and client_secret is required because brokers replicate over "
     "INTERNAL with SASL mechanism OAUTHBEARER"),
    ("admin client without SASL credentials", lambda d: d["credentials"].pop("admin"),
     "platform_security.credentials.admin: username and password is required because this collection's admin client "
     "connects to CLIENT (SASL mechanism SCRAM-SHA-512)"),
    ("admin client on mTLS without keystore", lambda d: (d.update(admin_listener="INTERNAL"),
                                                         d["credentials"]["admin"].pop("keystore")),
     "platform_security.credentials.admin.keystore: is required because this collection's admin client connects "
     "to INTERNAL, which uses mtls"),
    ("gssapi without kerberos section", lambda d: (d["listeners"][0].update(authentication="gssapi"), d.pop("kerberos")),
     "platform_security.kerberos: is required because a listener uses gssapi (the brokers' service principal and keytab)"),
    ("oauthbearer without jwks url", lambda d: (d["listeners"][0].update(authentication="oauthbearer"),
                                                d["oauthbearer"].pop("jwks_endpoint_url")),
     "platform_security.oauthbearer.jwks_endpoint_url: is required because a listener uses oauthbearer (brokers "
     "validate tokens against it)"),
    ("password without username", _set(["credentials", "users"], [{"password": "x"}]),
     "platform_security.credentials.users[0].username: is required with password"),
    ("username without password", _set(["credentials", "users"], [{"username": "x"}]),
     "platform_security.credentials.users[0].password: is required with username"),
    ("duplicate user", _set(["credentials", "users"], [{"username": "x", "password": "a"}, {"username": "x", "password": "a"}]),
     "platform_security.credentials.users[1].username: duplicate user x (also platform_security.credentials.users[0])"),
    ("same user, other password", _set(["credentials", "users"], [{"username": "admin", "password": "other"}]),
     "platform_security.credentials.users[0].password: user admin is also defined in platform_security.credentials.admin "
     "with a different password"),
    ("password as a number", _set(["credentials", "users"], [{"username": "x", "password": 1234}]),
     "platform_security.credentials.users[0].password: must be a string (quote numbers in YAML), got int"),
    ("password with a newline", _set(["credentials", "users"], [{"username": "x", "password": "a\nb"}]),
     "platform_security.credentials.users[0].password: must not contain control characters such as newlines"),
    ("username with a quote", _set(["credentials", "users"], [{"username": 'x"y', "password": "p"}]),
     "platform_security.credentials.users[0].username: 'x\"y' must not contain spaces, quotes, backslashes or any of , ; ="),
    ("bad super user", _set(["authorizer"], {"enabled": True, "super_users": ["admin"]}),
     "platform_security.authorizer.super_users[0]: 'admin' is not a valid principal (TYPE:name, e.g. User:admin)"),
    ("authorizer with anonymous brokers", lambda d: (d["listeners"][1].update(protocol="PLAINTEXT", authentication="none"),
                                                     d.update(authorizer={"enabled": True})),
     "platform_security.authorizer.enabled: the authorizer needs authenticated brokers, but inter broker listener "
     "INTERNAL has no authentication, so brokers would connect as User:ANONYMOUS; use mtls or a SASL mechanism on INTERNAL"),
    ("enabled not a boolean", _set(["authorizer"], {"enabled": "yes"}),
     "platform_security.authorizer.enabled: must be true or false, got 'yes'"),
    ("kerberos rule with a comma", _set(["principal_mapping"], {"kerberos": ["RULE:[2:$1,$2]"]}),
     "platform_security.principal_mapping.kerberos[0]: Kafka reads sasl.kerberos.principal.to.local.rules as a "
     "comma-separated list, so a rule cannot contain a comma"),
    ("ssl rule without RULE:", _set(["principal_mapping"], {"ssl": ["^CN=(.*)$/$1/"]}),
     "platform_security.principal_mapping.ssl[0]: '^CN=(.*)$/$1/' must be DEFAULT or start with RULE:"),
    ("listeners not a list", _set(["listeners"], {"name": "CLIENT"}),
     "platform_security.listeners: must be a non-empty list of listeners"),
    ("description not a mapping", lambda d: None, None),
]


class TestContradictions:
    @pytest.mark.parametrize("change,message", [(c, m) for _name, c, m in BAD if m],
                             ids=[name for name, _change, m in BAD if m])
    def test_rejected_with_a_message_naming_key_and_fix(self, change, message):
        assert error_of(security.normalize, _with(change)) == message

    def test_description_must_be_a_mapping(self):
        assert error_of(security.normalize, ["CLIENT"]) == "platform_security: must be a mapping, got list"

    def test_error_is_a_value_error(self):
        assert issubclass(SecurityConfigError, ValueError)

    def test_messages_never_contain_secrets(self):
        for _name, change, _msg in BAD:
            desc = _with(change)
            try:
                security.normalize(desc)
            except SecurityConfigError as error:
                for secret in ("ks-secret", "ts-secret", "broker-secret", "admin-secret", "controller-secret"):
                    assert secret not in str(error)

    def test_scram_controller_listener_is_rejected(self):
        message = error_of(security.normalize, description(controller=("SASL_SSL", "scram-sha-512")))
        assert message == (
            "platform_security.listeners[2].authentication: scram-sha-512 cannot be the first mechanism of the controller "
            "listener: KRaft controllers cannot authenticate each other with SCRAM (the credentials live in the metadata "
            "log they serve, KAFKA-15513); put plain, gssapi, oauthbearer first or use mtls")

    def test_scram_after_another_mechanism_on_the_controller_listener_is_allowed(self):
        props = security.server_properties(description(controller=("SASL_SSL", ["plain", "scram-sha-512"])), CONTROLLER)
        assert props["sasl.mechanism.controller.protocol"] == "PLAIN"
        assert props["listener.name.controller.sasl.enabled.mechanisms"] == "PLAIN,SCRAM-SHA-512"


class TestNodeErrors:
    def test_zookeeper_mode_controller(self):
        assert error_of(security.server_properties, {}, {"roles": ["controller"], "zookeeper_mode": True}) == (
            "node.roles: a ZooKeeper-mode node is a broker only; controllers exist in KRaft mode")

    def test_unknown_role(self):
        assert error_of(security.server_properties, {}, {"roles": ["worker"]}) == (
            "node.roles: 'worker' is not a role; use broker and/or controller")

    def test_broker_without_host(self):
        assert error_of(security.server_properties, {}, {"roles": ["broker"]}) == (
            "node.host: is required: listener CLIENT has no advertised_host")

    def test_kraft_node_without_controller_listener(self):
        assert error_of(security.server_properties, {"controller_listener": None}, BROKER) == (
            "platform_security.controller_listener: is required for KRaft nodes (set node.zookeeper_mode for a "
            "ZooKeeper-mode broker)")

    def test_zookeeper_mode_without_controller_listener_is_fine(self):
        desc = {"listeners": security.DEFAULT_SECURITY["listeners"][:2], "controller_listener": None}
        assert security.server_properties(desc, ZK_BROKER)["listeners"] == "CLIENT://:9092,INTERNAL://:9091"

    def test_advertised_override_for_unknown_listener(self):
        assert error_of(security.server_properties, {}, dict(BROKER, advertised={"EXTERNAL": {"port": 1}})) == (
            "node.advertised.EXTERNAL: listener EXTERNAL is not defined in platform_security.listeners")

    def test_host_placeholder_without_host(self):
        assert error_of(security.server_properties, description(), {"roles": ["controller"]}) == (
            "platform_security.listeners[2].tls.keystore.path: uses {host} but no host was given")


# ---------------------------------------------------------------------------------------
# Clients
# ---------------------------------------------------------------------------------------

class TestClients:
    def test_admin_over_sasl_ssl_scram(self):
        assert security.client_properties(description(), "admin") == {
            "security.protocol": "SASL_SSL",
            "sasl.mechanism": "SCRAM-SHA-512",
            "sasl.jaas.config": SCRAM + ' required username="admin" password="admin-secret";',
            "ssl.truststore.location": "/etc/kafka/tls/truststore.p12",
            "ssl.truststore.type": "PKCS12",
            "ssl.truststore.password": "ts-secret",
            "ssl.endpoint.identification.algorithm": "https",
        }

    def test_mtls_client_presents_its_keystore(self):
        props = security.client_properties(description(), "producer", listener="INTERNAL", identity="admin")
        assert props == {
            "security.protocol": "SSL",
            "ssl.keystore.location": "/etc/kafka/tls/admin.pem",
            "ssl.keystore.type": "PEM",
            "ssl.key.password": "admin-key-secret",
            "ssl.truststore.location": "/etc/kafka/tls/truststore.p12",
            "ssl.truststore.type": "PKCS12",
            "ssl.truststore.password": "ts-secret",
            "ssl.endpoint.identification.algorithm": "https",
        }

    def test_connect_has_worker_producer_consumer_and_admin_copies(self):
        props = security.client_properties(description(), "connect", identity="connect")
        base = security.client_properties(description(), "producer", identity="connect")
        assert base["sasl.jaas.config"] == SCRAM + ' required username="connect" password="connect-secret";'
        expected = dict(base)
        for prefix in ("producer.", "consumer.", "admin."):
            expected.update({prefix + key: value for key, value in base.items()})
        assert props == expected

    def test_schema_registry_and_ksqldb_prefixes(self):
        base = security.client_properties(description(), "consumer", identity="connect")
        assert security.client_properties(description(), "schema_registry", identity="connect") == {
            "kafkastore." + key: value for key, value in base.items()}
        assert security.client_properties(description(), "ksqldb", identity="connect") == {
            "ksql.streams." + key: value for key, value in base.items()}

    @pytest.mark.parametrize("mechanism,jaas,extra", [
        ("plain", PLAIN + ' required username="admin" password="admin-secret";', {}),
        ("scram-sha-256", SCRAM + ' required username="admin" password="admin-secret";', {}),
        ("oauthbearer", OAUTH + ' required clientId="admin-app" clientSecret="admin-oauth";',
         {"sasl.login.callback.handler.class": security.OAUTH_LOGIN_HANDLER,
          "sasl.oauthbearer.token.endpoint.url": "https://idp.example.com/token"}),
        ("gssapi", KRB5 + ' required useKeyTab=true storeKey=true keyTab="/etc/security/admin.keytab" '
                          'principal="admin@EXAMPLE.COM";', {"sasl.kerberos.service.name": "kafka"}),
    ])
    def test_every_mechanism_for_clients(self, mechanism, jaas, extra):
        props = security.client_properties(description(client=("SASL_PLAINTEXT", mechanism)), "admin")
        assert props == dict({"security.protocol": "SASL_PLAINTEXT", "sasl.mechanism": MECHANISM[mechanism],
                              "sasl.jaas.config": jaas}, **extra)

    def test_mechanism_is_the_first_one_the_identity_can_use(self):
        desc = description(client=("SASL_SSL", ["gssapi", "scram-sha-512"]))
        props = security.client_properties(desc, "producer", identity={"username": "app", "password": "app-secret"})
        assert props["sasl.mechanism"] == "SCRAM-SHA-512"

    def test_identity_given_inline(self):
        props = security.client_properties(description(), "consumer", identity={"username": "app", "password": "pw"})
        assert props["sasl.jaas.config"] == SCRAM + ' required username="app" password="pw";'

    def test_client_errors(self):
        assert error_of(security.client_properties, description(), "spark") == (
            "client: 'spark' is not a client kind; use one of admin, producer, consumer, connect, schema_registry, ksqldb")
        assert error_of(security.client_properties, description(), "producer") == (
            "identity: client producer on listener CLIENT needs an identity with username and password "
            "(listener mechanisms: SCRAM-SHA-512)")
        assert error_of(security.client_properties, description(), "producer", identity="nobody") == (
            "identity: no identity 'nobody' in platform_security.credentials (known: broker, controller, admin, connect)")
        assert error_of(security.client_properties, description(), "producer", listener="NOPE") == (
            "listener: 'NOPE' is not defined in platform_security.listeners (defined: CLIENT, INTERNAL, CONTROLLER)")
        assert error_of(security.client_properties, description(), "producer", listener="INTERNAL", identity="connect") == (
            "identity: client producer on listener INTERNAL needs an identity with a keystore (the listener uses mtls)")

    def test_default_client_listener_skips_controller_and_inter_broker(self):
        desc = {"listeners": [{"name": "CONTROLLER", "port": 9093, "protocol": "PLAINTEXT"},
                              {"name": "INTERNAL", "port": 9091, "protocol": "PLAINTEXT"},
                              {"name": "APPS", "port": 9095, "protocol": "PLAINTEXT"}]}
        canonical = security.normalize(desc)
        assert canonical["client_listener"] == "APPS"
        assert canonical["admin_listener"] == "APPS"


class TestKafkaPython:
    def test_scram_with_pem_ca(self):
        desc = description(tls={"keystore": KEYSTORE, "truststore": {"path": "/etc/kafka/tls/ca.pem", "type": "PEM"}})
        assert security.kafka_python_client_config(desc) == {
            "security_protocol": "SASL_SSL",
            "sasl_mechanism": "SCRAM-SHA-512",
            "sasl_plain_username": "admin",
            "sasl_plain_password": "admin-secret",
            "ssl_check_hostname": True,
            "ssl_cafile": "/etc/kafka/tls/ca.pem",
        }

    def test_mtls_with_pem_identity(self):
        desc = description(tls={"keystore": KEYSTORE, "truststore": TRUSTSTORE, "ca_file": "/etc/kafka/tls/ca.pem",
                                "endpoint_identification": False})
        assert security.kafka_python_client_config(desc, listener="INTERNAL") == {
            "security_protocol": "SSL",
            "ssl_check_hostname": False,
            "ssl_cafile": "/etc/kafka/tls/ca.pem",
            "ssl_certfile": "/etc/kafka/tls/admin.pem",
            "ssl_password": "admin-key-secret",
        }

    def test_gssapi(self):
        config = security.kafka_python_client_config(description(client=("SASL_PLAINTEXT", "gssapi")))
        assert config == {"security_protocol": "SASL_PLAINTEXT", "sasl_mechanism": "GSSAPI",
                          "sasl_kerberos_service_name": "kafka"}

    def test_parameter_names_exist_in_kafka_python(self):
        kafka = pytest.importorskip("kafka")
        from kafka.admin import KafkaAdminClient
        desc = description(tls={"keystore": KEYSTORE, "truststore": TRUSTSTORE, "ca_file": "/ca.pem"})
        for listener in ("CLIENT", "INTERNAL"):
            config = security.kafka_python_client_config(desc, listener=listener)
            assert set(config) <= set(KafkaAdminClient.DEFAULT_CONFIG), kafka.__version__

    def test_errors(self):
        assert error_of(security.kafka_python_client_config, description()) == (
            "platform_security.tls.ca_file: kafka-python reads a PEM CA file only, and the truststore of CLIENT is a "
            "PKCS12 file; set tls.ca_file to a PEM bundle of the same CA")
        assert error_of(security.kafka_python_client_config, description(client=("SASL_SSL", "oauthbearer"))) == (
            "listener: CLIENT offers only OAUTHBEARER for this identity; kafka-python needs a token provider object for "
            "it: point platform_security.admin_listener at a listener with another mechanism")
        desc = description(tls={"keystore": KEYSTORE, "truststore": TRUSTSTORE, "ca_file": "/ca.pem"})
        desc["credentials"]["admin"]["keystore"] = {"path": "/admin.p12", "password": "x"}
        assert error_of(security.kafka_python_client_config, desc, listener="INTERNAL") == (
            "identity.keystore: kafka-python needs a PEM file holding the certificate chain and private key, got a "
            "PKCS12 file")


# ---------------------------------------------------------------------------------------
# ZooKeeper
# ---------------------------------------------------------------------------------------

ZK_FULL = {"tls": True, "secure_client_port": 2182, "client_port": None, "authentication": "digest",
           "quorum_tls": True, "quorum_authentication": "digest",
           "credentials": {"kafka": {"username": "kafka", "password": "zk-kafka-secret"},
                           "quorum": {"username": "zkquorum", "password": "zk-quorum-secret"}}}


class TestZooKeeper:
    def test_full_zoo_cfg(self):
        props = security.zookeeper_properties(description(zookeeper=ZK_FULL), {"host": "zk-1"})
        store = {
            "keyStore.location": "/etc/kafka/tls/zk-1.p12", "keyStore.type": "PKCS12", "keyStore.password": "ks-secret",
            "trustStore.location": "/etc/kafka/tls/truststore.p12", "trustStore.type": "PKCS12",
            "trustStore.password": "ts-secret", "hostnameVerification": "true",
        }
        expected = {
            "secureClientPort": "2182",
            "serverCnxnFactory": "org.apache.zookeeper.server.NettyServerCnxnFactory",
            "ssl.clientAuth": "none",
            "authProvider.sasl": "org.apache.zookeeper.server.auth.SASLAuthenticationProvider",
            "enforce.auth.enabled": "true",
            "enforce.auth.schemes": "sasl",
            "sslQuorum": "true",
            "quorum.auth.enableSasl": "true",
            "quorum.auth.learnerRequireSasl": "true",
            "quorum.auth.serverRequireSasl": "true",
            "quorum.auth.learner.saslLoginContext": "QuorumLearner",
            "quorum.auth.server.saslLoginContext": "QuorumServer",
        }
        expected.update({"ssl." + k: v for k, v in store.items()})
        expected.update({"ssl.quorum." + k: v for k, v in store.items()})
        assert props == expected

    def test_mtls_clients(self):
        zk = {"tls": True, "secure_client_port": 2182, "authentication": "mtls"}
        props = security.zookeeper_properties(description(zookeeper=zk), {"host": "zk-1"})
        assert props["clientPort"] == "2181"
        assert props["ssl.clientAuth"] == "need"
        assert props["authProvider.x509"] == "org.apache.zookeeper.server.auth.X509AuthenticationProvider"
        assert props["enforce.auth.schemes"] == "x509"

    def test_jaas_files(self):
        desc = description(zookeeper=ZK_FULL)
        assert security.jaas_file(desc, "zookeeper") == (
            "Server {\n  org.apache.zookeeper.server.auth.DigestLoginModule required\n"
            '  user_kafka="zk-kafka-secret";\n};\n'
            "QuorumServer {\n  org.apache.zookeeper.server.auth.DigestLoginModule required\n"
            '  user_zkquorum="zk-quorum-secret";\n};\n'
            "QuorumLearner {\n  org.apache.zookeeper.server.auth.DigestLoginModule required\n"
            '  username="zkquorum" password="zk-quorum-secret";\n};\n')
        assert security.jaas_file(desc, "kafka") == (
            "Client {\n  org.apache.zookeeper.server.auth.DigestLoginModule required\n"
            '  username="kafka" password="zk-kafka-secret";\n};\n')
        assert error_of(security.jaas_file, desc, "connect") == "process: 'connect' is not a process; use zookeeper or kafka"

    @pytest.mark.parametrize("zk,message", [
        ({"tls": True}, "platform_security.zookeeper.secure_client_port: is required when tls is true"),
        ({"secure_client_port": 2182}, "platform_security.zookeeper.secure_client_port: is set but tls is false; "
                                       "set tls: true to use it"),
        ({"client_port": None}, "platform_security.zookeeper.client_port: cannot be null unless tls is true "
                                "(clients would have no port)"),
        ({"authentication": "mtls"}, "platform_security.zookeeper.authentication: mtls needs tls: true"),
        ({"authentication": "digest"}, "platform_security.zookeeper.credentials.kafka: is required because "
                                       "authentication is digest (the brokers' ZooKeeper user)"),
        ({"quorum_authentication": "digest"}, "platform_security.zookeeper.credentials.quorum: is required because "
                                              "quorum_authentication is digest"),
        ({"authentication": "kerberos"}, "platform_security.zookeeper.authentication: 'kerberos' is not a ZooKeeper "
                                         "client authentication; use none, mtls or digest"),
        ({"set_acl": True}, "platform_security.zookeeper.set_acl: ZooKeeper ACLs need an authenticated client: set "
                            "authentication to mtls or digest"),
        ({"tls": True, "secure_client_port": 2181}, "platform_security.zookeeper.secure_client_port: duplicate port "
                                                    "2181 (also client_port)"),
        ({"sasl": True}, "platform_security.zookeeper.sasl: unknown key; valid keys: authentication, client_port, "
                         "credentials, keystore, quorum_authentication, quorum_tls, secure_client_port, set_acl, tls, "
                         "truststore"),
    ])
    def test_zookeeper_errors(self, zk, message):
        assert error_of(security.normalize, description(zookeeper=zk)) == message

    def test_zookeeper_needs_files_not_inline_pem(self):
        desc = description(tls={"keystore": {"certificate_chain": PEM_CHAIN, "key": PEM_KEY}, "truststore": TRUSTSTORE},
                           zookeeper={"tls": True, "secure_client_port": 2182})
        assert error_of(security.normalize, desc) == (
            "platform_security.zookeeper.keystore: ZooKeeper reads key material from files only, and "
            "platform_security.tls.keystore holds inline PEM; give platform_security.zookeeper.keystore with a path")


# ---------------------------------------------------------------------------------------
# SCRAM bootstrap, secrets, JVM properties
# ---------------------------------------------------------------------------------------

class TestScramAndSecrets:
    def test_scram_credentials_for_every_scram_mechanism_and_user(self):
        desc = description(client=("SASL_SSL", ["scram-sha-512", "scram-sha-256"]))
        assert security.scram_credentials(desc) == [
            {"mechanism": mechanism, "username": user, "argument": "%s=[name=%s,password=%s]" % (mechanism, user, password),
             "no_log": True}
            for user, password in (("broker", "broker-secret"), ("controller", "controller-secret"),
                                   ("admin", "admin-secret"), ("connect", "connect-secret"))
            for mechanism in ("SCRAM-SHA-512", "SCRAM-SHA-256")]

    def test_no_scram_listener_means_no_scram_users(self):
        assert security.scram_credentials(description(client=("SASL_SSL", "plain"))) == []

    def test_scram_password_that_kafka_storage_would_split(self):
        desc = description()
        desc["credentials"]["users"] = [{"username": "app", "password": "a,b"}]
        assert error_of(security.scram_credentials, desc) == (
            "platform_security.credentials.users[0].password: kafka-storage --add-scram splits on commas and trims "
            "spaces and quotes: a SCRAM name or password cannot contain a comma nor begin or end with a space or a "
            "double quote")

    def test_secret_values(self):
        desc = description(zookeeper=ZK_FULL)
        assert sorted(security.secret_values(desc)) == sorted([
            "ks-secret", "ts-secret", "broker-secret", "broker-oauth", "controller-secret", "controller-oauth",
            "admin-secret", "admin-oauth", "admin-key-secret", "connect-secret", "zk-kafka-secret", "zk-quorum-secret"])

    def test_inline_private_key_is_a_secret(self):
        desc = description(tls={"keystore": {"certificate_chain": PEM_CHAIN, "key": PEM_KEY}, "truststore": TRUSTSTORE})
        assert PEM_KEY in security.secret_values(desc)
        assert PEM_CHAIN not in security.secret_values(desc)

    @pytest.mark.parametrize("key,secret", [
        ("listener.name.client.ssl.keystore.password", True),
        ("listener.name.internal.plain.sasl.jaas.config", True),
        ("kafkastore.sasl.jaas.config", True),
        ("listener.name.client.ssl.keystore.key", True),
        ("ssl.trustStore.password", True),
        ("listener.name.client.ssl.keystore.location", False),
        ("super.users", False),
    ])
    def test_is_secret_property(self, key, secret):
        assert security.is_secret_property(key) is secret

    def test_jvm_system_properties_allow_the_oauth_endpoints(self):
        assert security.jvm_system_properties(description()) == {
            "org.apache.kafka.sasl.oauthbearer.allowed.urls": "https://idp.example.com/jwks,https://idp.example.com/token"}
        assert security.jvm_system_properties({}) == {}


class TestMigration:
    """ZooKeeper to KRaft: brokers in migration mode reach the controllers, migrating controllers
    reach ZooKeeper and the brokers."""

    def test_broker_in_migration_mode(self):
        result = security.server_properties({}, dict(ZK_BROKER, migration=True))
        assert result["controller.listener.names"] == "CONTROLLER"
        assert result["listener.security.protocol.map"] == "CLIENT:PLAINTEXT,INTERNAL:PLAINTEXT,CONTROLLER:PLAINTEXT"
        assert result["listeners"] == "CLIENT://:9092,INTERNAL://:9091"
        assert result["zookeeper.set.acl"] == "false"

    def test_controller_in_migration_mode(self):
        result = security.server_properties({}, dict(CONTROLLER, migration=True))
        assert result["listeners"] == "CONTROLLER://:9093"
        assert result["inter.broker.listener.name"] == "INTERNAL"
        assert result["listener.security.protocol.map"] == "CONTROLLER:PLAINTEXT,INTERNAL:PLAINTEXT"
        assert result["zookeeper.set.acl"] == "false"
        assert "advertised.listeners" not in result

    def test_migrating_controller_logs_in_as_the_broker_identity(self):
        description = {
            "listeners": [
                {"name": "CLIENT", "port": 9092, "protocol": "SASL_PLAINTEXT", "authentication": "scram-sha-512"},
                {"name": "INTERNAL", "port": 9091, "protocol": "SASL_PLAINTEXT", "authentication": "plain"},
                {"name": "CONTROLLER", "port": 9093, "protocol": "SASL_PLAINTEXT", "authentication": "plain"},
            ],
            "credentials": {"broker": {"username": "broker", "password": "b-pw"},
                            "controller": {"username": "controller", "password": "c-pw"},
                            "admin": {"username": "admin", "password": "a-pw"}},
        }
        result = security.server_properties(description, dict(CONTROLLER, migration=True))
        assert result["sasl.mechanism.inter.broker.protocol"] == "PLAIN"
        assert 'username="broker"' in result["listener.name.internal.plain.sasl.jaas.config"]
        assert "listener.name.internal.sasl.enabled.mechanisms" not in result  # it does not serve INTERNAL

    def test_migration_needs_a_controller_listener(self):
        description = {"listeners": [{"name": "CLIENT", "port": 9092, "protocol": "PLAINTEXT"},
                                     {"name": "INTERNAL", "port": 9091, "protocol": "PLAINTEXT"}],
                       "controller_listener": None}
        assert "is required to migrate to KRaft" in error_of(
            security.server_properties, description, dict(ZK_BROKER, migration=True))
