#!/usr/bin/env bash
# ansible-test needs the collection at .../ansible_collections/kafkaops/platform: copy the files
# git knows about (tracked, or new and not ignored) there and run the sanity tests on the copy.
#
#   tests/harness/sanity.sh [ansible-test sanity options]   with the ansible-core of requirements-dev.txt
#   SANITY_CORE=2.18.19 tests/harness/sanity.sh ...          with another release (its own virtualenv)
#
# `make sanity` runs it for every minor release from meta/runtime.yml's requires_ansible on; each
# release has its tests/sanity/ignore-X.Y.txt.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
# outside the work tree (inside it, ansible-test would ask git and skip the ignored copy), and a
# fresh folder per run, so that two checkouts can run their sanity tests at the same time
WORK=$(mktemp -d "${TMPDIR:-/tmp}/kafkaops-sanity.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
DEST="$WORK/ansible_collections/kafkaops/platform"
mkdir -p "$DEST"
cd "$ROOT"
# what the collection ships: benchmarks/, molecule/ and .ci/ are build_ignore'd (ruff and
# ansible-lint check them)
git ls-files -z --cached --others --exclude-standard -- . ':!benchmarks' ':!molecule' ':!.ci' ':!.config' \
  | python3 -c 'import os,sys; sys.stdout.write("\0".join(p for p in sys.stdin.read().split("\0") if p and os.path.isfile(p)))' \
  | tar --null -T - -cf - | tar -xf - -C "$DEST"
# ansible-test's --venv mode downloads its pip bootstrap from a host this network cannot reach,
# so the sanity requirements go into a virtualenv of their own, used in local mode.
if [ -n "${SANITY_CORE:-}" ]; then
  core="ansible-core==$SANITY_CORE"
  SVENV="$ROOT/.cache/sanity-venv-$SANITY_CORE"
else
  core=$(grep -E '^ansible-core==' "$ROOT/requirements-dev.txt")
  SVENV="$ROOT/.cache/sanity-venv"
fi
if [ ! -x "$SVENV/bin/ansible-test" ] || ! "$SVENV/bin/pip" freeze 2>/dev/null | grep -qx "$core"; then
  python3 -m venv "$SVENV"
  "$SVENV/bin/pip" install -q "$core"
fi
# ansible-test bootstraps pip in each test virtualenv with a script it downloads; use ours.
pip_version=$(grep -oE "pip='[0-9.]+'" "$SVENV"/lib/python3*/site-packages/ansible_test/_internal/python_requirements.py | cut -d"'" -f2)
mkdir -p ~/.ansible/test/cache
cp "$ROOT/tests/harness/ansible-test/pip_bootstrap.py" ~/.ansible/test/cache/"get_pip_${pip_version//./_}.py"
cd "$DEST"
PATH="$SVENV/bin:$PATH" "$SVENV/bin/ansible-test" sanity --python "$("$SVENV/bin/python" -c 'import sys; print("%d.%d" % sys.version_info[:2])')" \
  --requirements --color no "$@"
