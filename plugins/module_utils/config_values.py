# Copyright: kafkaops.platform contributors
# Apache-2.0 (see LICENSE)
"""Kafka config values as Kafka stores and reports them, for the modules that set dynamic configs
(``kafka_topic`` for topics, ``kafka_config`` for brokers and the cluster-wide default)."""
from __future__ import annotations

import re
from typing import Any, Dict, Mapping, Optional, Pattern

TOPIC_KEY = re.compile(r"[a-z0-9]+(\.[a-z0-9]+)*")
# broker keys may hold a listener name or a mechanism (listener.name.client.scram-sha-512....)
BROKER_KEY = re.compile(r"[a-z0-9_-]+(\.[a-z0-9_-]+)*")


class ConfigValueError(ValueError):
    """A config key or value that cannot be set, with a message naming it."""


def config_value(key: str, value: Any) -> Optional[str]:
    """``value`` as the text Kafka stores and reports, or None (delete the key)."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str) and value.lower() in ("true", "false"):
        return value.lower()  # a boolean templated into text ("True")
    if isinstance(value, (int, float, str)):
        return str(value)
    if isinstance(value, (list, tuple)):
        items = []
        for item in value:
            if isinstance(item, (list, tuple, dict)) or item is None:
                raise ConfigValueError("configs.%s: a list value holds plain values only, got %r" % (key, item))
            items.append(config_value(key, item))
        return ",".join(item for item in items if item is not None)
    raise ConfigValueError("configs.%s: %r is not a config value; give a string, number, boolean, list, or null to "
                           "delete the key" % (key, value))


def normalize_configs(configs: Optional[Mapping[Any, Any]], pattern: Pattern[str] = TOPIC_KEY,
                      example: str = "retention.ms or cleanup.policy", what: str = "topic") -> Dict[str, Optional[str]]:
    """``{key: text or None}`` from a ``configs`` option, each key matched whole by ``pattern``."""
    result = {}
    for key, value in sorted((configs or {}).items(), key=lambda item: str(item[0])):
        if not isinstance(key, str) or not pattern.fullmatch(key):
            message = ("configs: %r does not look like a Kafka %s config key; keys are lower-case words joined "
                       "by dots, like %s" % (key, what, example))
            guess = str(key).strip().lower().replace("_", ".").replace("-", ".")
            if guess != key and pattern.fullmatch(guess):
                message += " (did you mean %s?)" % guess
            raise ConfigValueError(message)
        result[key] = config_value(key, value)
    return result
