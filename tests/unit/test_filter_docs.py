# Copyright: kafkaops.platform contributors
# Apache-2.0 (see LICENSE)
"""Every filter of the collection has its ansible-doc, and every doc file belongs to a filter.

A filter's documentation is the sidecar ``plugins/filter/<filter name>.yml`` (DOCUMENTATION,
EXAMPLES, RETURN). The filters are whatever the ``FilterModule`` classes of ``plugins/filter/*.py``
register, so a filter added without its doc, or a doc left behind by a removed filter, fails here.
The options a doc lists are checked against the filter's parameters too.
"""

from __future__ import annotations

import importlib
import inspect
import pathlib

import pytest
import yaml

FILTER_DIR = pathlib.Path(__file__).resolve().parents[2] / "plugins" / "filter"
PACKAGE = "ansible_collections.kafkaops.platform.plugins.filter"


def _filter_modules():
    return [importlib.import_module("%s.%s" % (PACKAGE, path.stem))
            for path in sorted(FILTER_DIR.glob("*.py")) if not path.name.startswith("_")]


def _registered():
    """Filter name -> (module, callable) over every filter file; a name registered twice fails."""
    found = {}
    for module in _filter_modules():
        for name, func in module.FilterModule().filters().items():
            assert name not in found, "filter %s is registered by both %s and %s" % (
                name, found[name][0].__name__, module.__name__)
            found[name] = (module, func)
    return found


REGISTERED = _registered()


def _doc(name):
    path = FILTER_DIR / ("%s.yml" % name)
    assert path.is_file(), "filter %s has no documentation: write plugins/filter/%s.yml" % (name, name)
    return yaml.safe_load(path.read_text())


def _parameters(module, name, func):
    """The filter's parameters after the piped input, or None when they cannot be seen (a wrapper
    that hides them and no module-level function of the filter's name)."""
    for candidate in (inspect.unwrap(func), getattr(module, name, None)):
        if candidate is None:
            continue
        params = list(inspect.signature(candidate).parameters.values())
        if params and params[0].kind is inspect.Parameter.VAR_POSITIONAL:
            continue
        return params[1:]
    return None


def test_there_are_filters():
    assert len(REGISTERED) > 30


@pytest.mark.parametrize("name", sorted(REGISTERED))
def test_filter_is_documented(name):
    doc = _doc(name)
    assert set(doc) >= {"DOCUMENTATION", "EXAMPLES", "RETURN"}, "%s.yml lacks %s" % (
        name, ", ".join(sorted({"DOCUMENTATION", "EXAMPLES", "RETURN"} - set(doc))))
    documentation = doc["DOCUMENTATION"]
    assert isinstance(documentation, dict)
    assert documentation.get("name") == name
    assert isinstance(documentation.get("short_description"), str) and documentation["short_description"].strip()
    assert documentation.get("description")
    assert isinstance(doc["EXAMPLES"], str) and "kafkaops.platform.%s" % name in doc["EXAMPLES"]
    assert isinstance(doc["RETURN"], dict) and "_value" in doc["RETURN"]


@pytest.mark.parametrize("name", sorted(REGISTERED))
def test_documented_options_are_the_parameters(name):
    module, func = REGISTERED[name]
    params = _parameters(module, name, func)
    if params is None:
        pytest.skip("the parameters of %s are not visible" % name)
    options = dict(_doc(name)["DOCUMENTATION"].get("options") or {})
    assert "_input" in options, "%s.yml does not document the piped input (_input)" % name
    del options["_input"]
    names = {param.name for param in params if param.kind not in (param.VAR_POSITIONAL, param.VAR_KEYWORD)}
    assert set(options) <= names, "%s.yml documents options the filter does not take: %s" % (
        name, ", ".join(sorted(set(options) - names)))
    required = {param.name for param in params if param.default is param.empty
                and param.kind not in (param.VAR_POSITIONAL, param.VAR_KEYWORD)}
    assert required <= set(options), "%s.yml does not document the required options %s" % (
        name, ", ".join(sorted(required - set(options))))


def test_no_doc_without_a_filter():
    orphans = sorted(path.name for path in FILTER_DIR.glob("*.yml") if path.stem not in REGISTERED)
    assert not orphans, "documentation for filters that are not registered: %s" % ", ".join(orphans)
