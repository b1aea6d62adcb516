# Copyright: kafkaops.platform contributors
# Apache-2.0 (see LICENSE)
from __future__ import annotations


class ModuleDocFragment:
    """What the Connect modules add to the REST connection options (kafkaops.platform.rest)."""

    DOCUMENTATION = r"""
options:
  rebalance_timeout:
    description:
      - Seconds to keep retrying a request that Connect answers with HTTP 409 (the workers are
        rebalancing), with back-off from 0.5 to 5 seconds.
    type: float
    default: 120.0
"""
