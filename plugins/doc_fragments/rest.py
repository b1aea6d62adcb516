# Copyright: kafkaops.platform contributors
# Apache-2.0 (see LICENSE)
from __future__ import annotations


class ModuleDocFragment:
    """Connection options of every module that talks to a REST service of the platform (Kafka
    Connect, Schema Registry, ksqlDB)."""

    DOCUMENTATION = r"""
options:
  url:
    description:
      - Base URL of the service, for example C(https://connect1:8083) for a Connect worker.
    type: str
    required: true
  validate_certs:
    description: Verify the service's TLS certificate (against O(ca_path) when given).
    type: bool
    default: true
  ca_path:
    description: CA bundle (PEM) to verify the service's certificate with, for example the platform's internal CA.
    type: path
  client_cert:
    description: Client certificate (PEM), when the service asks for mutual TLS.
    type: path
  client_key:
    description: Private key (PEM) of O(client_cert).
    type: path
  url_username:
    description: User for HTTP basic authentication, when the REST listener requires it.
    type: str
  url_password:
    description: Password of O(url_username); never logged.
    type: str
  request_timeout:
    description: Seconds to wait for one answer.
    type: float
    default: 30.0
"""
