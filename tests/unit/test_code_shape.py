"""The shape the structure issue set for plugins/: files of at most ~900 lines, functions of at
most ~80 (from ``def`` to the last line, docstring included).

A function may pass the limit only when it is listed in ``LONG_FUNCTIONS`` with the reason; the
list is part of the review, so a new long function is a visible decision, not an accident.
"""
import ast
import pathlib

import pytest

PLUGINS = pathlib.Path(__file__).resolve().parents[2] / "plugins"
MAX_FILE_LINES = 900
MAX_FUNCTION_LINES = 80

# "path:function" -> why it stays long
LONG_FUNCTIONS: dict = {}


def _sources():
    return sorted(PLUGINS.rglob("*.py"))


def _functions(path):
    tree = ast.parse(path.read_text(), filename=str(path))
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            yield node.name, node.lineno, node.end_lineno - node.lineno + 1


@pytest.mark.parametrize("path", _sources(), ids=lambda p: str(p.relative_to(PLUGINS)))
def test_file_length(path):
    lines = path.read_text().count("\n")
    assert lines <= MAX_FILE_LINES, "%s has %d lines (at most %d)" % (path.relative_to(PLUGINS), lines, MAX_FILE_LINES)


@pytest.mark.parametrize("path", _sources(), ids=lambda p: str(p.relative_to(PLUGINS)))
def test_function_length(path):
    rel = str(path.relative_to(PLUGINS))
    long = ["%s:%d %s (%d lines)" % (rel, line, name, length) for name, line, length in _functions(path)
            if length > MAX_FUNCTION_LINES and "%s:%s" % (rel, name) not in LONG_FUNCTIONS]
    assert not long, "functions longer than %d lines: %s" % (MAX_FUNCTION_LINES, "; ".join(long))


def test_allowlist_is_current():
    """Every allowed long function still exists and is still long (the list never goes stale)."""
    found = {"%s:%s" % (path.relative_to(PLUGINS), name): length
             for path in _sources() for name, _line, length in _functions(path)}
    stale = [key for key in LONG_FUNCTIONS if found.get(key, 0) <= MAX_FUNCTION_LINES]
    assert not stale, "remove from LONG_FUNCTIONS: %s" % ", ".join(stale)


def test_the_kafka_action_group_lists_exactly_the_modules_that_take_the_connection_options():
    """module_defaults for group/kafkaops.platform.kafka must reach every module built on KafkaModule (directly or
    through kafka_admin.run_admin_module), and
    only those (an option a module does not take would fail every task of the group)."""
    import yaml

    runtime = yaml.safe_load((PLUGINS.parent / "meta" / "runtime.yml").read_text())
    connected = sorted(path.stem for path in (PLUGINS / "modules").glob("*.py")
                       if "KafkaModule(" in path.read_text() or "run_admin_module(" in path.read_text())
    assert connected, "no module is built on KafkaModule"
    assert sorted(runtime["action_groups"]["kafka"]) == connected
