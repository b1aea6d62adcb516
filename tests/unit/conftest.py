"""Make the collection importable as ``ansible_collections.kafkaops.platform`` for plain pytest.

The repository root *is* the collection, so a symlink
``.cache/collections/ansible_collections/kafkaops/platform`` -> repository root is created
(once) and ``.cache/collections`` is put on ``sys.path``.
"""
import os
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
COLLECTIONS = os.path.join(ROOT, ".cache", "collections")
LINK = os.path.join(COLLECTIONS, "ansible_collections", "kafkaops", "platform")

if not os.path.lexists(LINK):
    os.makedirs(os.path.dirname(LINK), exist_ok=True)
    os.symlink(ROOT, LINK)
if COLLECTIONS not in sys.path:
    sys.path.insert(0, COLLECTIONS)
