"""Sổ đăng ký văn bản đến (ND30 Phụ lục IV): the rows, in the regulation's column order."""
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from docmgr.core import clock, exports
from docmgr.core.auth import Role, User
from docmgr.inbound.models import Assignment, AssignmentRole, IncomingDocument
from docmgr.inbound.operations import count_visible, visible_clause

READERS = (Role.CLERK, Role.LEADER, Role.HEAD, Role.ADMIN)
COLUMNS = ("Ngày đến", "Số đến", "Tác giả", "Số, ký hiệu", "Ngày tháng văn bản",
           "Tên loại và trích yếu nội dung", "Đơn vị hoặc người nhận", "Ngày chuyển",
           "Ký nhận", "Ghi chú")
WIDTHS = (12, 9, 30, 18, 14, 60, 30, 12, 12, 20)


def _criteria(year: int, sender: str | None, doc_type: str | None) -> list:
    criteria = [IncomingDocument.arrival_year == year,
                IncomingDocument.arrival_number.is_not(None)]
    if sender:
        criteria.append(IncomingDocument.sender_key.like(f"%{sender.casefold()}%"))
    if doc_type:
        criteria.append(IncomingDocument.doc_type == doc_type)
    return criteria


def _rows(actor: User, criteria: list):
    return (select(IncomingDocument).where(visible_clause(actor), *criteria)
            .options(selectinload(IncomingDocument.assignments).joinedload(Assignment.user),
                     selectinload(IncomingDocument.assignments).joinedload(Assignment.unit))
            .order_by(IncomingDocument.arrival_number))


def documents(session, actor: User, year: int, *, sender=None, doc_type=None):
    """Every row of the year's register, in số đến order, streamed for exports."""
    stmt = _rows(actor, _criteria(year, sender, doc_type))
    return session.scalars(stmt.execution_options(yield_per=1000))


def page(session, actor: User, year: int, offset: int, limit: int, *, sender=None,
         doc_type=None):
    criteria = _criteria(year, sender, doc_type)
    total = count_visible(session, actor, *criteria)
    items = session.scalars(_rows(actor, criteria).offset(offset).limit(limit)).all()
    return total, items


def row(doc: IncomingDocument) -> tuple:
    handed = [a for a in doc.assignments if a.role == AssignmentRole.MAIN]
    receivers = "; ".join(a.assignee_name for a in handed if a.active)
    first_handed = min((a.assigned_at for a in handed), default=None)
    notes = [label for label, on in ((doc.urgency_label, doc.urgency != "normal"),
                                     (doc.secrecy_label, doc.is_classified),
                                     ("Bản giấy", doc.received_via == "paper")) if on]
    return (
        f"{doc.arrival_date:%d/%m/%Y}",
        doc.arrival_number,
        doc.sender,
        doc.notation,
        f"{doc.doc_date:%d/%m/%Y}" if doc.doc_date else "",
        f"{doc.type_name}: {doc.subject}",
        receivers,
        f"{clock.local(first_handed):%d/%m/%Y}" if first_handed else "",
        "",
        ", ".join(notes),
    )


def export(session, actor: User, year: int, fmt: str) -> tuple[bytes, str, str]:
    """The year's register as a file: (body, filename, mimetype)."""
    exports.check_format(fmt)
    return exports.register_file(
        fmt, title="SỔ ĐĂNG KÝ VĂN BẢN ĐẾN", org_name=actor.org.name, year=year,
        slug="so-van-ban-den", headers=COLUMNS, widths=WIDTHS,
        rows=(row(d) for d in documents(session, actor, year)))
