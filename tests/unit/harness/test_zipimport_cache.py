"""The test hosts' compiled-code cache for sources imported from zip files
(tests/harness/hostpy/kafkaops_zipimport_cache.py): the same source compiles once, the code carries
the current zip's file name, a changed source compiles anew, and an unwritable cache changes nothing."""
import importlib.util
import os
import sys
import zipfile
import zipimport

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))


@pytest.fixture()
def cache(tmp_path, monkeypatch):
    spec = importlib.util.spec_from_file_location(
        "kafkaops_zipimport_cache_under_test", os.path.join(ROOT, "tests", "harness", "hostpy", "kafkaops_zipimport_cache.py"))
    module = importlib.util.module_from_spec(spec)
    monkeypatch.delenv("KAFKAOPS_ZIPIMPORT_CACHE", raising=False)  # make test sets it for the control node
    monkeypatch.setattr(zipimport, "_compile_source", zipimport._compile_source)  # restored after the test
    spec.loader.exec_module(module)  # no /var/cache/kafkaops-zipimport here: nothing is installed yet
    compiled = []
    original = zipimport._compile_source

    def counting(pathname, source):
        compiled.append(pathname)
        return original(pathname, source)

    monkeypatch.setattr(zipimport, "_compile_source", counting)
    monkeypatch.setattr(module, "CACHE_DIR", str(tmp_path / "cache"))
    (tmp_path / "cache").mkdir()
    module._install()
    return module, compiled, tmp_path


def import_from_zip(tmp_path, name, source):
    archive = tmp_path / f"{name}-{len(os.listdir(tmp_path))}.zip"
    with zipfile.ZipFile(archive, "w") as handle:
        handle.writestr("zipmod_under_test.py", source)
    sys.path.insert(0, str(archive))
    try:
        sys.modules.pop("zipmod_under_test", None)
        import zipmod_under_test  # pylint: disable=import-outside-toplevel,import-error

        return zipmod_under_test, str(archive)
    finally:
        sys.path.remove(str(archive))
        sys.modules.pop("zipmod_under_test", None)
        sys.path_importer_cache.pop(str(archive), None)


def test_the_same_source_is_compiled_once(cache):
    _module, compiled, tmp_path = cache
    source = "def where():\n    return where.__code__.co_filename\nVALUE = 41 + 1\n"
    first, first_zip = import_from_zip(tmp_path, "a", source)
    second, second_zip = import_from_zip(tmp_path, "b", source)
    assert first.VALUE == second.VALUE == 42
    assert len(compiled) == 1
    assert len(os.listdir(tmp_path / "cache")) == 1
    # the cached code names the zip it was imported from this time, nested functions included
    assert first.where() == os.path.join(first_zip, "zipmod_under_test.py")
    assert second.where() == os.path.join(second_zip, "zipmod_under_test.py")


def test_a_changed_source_is_compiled_again(cache):
    _module, compiled, tmp_path = cache
    old, _archive = import_from_zip(tmp_path, "a", "VALUE = 1\n")
    new, _archive = import_from_zip(tmp_path, "b", "VALUE = 2\n")
    assert (old.VALUE, new.VALUE) == (1, 2)
    assert len(compiled) == 2


def test_an_unwritable_cache_only_costs_the_compile(cache, monkeypatch):
    module, compiled, tmp_path = cache
    monkeypatch.setattr(module, "CACHE_DIR", str(tmp_path / "missing"))
    first, _archive = import_from_zip(tmp_path, "a", "VALUE = 3\n")
    once = len(compiled)  # zipimport itself compiles more than once per import (get_filename, load_module)
    second, _archive = import_from_zip(tmp_path, "b", "VALUE = 3\n")
    assert first.VALUE == second.VALUE == 3
    assert once >= 1
    assert len(compiled) == 2 * once


def test_a_corrupt_entry_is_compiled_and_replaced(cache):
    _module, compiled, tmp_path = cache
    import_from_zip(tmp_path, "a", "VALUE = 4\n")
    (entry,) = os.listdir(tmp_path / "cache")
    (tmp_path / "cache" / entry).write_bytes(b"\x00not marshal")
    again, _archive = import_from_zip(tmp_path, "b", "VALUE = 4\n")
    assert again.VALUE == 4
    assert len(compiled) == 2
