from sqlalchemy import select, text

from docmgr.core import audit
from docmgr.core.auth import User


def _events(db, world, count):
    with db.transaction() as s:
        actor = s.get(User, world.users["clerk"].id)
        for index in range(count):
            audit.record(s, "test.event", actor=actor, object_type="thing", object_id=index,
                         note=f"sự kiện {index}")


def test_chain_verifies_when_untouched(db, world):
    _events(db, world, 5)
    with db.transaction() as s:
        assert audit.verify(s) is None
        rows = s.scalars(select(audit.AuditEvent).order_by(audit.AuditEvent.seq)).all()
    assert [r.seq for r in rows] == [1, 2, 3, 4, 5]
    assert all(b.prev_hash == a.hash for a, b in zip(rows, rows[1:], strict=False))


def test_edited_row_is_detected(db, world):
    _events(db, world, 5)
    with db.engine.begin() as conn:
        conn.execute(text("UPDATE audit_events SET actor_name = 'Kẻ giả mạo' WHERE seq = 3"))
    with db.transaction() as s:
        breach = audit.verify(s)
    assert breach is not None and breach.seq == 3 and "altered" in breach.reason


def test_deleted_middle_row_is_detected(db, world):
    _events(db, world, 5)
    with db.engine.begin() as conn:
        conn.execute(text("DELETE FROM audit_events WHERE seq = 2"))
    with db.transaction() as s:
        breach = audit.verify(s)
    assert breach is not None and breach.seq == 2


def test_deleted_newest_row_is_detected(db, world):
    _events(db, world, 4)
    with db.engine.begin() as conn:
        conn.execute(text("DELETE FROM audit_events WHERE seq = 4"))
    with db.transaction() as s:
        breach = audit.verify(s)
    assert breach is not None and "newest" in breach.reason


def test_rolled_back_change_leaves_no_event(db, world):
    try:
        with db.transaction() as s:
            audit.record(s, "test.event", actor=s.get(User, world.users["clerk"].id))
            raise RuntimeError("the change fails")
    except RuntimeError:
        pass
    with db.transaction() as s:
        assert s.scalar(select(audit.AuditEvent)) is None
        assert audit.verify(s) is None


def test_cli_audit_verify_exit_codes(app, db, world):
    _events(db, world, 3)
    runner = app.test_cli_runner()
    ok = runner.invoke(args=["docmgr", "audit-verify"])
    assert ok.exit_code == 0, ok.output
    assert "3 sự kiện" in ok.output
    with db.engine.begin() as conn:
        conn.execute(text("UPDATE audit_events SET action = 'x' WHERE seq = 2"))
    bad = runner.invoke(args=["docmgr", "audit-verify"])
    assert bad.exit_code == 1
    assert "dòng số 2" in bad.output
