# Copyright: kafkaops.platform contributors
# Apache-2.0 (see LICENSE)
"""Client quotas as the ``kafka_quota`` module takes them: which entity (a user, a client id, both, or
an IP address, each possibly the default one), which quota keys it may carry, and the changes that
turn the quotas Kafka holds into the ones asked for. Pure functions; the admin client does the I/O."""
from __future__ import annotations

import math
from typing import Any, Dict, List, Mapping, Optional, Tuple

DEFAULT = "<default>"
# option name -> Kafka's entity type
ENTITY_TYPES = {"user": "user", "client_id": "client-id", "ip": "ip"}
# the quota keys of Kafka's QuotaConfig, and whether a value must be a whole number
CLIENT_KEYS = {"producer_byte_rate": True, "consumer_byte_rate": True, "request_percentage": False,
               "controller_mutation_rate": False}
IP_KEYS = {"connection_creation_rate": True}
# Kafka stores every quota as a double; whole-number quotas are longs or ints on its side
LIMIT = 2 ** 63 - 1


class QuotaError(ValueError):
    """An entity or quota the module cannot ask Kafka for, with a message naming it."""


def quota_entity(user: Optional[str] = None, client_id: Optional[str] = None,
                 ip: Optional[str] = None) -> Dict[str, Optional[str]]:
    """``{kafka entity type: name or None for the default}`` from the module's entity options."""
    given = {option: value for option, value in (("user", user), ("client_id", client_id), ("ip", ip))
             if value is not None}
    if not given:
        raise QuotaError("name the entity: user, client_id (or both), or ip; %s selects the default one" % DEFAULT)
    if "ip" in given and len(given) > 1:
        raise QuotaError("an ip quota stands alone: give ip without user or client_id")
    entity: Dict[str, Optional[str]] = {}
    for option, value in given.items():
        if isinstance(value, str) and any(ord(ch) < 32 or 127 <= ord(ch) < 160 for ch in value):
            raise QuotaError("%s contains a control character; give one line of printable text" % option)
        if not isinstance(value, str) or not value.strip() or value != value.strip():
            raise QuotaError("%s must be a name without surrounding spaces (or %s), got %r" % (option, DEFAULT, value))
        entity[ENTITY_TYPES[option]] = None if value == DEFAULT else value
    return entity


def allowed_keys(entity: Mapping[str, Optional[str]]) -> Dict[str, bool]:
    return IP_KEYS if "ip" in entity else CLIENT_KEYS


def quota_values(entity: Mapping[str, Optional[str]], quotas: Optional[Mapping[Any, Any]]) -> Dict[str, Optional[float]]:
    """The ``quotas`` option as ``{key: float, or None to remove the key}``, each key and value checked."""
    keys = allowed_keys(entity)
    result: Dict[str, Optional[float]] = {}
    for key, value in sorted((quotas or {}).items(), key=lambda item: str(item[0])):
        if key not in keys:
            raise QuotaError("quotas: %r is not a quota of %s entities; the keys are %s" % (
                key, "ip" if "ip" in entity else "user and client-id", ", ".join(sorted(keys))))
        if value is None:
            result[key] = None
            continue
        number = _number(key, value)
        if not math.isfinite(number) or number <= 0:
            raise QuotaError("quotas.%s must be a number above 0 (null removes the quota), got %r" % (key, value))
        if keys[key] and (number != int(number) or number > LIMIT):
            raise QuotaError("quotas.%s must be a whole number, got %r" % (key, value))
        result[key] = number
    return result


def _number(key: str, value: Any) -> float:
    if isinstance(value, bool):
        raise QuotaError("quotas.%s must be a number, got %r" % (key, value))
    if isinstance(value, (int, float)):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value.strip())
        except ValueError:
            pass
    raise QuotaError("quotas.%s must be a number, got %r" % (key, value))


def plan(current: Mapping[str, float], wanted: Mapping[str, Optional[float]], state: str = "present",
         purge: bool = False) -> Tuple[Dict[str, float], List[str]]:
    """``(to set {key: value}, to remove [key])`` that turn ``current`` into what was asked.
    ``state=absent`` removes every quota of the entity."""
    if state == "absent":
        return {}, sorted(current)
    to_set = {key: value for key, value in wanted.items() if value is not None and current.get(key) != value}
    to_remove = {key for key, value in wanted.items() if value is None and key in current}
    if purge:
        to_remove |= {key for key in current if key not in wanted}
    return to_set, sorted(to_remove)


def readable(quotas: Mapping[str, float]) -> Dict[str, Any]:
    """Whole numbers as ints (Kafka returns every quota as a double: 1048576.0)."""
    return {key: int(value) if float(value).is_integer() else value for key, value in sorted(quotas.items())}


def diff_text(quotas: Mapping[str, float]) -> str:
    return "".join("%s=%s\n" % (key, value) for key, value in readable(quotas).items())
