"""Clerks issuing many signed documents at once: outgoing numbers 1..N, no gap, no twin."""
import threading

from sqlalchemy import select

from docmgr.core.auth import User
from docmgr.outbound import operations as ops
from docmgr.outbound.models import OutgoingDocument
from tests.outbound.conftest import ORG_PIN

THREADS = 12


def test_concurrent_issuing_is_gap_free(app, db, blobs, world, signed_draft):
    ids = [signed_draft(doc_type="TB")["id"] for _ in range(THREADS)]
    barrier = threading.Barrier(THREADS)
    errors = []

    def clerk_issues(doc_id, index):
        try:
            barrier.wait(timeout=60)
            with app.app_context(), db.transaction() as s:
                clerk = s.get(User, world.users["clerk" if index % 2 else "clerk2"].id)
                ops.issue(s, blobs, clerk, doc_id, ORG_PIN)
                if index % 5 == 4:
                    raise RuntimeError("failure after the number was taken")
        except RuntimeError:
            pass
        except Exception as exc:  # noqa: BLE001 — any failure in a thread is reported below
            errors.append(repr(exc))

    threads = [threading.Thread(target=clerk_issues, args=(doc_id, i))
               for i, doc_id in enumerate(ids)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=300)
    assert not errors
    with db.transaction() as s:
        numbers = s.scalars(select(OutgoingDocument.number).where(
            OutgoingDocument.number.is_not(None)).order_by(OutgoingDocument.number)).all()
        still_signed = s.scalars(select(OutgoingDocument.status).where(
            OutgoingDocument.number.is_(None))).all()
    failed = len([i for i in range(THREADS) if i % 5 == 4])
    assert numbers == list(range(1, THREADS - failed + 1))
    assert still_signed == ["signed"] * failed  # a failed issue leaves the draft waiting
