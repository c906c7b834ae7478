"""Sổ đăng ký văn bản đi (ND30 Phụ lục IV): the rows, in the regulation's column order."""
from sqlalchemy import func, select
from sqlalchemy.orm import joinedload, selectinload

from docmgr.core import clock, exports
from docmgr.core.auth import Role, User
from docmgr.outbound.models import OutgoingDocument, OutgoingStatus, Recipient
from docmgr.outbound.operations import visible_clause

READERS = (Role.CLERK, Role.LEADER, Role.HEAD, Role.ADMIN)
COLUMNS = ("Số, ký hiệu", "Ngày tháng văn bản", "Tên loại và trích yếu nội dung", "Người ký",
           "Nơi nhận", "Đơn vị, người nhận bản lưu", "Số lượng bản", "Ngày chuyển", "Ký nhận",
           "Ghi chú")
WIDTHS = (18, 14, 60, 24, 40, 24, 10, 12, 12, 20)


def _query(actor: User, year: int):
    return (select(OutgoingDocument)
            .where(visible_clause(actor), OutgoingDocument.status == OutgoingStatus.ISSUED,
                   OutgoingDocument.year == year)
            .options(joinedload(OutgoingDocument.signer), joinedload(OutgoingDocument.unit),
                     joinedload(OutgoingDocument.author),
                     selectinload(OutgoingDocument.recipients).joinedload(Recipient.org)))


def documents(session, actor: User, year: int):
    """Every issued document of the year in issue order (register, then number)."""
    stmt = _query(actor, year).order_by(OutgoingDocument.issued_at, OutgoingDocument.id)
    return session.scalars(stmt.execution_options(yield_per=1000))


def page(session, actor: User, year: int, offset: int, limit: int):
    stmt = _query(actor, year)
    total = session.scalar(select(func.count()).select_from(stmt.subquery()))
    items = session.scalars(stmt.order_by(OutgoingDocument.issued_at, OutgoingDocument.id)
                            .offset(offset).limit(limit)).all()
    return total, items


def row(doc: OutgoingDocument) -> tuple:
    keeper = doc.unit.name if doc.unit else doc.author.full_name
    notes = [label for label, on in ((doc.urgency_label, doc.urgency != "normal"),
                                     (doc.secrecy_label, doc.is_classified),
                                     ("Văn bản QPPL", doc.legal_normative)) if on]
    return (
        doc.notation,
        f"{doc.doc_date:%d/%m/%Y}" if doc.doc_date else "",
        f"{doc.type_name}: {doc.subject}",
        doc.signer.full_name,
        "; ".join(r.name for r in doc.recipients),
        f"Văn thư; {keeper}",
        doc.copies,
        f"{clock.local(doc.issued_at):%d/%m/%Y}" if doc.issued_at else "",
        "",
        ", ".join(notes),
    )


def export(session, actor: User, year: int, fmt: str) -> tuple[bytes, str, str]:
    exports.check_format(fmt)
    return exports.register_file(
        fmt, title="SỔ ĐĂNG KÝ VĂN BẢN ĐI", org_name=actor.org.name, year=year,
        slug="so-van-ban-di", headers=COLUMNS, widths=WIDTHS,
        rows=(row(d) for d in documents(session, actor, year)))
