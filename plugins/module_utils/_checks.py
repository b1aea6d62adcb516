# Copyright: kafkaops.platform contributors
# Apache-2.0 (see LICENSE)
"""Input checks shared by the module_utils that filters and modules call (private).

Each check returns the value it accepts, or raises the error class its caller gives with a
message naming ``what`` (the argument or key), so that malformed input (None, a wrong type, a
missing key) never surfaces as a TypeError, KeyError or AttributeError. Pure Python.
"""
from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, NoReturn

INT32_MAX = 2 ** 31 - 1
# Kafka's rule for topic names (org.apache.kafka.common.internals.Topic): 1 to 249 of these
# characters, and neither "." nor ".."
TOPIC_NAME_MAX = 249
_TOPIC_NAME = re.compile(r"[a-zA-Z0-9._-]{1,%d}" % TOPIC_NAME_MAX)
_INTEGER_TEXT = re.compile(r"[+-]?[0-9]+")
# the C0 and C1 control characters and DEL, the one definition every check uses: a line break in a value
# would start a new line of a properties file, a JAAS file, zoo.cfg or a systemd unit
CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
_CONTROL = CONTROL


_KINDS = {"dict": "a mapping", "list": "a list", "tuple": "a list", "int": "an integer", "str": "a string",
          "bool": "a boolean", "float": "a float"}


def kind(value: Any) -> str:
    """What ``value`` is, for a message: ``null``, ``a list``, ``the string 'abc'``, ..."""
    if value is None:
        return "null"
    name = _KINDS.get(type(value).__name__, "a %s" % type(value).__name__)
    if isinstance(value, (str, int, float)) and len(repr(value)) <= 60:
        return "%s (%r)" % (name, value)
    return name


def _fail(error: type[Exception], message: str) -> NoReturn:
    raise error(message)


def mapping(value: Any, what: str, error: type[Exception], optional: bool = False) -> Any:
    """``value`` when it is a mapping (a dict, or Ansible's hostvars; ``{}`` for None when ``optional``)."""
    if value is None and optional:
        return {}
    if not isinstance(value, Mapping):
        _fail(error, "%s must be a mapping, got %s" % (what, kind(value)))
    return value


def sequence(value: Any, what: str, error: type[Exception], optional: bool = False) -> list[Any]:
    """``value`` as a list when it is a list or tuple (``[]`` for None when ``optional``)."""
    if value is None and optional:
        return []
    if not isinstance(value, (list, tuple)):
        _fail(error, "%s must be a list, got %s" % (what, kind(value)))
    return list(value)


def mappings(value: Any, what: str, error: type[Exception], optional: bool = False) -> list[Any]:
    """A list of mappings (every entry checked, named ``what[index]``)."""
    return [mapping(entry, "%s[%d]" % (what, index), error) for index, entry in enumerate(sequence(value, what, error, optional))]


def text(value: Any, what: str, error: type[Exception], optional: bool = False) -> str:
    """``value`` when it is a string without control characters (``""`` for None when ``optional``)."""
    if value is None and optional:
        return ""
    if not isinstance(value, str):
        _fail(error, "%s must be a string, got %s" % (what, kind(value)))
    if has_control(value):
        _fail(error, "%s %r holds a control character (a line break, tab, ...); remove it" % (what, value))
    return value


def key(value: Mapping[Any, Any], name: str, what: str, error: type[Exception]) -> Any:
    """``value[name]``, or an error naming ``what`` (the mapping) and the missing key."""
    if name not in value:
        _fail(error, "%s has no %s" % (what, name))
    return value[name]


def has_control(value: str) -> bool:
    """Whether ``value`` holds a control character (line breaks, tabs, NUL, DEL)."""
    return bool(_CONTROL.search(value))


def strict_int(value: Any) -> int | None:
    """An integer given as an int (not a bool) or as decimal ASCII digits (surrounding blanks and a
    sign allowed, as Java's Integer.parseInt after Kafka trims a value); None for anything else
    (a float, ``"1.5"``, ``"1_0"``, ``"²"``, a bool)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and _INTEGER_TEXT.fullmatch(value.strip()):
        return int(value.strip())
    return None


def integer(value: Any, what: str, error: type[Exception], low: int | None = None, high: int | None = None) -> int:
    """``value`` as an int (see :func:`strict_int`) within ``low``..``high``."""
    number = strict_int(value)
    if number is None:
        _fail(error, "%s must be an integer, got %r" % (what, value))
    if (low is not None and number < low) or (high is not None and number > high):
        bounds = "%s..%s" % ("" if low is None else low, "" if high is None else high)
        _fail(error, "%s %d is out of range (%s)" % (what, number, bounds))
    return number


def port(value: Any, what: str, error: type[Exception]) -> int:
    """A TCP port number (1-65535), as an int or decimal digits."""
    number = strict_int(value)
    if number is None or not 1 <= number <= 65535:
        _fail(error, "%s must be a port number (1-65535), got %r" % (what, value))
    return number


def valid_topic_name(name: Any) -> bool:
    """Whether Kafka accepts ``name`` as a topic name."""
    return isinstance(name, str) and bool(_TOPIC_NAME.fullmatch(name)) and name not in (".", "..")
