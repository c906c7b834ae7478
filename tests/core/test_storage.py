import hashlib

import pytest

from docmgr.core.storage import BlobStore


def test_put_is_content_addressed_and_idempotent(tmp_path):
    store = BlobStore(tmp_path)
    digest = store.put(b"%PDF-1.7 noi dung")
    assert digest == hashlib.sha256(b"%PDF-1.7 noi dung").hexdigest()
    assert store.put(b"%PDF-1.7 noi dung") == digest
    assert store.get(digest) == b"%PDF-1.7 noi dung"
    files = [p for p in tmp_path.rglob("*") if p.is_file()]
    assert files == [store.path(digest)]  # one blob, no temporary leftovers


def test_blobs_are_read_only(tmp_path):
    store = BlobStore(tmp_path)
    path = store.path(store.put(b"x"))
    assert not path.stat().st_mode & 0o222


def test_rejects_paths_that_are_not_digests(tmp_path):
    with pytest.raises(ValueError):
        BlobStore(tmp_path).path("../../etc/passwd")
