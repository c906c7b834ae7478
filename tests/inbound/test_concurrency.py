"""Twenty clerks press "Vào sổ" at the same moment: numbers must be exactly 1..N."""
import threading

from sqlalchemy import select

from docmgr.core.auth import User
from docmgr.core.uploads import check_pdf
from docmgr.inbound import operations as ops
from docmgr.inbound.models import IncomingDocument
from tests.conftest import registration_form

THREADS = 20


def test_concurrent_registrations_are_gap_free(db, blobs, world, pdf_bytes):
    checked = check_pdf(pdf_bytes, max_bytes=10 ** 7)
    barrier = threading.Barrier(THREADS)
    errors = []

    def clerk_registers(index):
        try:
            data = ops.parse_registration(registration_form(notation=f"{index}/STC-NS"))
            barrier.wait(timeout=30)
            with db.transaction() as s:
                clerk = s.get(User, world.users["clerk"].id)
                if index % 7 == 3:
                    # A registration that fails after taking a number must give it back.
                    ops.register(s, blobs, clerk, data, checked, "a.pdf")
                    raise RuntimeError("simulated failure after allocation")
                ops.register(s, blobs, clerk, data, checked, "a.pdf")
        except RuntimeError:
            pass
        except Exception as exc:  # noqa: BLE001 — any failure in a thread is reported below
            errors.append(repr(exc))

    threads = [threading.Thread(target=clerk_registers, args=(i,)) for i in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not errors
    with db.transaction() as s:
        numbers = s.scalars(select(IncomingDocument.arrival_number)
                            .order_by(IncomingDocument.arrival_number)).all()
    failed = len([i for i in range(THREADS) if i % 7 == 3])
    assert numbers == list(range(1, THREADS - failed + 1))
