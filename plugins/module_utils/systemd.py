# Copyright: kafkaops.platform contributors
# Apache-2.0 (see LICENSE)
"""Values written into systemd unit files, quoted so that each stays what it was.

In a unit file a line break ends the setting, ``%`` starts a specifier, and in a command line
``$`` starts a variable, whitespace separates arguments and a backslash starts an escape
(systemd.syntax(7), systemd.service(5) "Command lines"). The preflight refuses control characters
in the inventory; these functions are the second line: they quote what needs quoting and refuse
what cannot be written at all.
"""

from __future__ import annotations

import re
from typing import Any, Iterable, List

from ansible_collections.kafkaops.platform.plugins.module_utils._checks import CONTROL as _CONTROL

__all__ = ["SystemdError", "command_line", "environment_assignment"]

_PLAIN_WORD = re.compile(r"[A-Za-z0-9_@+=:,./*-]+")
_VARIABLE = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


class SystemdError(ValueError):
    """A value cannot be written into a unit file."""


def _text(value: Any, what: str) -> str:
    if value is None or isinstance(value, (dict, list, tuple, bool)):
        raise SystemdError("%s must be text or a number, got %s" % (what, type(value).__name__))
    text = str(value)
    found = _CONTROL.search(text)
    if found is not None:
        raise SystemdError("%s contains a control character (U+%04X at position %d), which would end the unit's line"
                           % (what, ord(found.group()), found.start()))
    return text


def _escaped(text: str) -> str:
    """Backslashes and double quotes escaped, specifiers (``%``) doubled."""
    return text.replace("\\", "\\\\").replace('"', '\\"').replace("%", "%%")


def environment_assignment(name: Any, value: Any) -> str:
    """``"NAME=value"`` for an ``Environment=`` line, quoted and escaped."""
    key = _text(name, "an environment variable name")
    if not _VARIABLE.fullmatch(key):
        raise SystemdError("%r is not an environment variable name: use letters, digits and _, not starting with a digit" % key)
    return '"%s=%s"' % (key, _escaped(_text(value, "the value of %s" % key)))


def _argument(value: Any, index: int) -> str:
    text = _text(value, "argument %d of the command line" % index)
    if _PLAIN_WORD.fullmatch(text):
        return text
    return '"%s"' % _escaped(text).replace("$", "$$")


def command_line(arguments: Iterable[Any]) -> str:
    """An ``ExecStart=`` command line from its arguments: words that need it are quoted, ``$`` and
    ``%`` doubled, so systemd passes each argument on unchanged. Empty arguments are left out."""
    if isinstance(arguments, (str, bytes)) or not isinstance(arguments, (list, tuple)):
        raise SystemdError("a command line is a list of arguments, got %s" % type(arguments).__name__)
    words: List[str] = []
    for index, value in enumerate(arguments):
        if value is None or value == "":
            continue
        words.append(_argument(value, index))
    if not words:
        raise SystemdError("a command line needs at least the program")
    return " ".join(words)
