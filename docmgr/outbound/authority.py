"""Thẩm quyền ký (ND30 Điều 13): who may sign which outgoing documents, and in what
capacity. The rules are data, one table per organisation (``signing_authorities``),
seeded with ND30's defaults:

- the head of the organisation signs everything (khoản 1-2): in their own name, "TM."
  for a collective body, or "Q." when appointed acting head (Phụ lục I) — whoever holds
  the head's position is recorded as the head;
- a deputy signs "KT." (ký thay) for the head;
- a unit head (Chánh Văn phòng, trưởng phòng) signs "TUQ." (thừa ủy quyền, khoản 3: in
  writing, for a limited time) or "TL." (thừa lệnh, khoản 4: as the organisation's rules
  name) only where the organisation decided so, so those rows start refused until an
  administrator allows them — and never văn bản quy phạm pháp luật nor the documents by
  which the organisation decides or sets rules (nghị quyết, quyết định, chỉ thị, quy
  chế, quy định), which have no such row at all.

They are checked when a draft names its signer, when the signer is changed, and again
when signing and issuing (the rules or the signer's position may have changed since).
The capacity the draft's signer block states must be one the rules allow.
"""
import re
import unicodedata
from dataclasses import dataclass

from sqlalchemy import select

from docmgr.core import audit, catalogue, clock
from docmgr.core import auth as accounts
from docmgr.core.auth import LeaderPosition, Role, User, require_role
from docmgr.core.errors import Conflict, DomainError, ValidationFailed
from docmgr.outbound.models import Authority, SignerKind, SigningAuthority

LEGAL_NORMATIVE = "legal_normative"  # văn bản quy phạm pháp luật, whatever their type
# Documents by which the organisation itself decides or sets rules: signed by its
# leaders, never "TL."/"TUQ." by a unit head.
LEADERS_ONLY = (LEGAL_NORMATIVE, "NQ", "QĐ", "CT", "QC", "QyĐ")
DOC_CLASSES = (LEGAL_NORMATIVE, *catalogue.DOC_TYPES)


@dataclass(frozen=True)
class Rule:
    doc_class: str
    signer: SignerKind
    authority: Authority
    allowed: bool


def nd30_defaults() -> list[Rule]:
    rules = []
    for doc_class in DOC_CLASSES:
        rules += [Rule(doc_class, SignerKind.HEAD, Authority.NONE, True),
                  Rule(doc_class, SignerKind.HEAD, Authority.TM, True),
                  Rule(doc_class, SignerKind.HEAD, Authority.Q, True),
                  Rule(doc_class, SignerKind.DEPUTY, Authority.KT, True)]
        if doc_class not in LEADERS_ONLY:
            rules += [Rule(doc_class, SignerKind.UNIT_HEAD, Authority.TL, False),
                      Rule(doc_class, SignerKind.UNIT_HEAD, Authority.TUQ, False)]
    return rules


def doc_class_of(doc_type: str, legal_normative: bool) -> str:
    return LEGAL_NORMATIVE if legal_normative else doc_type


def class_label(doc_class: str) -> str:
    if doc_class == LEGAL_NORMATIVE:
        return "Văn bản quy phạm pháp luật"
    return catalogue.type_name(doc_class)


def prefix(authority: Authority) -> str:
    """How the capacity is written in the signer block: "KT.", "" for one's own name."""
    return "" if authority == Authority.NONE else f"{authority}."


def _written(authority: Authority) -> str:
    return prefix(authority) or "ký trực tiếp"


# --- the table ---------------------------------------------------------------------------

def seed(session, org_id: int) -> int:
    """Write ND30's defaults for what an organisation's table does not hold yet (all of
    it for a new organisation); the count written. What it holds is never changed."""
    held = {tuple(row) for row in session.execute(select(
        SigningAuthority.doc_class, SigningAuthority.signer, SigningAuthority.authority)
        .where(SigningAuthority.org_id == org_id))}
    missing = [r for r in nd30_defaults() if (r.doc_class, r.signer, r.authority) not in held]
    moment = clock.now()
    session.add_all(SigningAuthority(org_id=org_id, doc_class=r.doc_class, signer=r.signer,
                                     authority=r.authority, allowed=r.allowed,
                                     updated_at=moment) for r in missing)
    session.flush()
    return len(missing)


accounts.on_org_created(lambda session, org: seed(session, org.id))


def rules(session, org_id: int, doc_class: str | None = None) -> list[Rule]:
    """The organisation's rules (for one class of documents). A class its table does not
    hold — an organisation created outside ``create_org``, a type added to the catalogue
    later — follows ND30's defaults."""
    stmt = select(SigningAuthority).where(SigningAuthority.org_id == org_id)
    if doc_class is not None:
        stmt = stmt.where(SigningAuthority.doc_class == doc_class)
    stored = [Rule(r.doc_class, r.signer, r.authority, r.allowed)
              for r in session.scalars(stmt.order_by(SigningAuthority.id))]
    held = {r.doc_class for r in stored}
    return stored + [r for r in nd30_defaults() if r.doc_class not in held
                     and (doc_class is None or r.doc_class == doc_class)]


@dataclass(frozen=True)
class ClassRules:
    """One line of the "Thẩm quyền ký" page: a class of documents and, per kind of
    signer, the capacities allowed and those the organisation has not allowed."""
    doc_class: str
    label: str
    allowed: dict  # SignerKind -> [Authority]
    refused: dict  # SignerKind -> [Authority]


def table(session, org_id: int) -> list[ClassRules]:
    by_class = {c: ClassRules(c, class_label(c), {}, {}) for c in DOC_CLASSES}
    for rule in rules(session, org_id):
        line = by_class.setdefault(rule.doc_class, ClassRules(
            rule.doc_class, class_label(rule.doc_class), {}, {}))
        (line.allowed if rule.allowed else line.refused).setdefault(
            rule.signer, []).append(rule.authority)
    return list(by_class.values())


def table_dict(lines: list[ClassRules]) -> list[dict]:
    """The table for the API: one item per (class, signer, capacity)."""
    return [{"doc_class": line.doc_class, "label": line.label, "signer": kind,
             "signer_label": kind.label, "authority": authority,
             "prefix": prefix(authority), "allowed": allowed}
            for line in lines for allowed, part in ((True, line.allowed), (False, line.refused))
            for kind, authorities in part.items() for authority in authorities]


def set_allowed(session, actor: User, doc_class: str, signer: str, authority: str,
                allowed: bool) -> SigningAuthority:
    """An administrator allows or refuses one capacity, e.g. TL. for công văn signed by
    unit heads. Only capacities the table has can change: ND30 gives unit heads no
    capacity on the leaders' documents."""
    require_role(actor, Role.ADMIN)
    seed(session, actor.org_id)
    row = session.scalar(select(SigningAuthority).where(
        SigningAuthority.org_id == actor.org_id, SigningAuthority.doc_class == doc_class,
        SigningAuthority.signer == signer, SigningAuthority.authority == authority)
        .with_for_update())
    if row is None:
        raise ValidationFailed("Thẩm quyền này không có trong bảng thẩm quyền ký (theo Nghị "
                               "định 30/2020/NĐ-CP, văn bản quy phạm pháp luật, nghị quyết, "
                               "quyết định, chỉ thị, quy chế, quy định do lãnh đạo cơ quan "
                               "ký).", field="authority")
    if row.allowed != allowed:
        row.allowed, row.updated_at = allowed, clock.now()
        audit.record(session, "signing_authority.changed", actor=actor, obj=row,
                     doc_class=doc_class, signer=signer, authority=authority,
                     allowed=allowed)
    return row


# --- checks --------------------------------------------------------------------------------

def signer_kind(user: User) -> SignerKind | None:
    if user.role == Role.HEAD:
        return SignerKind.UNIT_HEAD
    if user.role == Role.LEADER:
        return {LeaderPosition.HEAD: SignerKind.HEAD,
                LeaderPosition.DEPUTY: SignerKind.DEPUTY}.get(user.leader_position)
    return None


class NoSigningAuthority(ValidationFailed):
    """A signer named on a draft who may not sign it (400, on the signer field)."""
    code = "signing_authority"


class SigningAuthorityChanged(Conflict):
    """Signing or issuing refused: the rules, the signer's position or the signer block
    no longer fit (409)."""
    code = "signing_authority"


def _summary(allowed: list[Rule]) -> str:
    kinds = {}
    for rule in allowed:
        kinds.setdefault(rule.signer, []).append(_written(rule.authority))
    if not kinds:
        return "cơ quan chưa giao cho ai ký loại văn bản này"
    return "; ".join(f"{kind.label.lower()} ({', '.join(ways)})" for kind, ways in kinds.items())


def permitted(session, org_id: int, doc_class: str, signer: User, *,
              error: type[DomainError] = NoSigningAuthority) -> list[Authority]:
    """The capacities in which ``signer`` may sign this class of documents; refused with
    the organisation's rule when there is none."""
    kind = signer_kind(signer)
    label = class_label(doc_class)
    if kind is None:
        if signer.role == Role.LEADER:
            raise error(f"Chưa xác định {signer.full_name} là người đứng đầu hay cấp phó của "
                        "cơ quan; quản trị hệ thống cần cập nhật trước khi giao ký.",
                        field="signer_id")
        raise error(f"{signer.full_name} không phải lãnh đạo hay trưởng đơn vị nên không ký "
                    f"được {label}.", field="signer_id")
    lines = rules(session, org_id, doc_class)
    mine = [r.authority for r in lines if r.signer == kind and r.allowed]
    if mine:
        return mine
    message = (f"{signer.full_name} ({kind.label.lower()}) không có thẩm quyền ký {label}. "
               f"Thẩm quyền ký của cơ quan với loại văn bản này: "
               f"{_summary([r for r in lines if r.allowed])}.")
    refused = [prefix(r.authority) for r in lines if r.signer == kind and not r.allowed]
    if refused:
        message += (f" Cơ quan chưa cho phép {kind.label.lower()} ký {', '.join(refused)} "
                    "loại văn bản này (Quản trị › Thẩm quyền ký).")
    raise error(message, field="signer_id")


def check_block(session, org_id: int, doc_class: str, signer: User,
                stated: Authority | None, *,
                error: type[DomainError] = SigningAuthorityChanged) -> None:
    """The capacity the signer block states must be one the rules give this signer."""
    mine = permitted(session, org_id, doc_class, signer, error=error)
    if stated is None or stated in mine:
        return
    said = (f"ghi “{prefix(stated)}”" if stated != Authority.NONE
            else "không ghi thẩm quyền (KT., TL., TUQ. …)")
    kind = signer_kind(signer)
    raise error(f"Khối chữ ký của dự thảo {said} nhưng {signer.full_name} "
                f"({kind.label.lower()}) ký {class_label(doc_class)} với thẩm quyền "
                f"{', '.join(_written(a) for a in mine)}. Sửa dòng thẩm quyền ở khối chữ ký "
                "và tải lên phiên bản mới.", field="signer_id")


# --- the signer block's capacity line ----------------------------------------------------

_PREFIX = re.compile(r"^(TM|KT|TL|TUQ|Q)\s*\.\s*\S")


def _fold(line: str) -> str:
    line = unicodedata.normalize("NFD", line.replace("đ", "d").replace("Đ", "D"))
    return "".join(c for c in line if not unicodedata.combining(c)).upper().strip()


def stated_authority(lines: tuple[str, ...] | None) -> Authority | None:
    """The capacity the signer block's lines state: the first of KT., TL., TUQ., Q.;
    TM. alone when only the collective is named ("TM. ỦY BAN NHÂN DÂN / CHỦ TỊCH");
    NONE for a block without a prefix; None when there is no block to read."""
    if lines is None:
        return None
    found = [Authority(match.group(1)) for match in (_PREFIX.match(_fold(line))
                                                      for line in lines) if match]
    personal = [a for a in found if a != Authority.TM]
    if personal:
        return personal[0]
    return Authority.TM if found else Authority.NONE
