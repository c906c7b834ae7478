"""Sổ đăng ký văn bản đến (ND30 Phụ lục IV): the rows, in the regulation's column order."""
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from docmgr.core import clock, exports
from docmgr.core.auth import Role, User
from docmgr.inbound.models import Assignment, IncomingDocument
from docmgr.inbound.operations import visible_clause

READERS = (Role.CLERK, Role.LEADER, Role.HEAD, Role.ADMIN)
COLUMNS = ("Ngày đến", "Số đến", "Tác giả", "Số, ký hiệu", "Ngày tháng văn bản",
           "Tên loại và trích yếu nội dung", "Đơn vị hoặc người nhận", "Ngày chuyển",
           "Ký nhận", "Ghi chú")
WIDTHS = (12, 9, 30, 18, 14, 60, 30, 12, 12, 20)


def _query(actor: User, year: int, sender: str | None, doc_type: str | None):
    stmt = (select(IncomingDocument)
            .where(visible_clause(actor), IncomingDocument.arrival_year == year,
                   IncomingDocument.arrival_number.is_not(None))
            .options(selectinload(IncomingDocument.assignments).joinedload(Assignment.user),
                     selectinload(IncomingDocument.assignments).joinedload(Assignment.unit)))
    if sender:
        stmt = stmt.where(IncomingDocument.sender_key.like(f"%{sender.casefold()}%"))
    if doc_type:
        stmt = stmt.where(IncomingDocument.doc_type == doc_type)
    return stmt


def documents(session, actor: User, year: int, *, sender=None, doc_type=None):
    """Every row of the year's register, in số đến order, streamed for exports."""
    stmt = _query(actor, year, sender, doc_type).order_by(IncomingDocument.arrival_number)
    return session.scalars(stmt.execution_options(yield_per=1000))


def page(session, actor: User, year: int, offset: int, limit: int, *, sender=None,
         doc_type=None):
    stmt = _query(actor, year, sender, doc_type)
    total = session.scalar(select(func.count()).select_from(stmt.subquery()))
    items = session.scalars(stmt.order_by(IncomingDocument.arrival_number)
                            .offset(offset).limit(limit)).all()
    return total, items


def row(doc: IncomingDocument) -> tuple:
    handed = [a for a in doc.assignments if a.role == "main"]
    receivers = "; ".join(a.assignee_name for a in doc.assignments
                          if a.active and a.role == "main")
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
    rows = (row(d) for d in documents(session, actor, year))
    body = exports.render(fmt, title="SỔ ĐĂNG KÝ VĂN BẢN ĐẾN",
                          subtitle=f"{actor.org.name} — năm {year}",
                          headers=COLUMNS, rows=rows, widths=WIDTHS)
    return body, f"so-van-ban-den-{year}.{fmt}", exports.FORMATS[fmt]
