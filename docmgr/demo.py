"""A demo provincial office so a newcomer can click through every flow after ``make run``."""
import zlib
from datetime import timedelta

from sqlalchemy import select

from docmgr.core import audit, clock
from docmgr.core import auth as accounts
from docmgr.core.uploads import check_pdf
from docmgr.inbound import operations as inbound
from docmgr.inbound.models import AssignmentRole
from docmgr.outbound import authority
from docmgr.outbound import operations as outbound
from docmgr.outbound.models import Authority, OutgoingStatus, SignerKind
from docmgr.signing import appearance
from docmgr.signing import operations as signing
from docmgr.signing.pki import BuiltinCA
from docmgr.signing.trust import TrustStore

PASSWORD = "vanban-demo-2026"  # meets the password rules (core/passwords.py)
PIN = "123456"  # every demo signing key (personal and the organisation's)
ORG = ("000.00.01.H55", "Văn phòng UBND tỉnh Quảng Ngãi", "VP")
PARTNER = ("000.00.02.H55", "Sở Tài chính tỉnh Quảng Ngãi", "STC")
UNITS = [("Phòng Hành chính - Tổ chức", "HC"), ("Phòng Kinh tế", "KT"),
         ("Phòng Khoa giáo - Văn xã", "KGVX")]
USERS = [
    ("admin", "Quản trị Hệ thống", "admin", None),
    ("vanthu", "Nguyễn Thị Thu", "clerk", "HC"),
    ("chuyenvien", "Trần Văn Bình", "specialist", "KT"),
    ("truongphong", "Lê Thị Hoa", "head", "KT"),
    ("phophong", "Đặng Văn Phúc", "specialist", "KT"),
    ("lanhdao", "Phạm Minh Quang", "leader", None),
    ("phochanh", "Đặng Văn Minh", "leader", None),
]
# The Chánh Văn phòng heads the office; the Phó Chánh Văn phòng signs "KT." for him.
LEADER_POSITIONS = {"lanhdao": "head", "phochanh": "deputy"}
SIGNER_TITLES = {"lanhdao": "Chanh Van phong", "phochanh": "KT. Chanh Van phong"}
DEPUTIES = {"phophong"}  # Phó trưởng phòng Kinh tế
DOCUMENTS = [
    ("UBND tỉnh Quảng Ngãi", "1520/UBND-KT", "CV", 6, "urgent",
     "V/v triển khai kế hoạch phát triển kinh tế - xã hội năm 2027"),
    ("Sở Tài chính tỉnh Quảng Ngãi", "412/STC-NS", "BC", 4, "normal",
     "Báo cáo tình hình thực hiện dự toán ngân sách quý III"),
    ("Bộ Nội vụ", "88/QĐ-BNV", "QĐ", 10, "normal",
     "Quyết định về việc ban hành quy chế công tác văn thư, lưu trữ"),
    ("Sở Y tế tỉnh Quảng Ngãi", "215/KH-SYT", "KH", 2, "express",
     "Kế hoạch phòng, chống dịch bệnh mùa mưa bão"),
    ("Công an tỉnh Quảng Ngãi", "37/CAT-PA03", "CV", 3, "normal",
     "V/v bảo đảm an ninh kinh tế trong các dự án trọng điểm"),
]
# The Phòng Kinh tế handles the first two and the classified one (Mật): its head and deputy
# may open that one, the unit's specialist may not until named on it.
ASSIGNED_TO_KT = {"1520/UBND-KT", "412/STC-NS", "37/CAT-PA03"}
CLASSIFIED = {"37/CAT-PA03"}


def sample_pdf(lines: list[str], pages: int = 1) -> bytes:
    """A small, valid PDF with lines of text in Helvetica (ASCII), for demos and tests."""
    placed = []
    for page in range(pages):
        text = [*lines, f"Trang {page + 1}/{pages}"]
        placed += [(page, 60, 780 - 18 * row, 13, line) for row, line in enumerate(text)]
    return placed_text_pdf(placed, pages)


def nd30_draft_pdf(*, org: str, type_title: str, subject: str, signer_title: str,
                   signer_name: str, body_pages: int = 1) -> bytes:
    """A draft laid out like an ND30 document: header columns with "Số:" and the date
    line left blank for issuing, the body, and the signature block on the last page."""
    placed = [
        (0, 60, 790, 11, org.upper()), (0, 330, 790, 11, "CONG HOA XA HOI CHU NGHIA VIET NAM"),
        (0, 345, 774, 11, "Doc lap - Tu do - Hanh phuc"),
        (0, 60, 752, 12, "So:        /"), (0, 330, 752, 12, "Quang Ngai, ngay    thang    nam"),
        (0, 250, 700, 14, type_title.upper()), (0, 120, 680, 12, subject),
    ]
    for page in range(body_pages):
        top = 640 if page == 0 else 780
        placed += [(page, 60, top - 18 * row, 12, f"Noi dung van ban, doan {row + 1}.")
                   for row in range(8)]
    last = body_pages - 1
    placed += [(last, 60, 420, 11, "Noi nhan:"), (last, 60, 405, 10, "- Nhu tren;"),
               (last, 60, 392, 10, "- Luu: VT."),
               (last, 380, 420, 12, signer_title.upper()), (last, 375, 330, 12, signer_name)]
    return placed_text_pdf(placed, body_pages)


def placed_text_pdf(placed: list[tuple[int, float, float, float, str]], pages: int) -> bytes:
    """A valid PDF with text at given places: (page, x, y, size, text), Helvetica, ASCII."""
    objects = [b"<< /Type /Catalog /Pages 2 0 R >>", None,
               b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>"]
    kids = []
    for number in range(pages):
        ops = " ".join(f"BT /F1 {size:g} Tf {x:g} {y:g} Td ({_escape(text)}) Tj ET"
                       for page, x, y, size, text in placed if page == number)
        stream = zlib.compress(ops.encode("latin-1", "replace"))
        objects.append(b"<< /Length %d /Filter /FlateDecode >>\nstream\n" % len(stream)
                       + stream + b"\nendstream")
        content_ref = len(objects)
        objects.append(b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] "
                       b"/Resources << /Font << /F1 3 0 R >> >> /Contents %d 0 R >>"
                       % content_ref)
        kids.append(len(objects))
    objects[1] = b"<< /Type /Pages /Kids [%s] /Count %d >>" % (
        b" ".join(b"%d 0 R" % k for k in kids), len(kids))
    return pdf_from_objects(*objects)


def pdf_from_objects(*objects: bytes, packed=()) -> bytes:
    """A PDF of these object bodies (numbered from 1) with a correct cross-reference;
    object 1 must be the catalog. The objects numbered in ``packed`` go compressed into
    one object stream, as PDF 1.5 writers do (and the cross-reference is then a stream)."""
    packed = sorted(set(packed))
    out = bytearray(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
    places = {}  # number: (1, offset) written plainly, or (2, index) in the object stream
    for number, body in enumerate(objects, start=1):
        if number not in packed:
            places[number] = (1, len(out))
            out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    if not packed:
        xref = len(out)
        out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
        out += b"".join(b"%010d 00000 n \n" % places[n][1] for n in sorted(places))
        out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
            len(objects) + 1, xref)
        return bytes(out)
    stream_number, xref_number = len(objects) + 1, len(objects) + 2
    header, body = [], bytearray()
    for index, number in enumerate(packed):
        header.append(b"%d %d" % (number, len(body)))
        body += objects[number - 1] + b"\n"
        places[number] = (2, index)
    first = b" ".join(header) + b"\n"
    data = zlib.compress(first + bytes(body))
    places[stream_number] = (1, len(out))
    out += (b"%d 0 obj\n<< /Type /ObjStm /N %d /First %d /Filter /FlateDecode /Length %d >>"
            b"\nstream\n" % (stream_number, len(packed), len(first), len(data)) + data
            + b"\nendstream\nendobj\n")
    places[xref_number] = (1, len(out))

    def row(kind: int, place: int) -> bytes:  # /W [1 4 2]
        if kind == 1:
            return b"\x01" + place.to_bytes(4, "big") + b"\x00\x00"
        return b"\x02" + stream_number.to_bytes(4, "big") + place.to_bytes(2, "big")
    rows = b"\x00\x00\x00\x00\x00\xff\xff" + b"".join(
        row(*places[n]) for n in range(1, xref_number + 1))
    xref = len(out)
    out += (b"%d 0 obj\n<< /Type /XRef /Size %d /W [1 4 2] /Root 1 0 R /Length %d >>\nstream\n"
            % (xref_number, xref_number + 1, len(rows)) + rows + b"\nendstream\nendobj\n")
    out += b"startxref\n%d\n%%%%EOF\n" % xref
    return bytes(out)


def _escape(text: str) -> str:
    import unicodedata
    ascii_text = unicodedata.normalize("NFKD", text.replace("đ", "d").replace("Đ", "D"))
    ascii_text = "".join(c for c in ascii_text if not unicodedata.combining(c))
    return ascii_text.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")


def load_demo(db, blobs, data_dir) -> list[tuple[str, str]]:
    """Create the demo office once; returns the accounts created (empty if already there)."""
    with db.transaction() as session:
        if session.scalar(select(accounts.Organization).where(
                accounts.Organization.code == ORG[0])):
            return []
        org = accounts.create_org(session, code=ORG[0], name=ORG[1], abbr=ORG[2],
                                  place="Quảng Ngãi")
        partner = accounts.create_org(session, code=PARTNER[0], name=PARTNER[1],
                                      abbr=PARTNER[2], place="Quảng Ngãi")
        audit.record(session, "demo.loaded", org_id=org.id)
        units = {abbr: accounts.create_unit(session, org=org, name=name, abbr=abbr)
                 for name, abbr in UNITS}
        users = {}
        for username, full_name, role, unit in USERS:
            users[username] = accounts.create_user(
                session, org=org, username=username, password=PASSWORD, full_name=full_name,
                role=role, unit=units.get(unit), leader_position=LEADER_POSITIONS.get(username),
                deputy=username in DEPUTIES)
        # The office's rules let its trưởng phòng sign công văn "TL." (ND30 Điều 13.4).
        authority.set_allowed(session, users["admin"], "CV", SignerKind.UNIT_HEAD, Authority.TL,
                              True)
        accounts.create_user(session, org=partner, username="vanthu.stc", password=PASSWORD,
                             full_name="Hồ Thị Lan", role="clerk")
        _signing_setup(session, blobs, BuiltinCA(data_dir), org, users)
    today = clock.today()
    for index, (sender, notation, doc_type, age, urgency, subject) in enumerate(DOCUMENTS):
        data = inbound.Registration(
            sender=sender, notation=notation, doc_date=today - timedelta(days=age),
            doc_type=doc_type, subject=subject, urgency=urgency,
            secrecy="confidential" if notation in CLASSIFIED else "normal",
            due_date=today + timedelta(days=10 - 3 * index))
        pdf = check_pdf(sample_pdf([sender.upper(), f"So: {notation}", "", subject]),
                        max_bytes=10 * 1024 * 1024)
        with db.transaction() as session:
            clerk = session.get(accounts.User, users["vanthu"].id)
            doc = inbound.register(session, blobs, clerk, data, pdf, f"{doc_type}.pdf")
            if notation in ASSIGNED_TO_KT:
                leader = session.get(accounts.User, users["lanhdao"].id)
                inbound.assign(session, leader, doc.id, unit_id=units["KT"].id,
                               role=AssignmentRole.MAIN,
                               deadline=today + timedelta(days=max(7 - 5 * index, 2)),
                               note="Phòng Kinh tế chủ trì, tham mưu trả lời.")
    _outgoing_examples(db, blobs, users, partner, TrustStore.for_app({}, data_dir))
    return [(u, f"{users[u].role_label} — {n}") for u, n, _, _ in USERS] + [
        ("vanthu.stc", f"Văn thư — {PARTNER[1]}")]


def _signing_setup(session, blobs, ca, org, users) -> None:
    """Test certificates for the signers and the organisation, and a generated seal."""
    for username in ("lanhdao", "phochanh", "truongphong"):
        signing.issue_user_certificate(session, ca, users[username], PIN)
    signing.issue_org_certificate(session, ca, org, PIN)
    seal = appearance.png_bytes(appearance.generated_seal(org.name, 420))
    signing.set_org_seal(session, blobs, users["admin"], seal, 36)


def _outgoing_examples(db, blobs, users, partner, trust) -> None:
    """One draft waiting for the deputy's signature ("KT."), one signed by the head and
    waiting to be issued, one issued (so the register, search and statistics have an
    outgoing document)."""
    for subject, doc_type, signer, stage in (
            ("Kế hoạch kiểm tra công tác văn thư, lưu trữ năm 2027", "KH", "phochanh",
             OutgoingStatus.AWAITING_SIGNATURE),
            ("Quyết định thành lập Tổ công tác chuyển đổi số", "QĐ", "lanhdao",
             OutgoingStatus.SIGNED),
            ("Thông báo kết luận của Chủ tịch tại cuộc họp giao ban tháng 11", "TB", "lanhdao",
             OutgoingStatus.ISSUED)):
        pdf = check_pdf(nd30_draft_pdf(
            org="Van phong UBND tinh Quang Ngai", type_title=subject.split()[0],
            subject=subject, signer_title=SIGNER_TITLES[signer],
            signer_name=users[signer].full_name), max_bytes=10 * 1024 * 1024)
        with db.transaction() as session:
            author = session.get(accounts.User, users["chuyenvien"].id)
            data = outbound.DraftInput(
                doc_type=doc_type, subject=subject,
                signer_id=users[signer].id, reviewer_ids=(users["truongphong"].id,),
                recipients=(partner.code, "Sở Nội vụ tỉnh Quảng Ngãi"))
            doc = outbound.create_draft(session, blobs, author, data, pdf, "du-thao.pdf")
            outbound.submit(session, author, doc.id)
            outbound.approve(session, session.get(accounts.User, users["truongphong"].id),
                             doc.id, "Đồng ý, trình lãnh đạo ký.")
            if stage in (OutgoingStatus.SIGNED, OutgoingStatus.ISSUED):
                outbound.sign(session, blobs, session.get(accounts.User, users[signer].id),
                              doc.id, PIN, trust=trust)
            if stage == OutgoingStatus.ISSUED:
                outbound.issue(session, blobs, session.get(accounts.User, users["vanthu"].id),
                               doc.id, PIN, trust=trust)
