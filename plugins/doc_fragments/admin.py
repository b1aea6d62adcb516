# Copyright: kafkaops.platform contributors
# Apache-2.0 (see LICENSE)
from __future__ import annotations


class ModuleDocFragment:
    """Connection options of every module that talks to a cluster through the admin client."""

    DOCUMENTATION = r"""
options:
  bootstrap_servers:
    description: Brokers to connect to, as C(host:port).
    type: list
    elements: str
    required: true
  security:
    description:
      - The cluster's security description (the C(platform_security) variable), from which the
        connection settings (protocol, SASL mechanism, TLS files) are derived.
      - Holds secrets; never logged.
    type: dict
    default: {}
  identity:
    description:
      - Which credentials of O(security) to connect with (for example C(admin)); needed on
        listeners that authenticate clients.
    type: str
  listener:
    description: The listener to connect to; defaults to the admin listener of O(security).
    type: str
  request_timeout:
    description: Timeout of each request, in seconds.
    type: int
    default: 30
requirements:
  - kafka-python >= 3.0 on the host that runs the module (usually the control node)
"""
