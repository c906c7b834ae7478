from sqlalchemy import func, select

from docmgr.core import auth as accounts
from docmgr.inbound.models import IncomingDocument
from docmgr.outbound.models import OutgoingDocument


def test_init_is_idempotent(app):
    runner = app.test_cli_runner()
    for _ in range(2):
        result = runner.invoke(args=["docmgr", "init"])
        assert result.exit_code == 0, result.output


def test_create_org_unit_user(app, db):
    runner = app.test_cli_runner()
    steps = [
        ["create-org", "--code", "000.00.00.H48", "--name", "UBND tỉnh Thử", "--abbr", "UBND"],
        ["create-unit", "--org", "000.00.00.H48", "--name", "Phòng Tổng hợp", "--abbr", "TH"],
        ["create-user", "--username", "thu", "--password", "mot-mat-khau", "--full-name",
         "Lê Thị Thư", "--role", "clerk", "--org", "000.00.00.H48", "--unit", "TH"],
    ]
    for args in steps:
        result = runner.invoke(args=["docmgr", *args])
        assert result.exit_code == 0, result.output
    with db.transaction() as s:
        user = s.scalar(select(accounts.User).where(accounts.User.username == "thu"))
        assert user.unit.abbr == "TH" and user.org.abbr == "UBND" and user.role == "clerk"
    again = runner.invoke(args=["docmgr", *steps[0]])
    assert again.exit_code == 1 and "đã tồn tại" in again.output
    bad_role = runner.invoke(args=["docmgr", *steps[2][:-6], "--role", "boss", "--org", "x"])
    assert bad_role.exit_code != 0
    missing_org = runner.invoke(args=["docmgr", "create-unit", "--org", "nope", "--name", "A",
                                      "--abbr", "A"])
    assert missing_org.exit_code == 1 and "Không tìm thấy" in missing_org.output


def test_demo_loads_once(app, db):
    runner = app.test_cli_runner()
    first = runner.invoke(args=["docmgr", "demo"])
    assert first.exit_code == 0, first.output
    assert "vanthu" in first.output
    second = runner.invoke(args=["docmgr", "demo"])
    assert second.exit_code == 0 and "đã có sẵn" in second.output
    with db.transaction() as s:
        numbers = s.scalars(select(IncomingDocument.arrival_number)
                            .where(IncomingDocument.arrival_number.is_not(None))
                            .order_by(IncomingDocument.arrival_number)).all()
        issued = s.scalars(select(OutgoingDocument.notation)
                           .where(OutgoingDocument.status == "issued")).all()
        received = s.scalar(select(func.count()).select_from(IncomingDocument)
                            .where(IncomingDocument.status == "pending"))
    assert numbers == [1, 2, 3, 4, 5]
    assert issued == ["01/TB-VP"]  # issued (ND30: numbers below 10 take a leading zero)
    assert received == 1
    audit = runner.invoke(args=["docmgr", "audit-verify"])
    assert audit.exit_code == 0, audit.output
