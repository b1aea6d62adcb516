# Copyright: kafkaops.platform contributors
# Apache-2.0 (see LICENSE)
"""Values quoted for systemd unit files: each argument and each assignment stays what it was."""
from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ansible_collections.kafkaops.platform.plugins.module_utils import systemd


def _unquote_word(word):
    """One word of a command line as systemd reads it (the subset our quoting produces)."""
    word = word.replace("%%", "%").replace("$$", "$")
    if word.startswith('"'):
        assert word.endswith('"')
        return re.sub(r"\\(.)", r"\1", word[1:-1])
    return word


def _split(line):
    return [_unquote_word(w) for w in re.findall(r'"(?:[^"\\]|\\.)*"|[^ ]+', line)]


def test_plain_words_are_written_as_they_are():
    args = ["/usr/bin/java", "-Xmx1g", "-XX:+UseG1GC", "-cp", "/opt/kafka/current/libs/*", "kafka.Kafka", "/etc/kafka/a.properties"]
    assert systemd.command_line(args) == " ".join(args)


@pytest.mark.parametrize("argument,written", [
    ("-Dgreeting=hello world", '"-Dgreeting=hello world"'),
    ("-Dcost=$5", '"-Dcost=$$5"'),
    ("-XX:OnOutOfMemoryError=kill -9 %p", '"-XX:OnOutOfMemoryError=kill -9 %%p"'),
    ('-Dq="x"', '"-Dq=\\"x\\""'),
    ("C:\\path", '"C:\\\\path"'),
    (";", '";"'),
])
def test_other_words_are_quoted(argument, written):
    assert systemd.command_line(["/usr/bin/java", argument]) == "/usr/bin/java " + written


@given(st.lists(st.text(alphabet=st.characters(blacklist_categories=("Cc", "Cs", "Zs", "Zl", "Zp")), min_size=1), min_size=1))
def test_every_argument_comes_back(arguments):
    assert _split(systemd.command_line(arguments)) == arguments


@pytest.mark.parametrize("arguments,message", [
    (["/usr/bin/java", "-Dx=1\nExecStartPre=+/bin/sh"], "argument 1 of the command line contains a control character (U+000A at position 5)"),
    ("java -Xmx1g", "a command line is a list of arguments, got str"),
    ([None, ""], "a command line needs at least the program"),
    (["java", {"a": 1}], "argument 1 of the command line must be text or a number, got dict"),
])
def test_what_cannot_be_written_is_refused(arguments, message):
    with pytest.raises(systemd.SystemdError, match="^%s" % re.escape(message)):
        systemd.command_line(arguments)


@pytest.mark.parametrize("name,value,written", [
    ("KAFKA_OPTS", "-Xss1m", '"KAFKA_OPTS=-Xss1m"'),
    ("KAFKA_OPTS", '-Da="b c" -Dp=50%', '"KAFKA_OPTS=-Da=\\"b c\\" -Dp=50%%"'),
    ("PATH_LIKE", "a\\b", '"PATH_LIKE=a\\\\b"'),
    ("PORT", 9999, '"PORT=9999"'),
])
def test_environment_assignments(name, value, written):
    assert systemd.environment_assignment(name, value) == written


@pytest.mark.parametrize("name,value,message", [
    ("KAFKA_OPTS", "-Xss1m\nExecStartPre=+/bin/sh -c id", "the value of KAFKA_OPTS contains a control character (U+000A at position 6)"),
    ("KAFKA OPTS", "x", "'KAFKA OPTS' is not an environment variable name"),
    ("1X", "x", "'1X' is not an environment variable name"),
    ("X", None, "the value of X must be text or a number, got NoneType"),
])
def test_environment_refusals(name, value, message):
    with pytest.raises(systemd.SystemdError, match="^%s" % re.escape(message)):
        systemd.environment_assignment(name, value)
