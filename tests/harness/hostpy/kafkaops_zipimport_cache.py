"""Test hosts only: a compiled-code cache for Python source imported from zip files.

Ansible sends every module as a zip of Python sources (AnsiballZ) and imports its module_utils
from that zip. zipimport keeps no compiled code: it compiles each source file on every module call,
some of them more than once (for the file name, then for the import). On a test host that is most
of a module call's cost: a `stat` takes 0.31 CPU-s without this cache and 0.17 with it. A `.pth` file
imports this module when Python starts; it wraps zipimport's compile step with a cache keyed by the
interpreter's magic number and the source's hash, so the same source is compiled once per host.
The code objects are what `compile()` returns for that source, with the file name set to the
current zip's path, as zipimport would have set it.
"""
import marshal
import os
import zipimport

# on the test hosts: the image's directory; on the control node (modules run with connection local):
# the directory the Makefile names, .cache/zipimport. No directory, no cache.
CACHE_DIR = os.environ.get("KAFKAOPS_ZIPIMPORT_CACHE", "/var/cache/kafkaops-zipimport")


def _install():
    compile_source = zipimport._compile_source
    code_type = type(_install.__code__)
    import _imp
    from _frozen_importlib_external import MAGIC_NUMBER

    def cached_compile(pathname, source):
        from _blake2 import blake2b

        path = os.path.join(CACHE_DIR, blake2b(MAGIC_NUMBER + source, digest_size=20).hexdigest())
        try:
            with open(path, "rb") as handle:
                code = marshal.loads(handle.read())
        except (OSError, ValueError, EOFError, TypeError):
            code = None
        if not isinstance(code, code_type):
            code = compile_source(pathname, source)
            try:
                temporary = f"{path}.{os.getpid()}"
                with open(temporary, "wb") as handle:
                    handle.write(marshal.dumps(code))
                os.replace(temporary, path)
            except OSError:
                pass  # not writable for this user: compile every time, as without the cache
            return code
        _imp._fix_co_filename(code, pathname)
        return code

    zipimport._compile_source = cached_compile


if os.path.isdir(CACHE_DIR):
    _install()
