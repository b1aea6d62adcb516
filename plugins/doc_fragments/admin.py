# Copyright: kafkaops.platform contributors
# Apache-2.0 (see LICENSE)
from __future__ import annotations


class ModuleDocFragment:
    """Connection options of every module that talks to a cluster through the admin client."""

    DOCUMENTATION = r"""
options:
  bootstrap_servers:
    description:
      - Brokers to connect to, as C(host:port).
      - Falls back to the environment variable E(KAFKA_BOOTSTRAP_SERVERS) (comma-separated).
      - Required, from the task or the environment.
    type: list
    elements: str
  security_protocol:
    description:
      - How to connect. When not given, inferred from the other options - SASL options mean
        C(SASL_*), TLS options mean C(*SSL) - or taken from O(security).
      - Falls back to E(KAFKA_SECURITY_PROTOCOL) when O(security) is not given.
    type: str
    choices: [PLAINTEXT, SSL, SASL_PLAINTEXT, SASL_SSL]
  sasl_mechanism:
    description:
      - The SASL mechanism; falls back to E(KAFKA_SASL_MECHANISM) when O(security) is not given.
      - With O(security), defaults to the first mechanism of the listener.
    type: str
    choices: [PLAIN, SCRAM-SHA-256, SCRAM-SHA-512]
  sasl_username:
    description:
      - The SASL user name; falls back to E(KAFKA_SASL_USERNAME) when O(security) is not given.
      - Given with O(security), it replaces the identity's user name and password.
    type: str
  sasl_password:
    description: The SASL password; falls back to E(KAFKA_SASL_PASSWORD) when O(security) is not given. Never logged.
    type: str
  ssl_ca:
    description:
      - The CA that signed the brokers' certificates - a PEM file path on the host that runs the
        module, or the PEM text itself. Falls back to E(KAFKA_SSL_CA) when O(security) is not given.
      - Without it, the CA of O(security) (C(tls.ca_file)), else the system's trusted CAs.
    type: str
  ssl_cert:
    description:
      - The client certificate for mTLS (a path or PEM text; may hold the private key too).
        Falls back to E(KAFKA_SSL_CERT) when O(security) is not given.
    type: str
  ssl_key:
    description:
      - The client certificate's private key (a path or PEM text) when O(ssl_cert) does not hold it.
        Falls back to E(KAFKA_SSL_KEY) when O(security) is not given. Never logged.
    type: str
  ssl_key_password:
    description: The private key's password; falls back to E(KAFKA_SSL_KEY_PASSWORD) when O(security) is not given. Never logged.
    type: str
  ssl_check_hostname:
    description:
      - Check that a broker's certificate names the host connected to. Default C(true) (or the
        description's C(tls.endpoint_identification)). Falls back to E(KAFKA_SSL_CHECK_HOSTNAME).
    type: bool
  request_timeout:
    description:
      - Timeout of each request, and of the first connection, in seconds.
      - Falls back to E(KAFKA_REQUEST_TIMEOUT), then 30.
    type: int
  security:
    description:
      - The cluster's security description (the C(platform_security) variable, or the role's
        normalized form of it), read as a client reads it - a client-only description, without
        a controller listener, server key stores or the brokers' credentials, is valid.
      - An alternative to the client options above; options given explicitly win over it, and
        with it the environment variables are not read (except E(KAFKA_BOOTSTRAP_SERVERS) and
        E(KAFKA_REQUEST_TIMEOUT)).
      - Only its secret values (passwords, private keys, client secrets) are hidden from output.
    type: dict
    default: {}
  identity:
    description:
      - Which credentials of O(security) to connect with (for example C(admin) or a user name);
        defaults to C(credentials.admin).
    type: str
  listener:
    description: The listener of O(security) to connect to; defaults to its admin listener.
    type: str
notes:
  - The options can be set once for all the modules of the collection's C(kafka) action group,
    with C(module_defaults) and C(group/kafkaops.platform.kafka).
  - Inline PEM text is written to private files (mode 0600) on the host that runs the module and
    removed when the module ends.
requirements:
  - kafka-python >= 3.0 on the host that runs the module (usually the control node)
"""
