"""Organisations, units, users, roles, API tokens, and who may do what."""
import hashlib
import secrets
from datetime import timedelta
from enum import StrEnum

from sqlalchemy import Boolean, ForeignKey, String, UniqueConstraint, false, select
from sqlalchemy.orm import Mapped, mapped_column, relationship
from werkzeug.security import check_password_hash, generate_password_hash

from docmgr.config import Settings
from docmgr.core import audit, clock, passwords, throttle
from docmgr.core.choices import Choice, column_type
from docmgr.core.errors import Forbidden, NotFound, ValidationFailed
from docmgr.db import Base, UTCDateTime, utcnow


class Role(StrEnum):
    ADMIN = "admin"
    CLERK = "clerk"
    SPECIALIST = "specialist"
    HEAD = "head"
    LEADER = "leader"


ROLE_LABELS = {
    Role.ADMIN: "Quản trị hệ thống",
    Role.CLERK: "Văn thư",
    Role.SPECIALIST: "Chuyên viên",
    Role.HEAD: "Trưởng phòng",
    Role.LEADER: "Lãnh đạo",
}
DEPUTY_LABEL = "Phó trưởng phòng"
# Who may be a unit's deputy head: one who handles documents (specialist) or one who also
# distributes them within the unit like the head (head).
DEPUTY_ROLES = (Role.SPECIALIST, Role.HEAD)


class LeaderPosition(Choice):
    """Where a leader stands in the organisation's leadership (ND30 Điều 13): the head
    signs in the organisation's name, a deputy signs "KT." (ký thay) for the head."""
    HEAD = "head", "Người đứng đầu"
    DEPUTY = "deputy", "Cấp phó"


class Organization(Base):
    __tablename__ = "organizations"
    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(35), unique=True)  # mã định danh (OrganId)
    name: Mapped[str] = mapped_column(String(255))
    abbr: Mapped[str] = mapped_column(String(30))
    place: Mapped[str] = mapped_column(String(100), default="")  # địa danh on the date line
    created_at = mapped_column(UTCDateTime, default=utcnow)


class Unit(Base):
    __tablename__ = "units"
    __table_args__ = (UniqueConstraint("org_id", "abbr"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"), index=True)
    name: Mapped[str] = mapped_column(String(255))
    abbr: Mapped[str] = mapped_column(String(30))
    org: Mapped[Organization] = relationship(lazy="joined")


class User(Base):
    __tablename__ = "users"
    id: Mapped[int] = mapped_column(primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"), index=True)
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("units.id"), index=True)
    username: Mapped[str] = mapped_column(String(80), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    full_name: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(20), index=True)
    # Leaders only (NULL for every other role): head of the organisation or a deputy.
    leader_position: Mapped[LeaderPosition | None] = mapped_column(
        column_type(LeaderPosition, column="leader_position", length=10), nullable=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    # Set by an administrator's password reset: nothing but changing it until it is changed.
    # The database's default only (no Python one): inserts written for an older schema,
    # as the migration tests make, stay valid.
    must_change_password: Mapped[bool] = mapped_column(Boolean, server_default=false())
    # Phó trưởng phòng: sees what the unit's head sees of the classified documents assigned
    # to the unit; what they may do still follows their role.
    is_deputy: Mapped[bool] = mapped_column(Boolean, server_default=false())
    created_at = mapped_column(UTCDateTime, default=utcnow)

    org: Mapped[Organization] = relationship(lazy="joined")
    unit: Mapped[Unit | None] = relationship(lazy="joined")

    # Flask-Login protocol
    is_authenticated = True
    is_anonymous = False
    # The server-side session (core/sessions.py) this request is signed in with, and its
    # token: set by core/signin.py, never stored on the user.
    web_session = None
    session_token = None

    @property
    def is_active(self) -> bool:
        return self.active

    def get_id(self) -> str | None:
        """What Flask-Login keeps in the cookies: the session's random token, never the
        user id, so that a cookie dies with its session (Flask-Login's alternative id)."""
        return self.session_token

    @property
    def role_label(self) -> str:
        return DEPUTY_LABEL if self.is_deputy else ROLE_LABELS[Role(self.role)]

    @property
    def headed_unit_id(self) -> int | None:
        """The unit the user heads or deputises for (a Trưởng phòng's or Phó trưởng phòng's
        own unit), None for everyone else."""
        if self.unit_id is not None and (self.role == Role.HEAD or self.is_deputy):
            return self.unit_id
        return None

    def has_role(self, *roles: str) -> bool:
        return self.role in roles

    def to_dict(self) -> dict:
        return {"id": self.id, "username": self.username, "full_name": self.full_name,
                "role": self.role, "leader_position": self.leader_position,
                "unit_id": self.unit_id, "is_deputy": self.is_deputy,
                "org_code": self.org.code}


class ApiToken(Base):
    """A bearer token; only its SHA-256 is stored, so a database leak reveals no token."""
    __tablename__ = "api_tokens"
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at = mapped_column(UTCDateTime, default=utcnow)
    expires_at = mapped_column(UTCDateTime)
    revoked_at = mapped_column(UTCDateTime, nullable=True)
    user: Mapped[User] = relationship(lazy="joined")


def hash_password(password: str) -> str:
    return generate_password_hash(password)  # scrypt (Werkzeug's default KDF)


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class LoginRefused(Forbidden):
    status = 401
    code = "invalid_credentials"
    keeps_changes = True  # the throttle's counts and the audit event of the failure


WRONG_CREDENTIALS = "Tên đăng nhập hoặc mật khẩu không đúng."


def authenticate(session, reader, username: str, password: str, *, address: str,
                 policy: throttle.Policy) -> User:
    """Check a password from ``address``, throttled (core/throttle.py), audited if wrong.

    The password hash (scrypt: about 0.1 s of CPU on purpose) runs with no transaction
    open: on SQLite the database's one write lock is not held meanwhile, so a crowd of
    strangers posting wrong passwords does not stop every clerk's registration; on
    PostgreSQL no transaction idles through it. Around it:

    1. a short read in a session of its own (``reader``): an attempt its throttle keys do
       not allow yet is refused (429) before any hashing;
    2. the process's turn to hash (a few at once, and a lane of their own for addresses
       the account has logged in from: ``throttle.checking_turn``), the same check again
       (failures recorded while queued), the account's hash read, and the hash computed —
       against a dummy hash for an unknown or inactive username, so that time and answer
       do not tell which accounts exist;
    3. a short write in the request's transaction (``session``): the keys locked and
       checked again, the outcome counted, a failure audited ("auth.login_failed" with the
       username tried and the address) and refused with ``LoginRefused``, which keeps
       those writes.

    ``session`` must not have written anything yet: what it read (Flask-Login looking up
    a user from a cookie) is ended before the hash, so its write lock is not held.
    """
    name = username.strip()
    attempt = throttle.Attempt(address=address, username=name)
    if session.in_transaction():
        session.rollback()
    with reader() as read:
        trusted = throttle.refuse_if_waiting(read, attempt, clock.now())
    with throttle.checking_turn(policy, trusted=trusted):
        with reader() as read:
            throttle.refuse_if_waiting(read, attempt, clock.now())  # failures while queued
            account = read.execute(select(User.id, User.org_id, User.password_hash,
                                          User.active).where(User.username == name)).first()
        known = account is not None and account.active
        matches = check_password_hash(account.password_hash if known else _DUMMY_HASH,
                                      password)

    now = clock.now()
    rows = throttle.locked_rows(session, attempt, now)
    user = session.get(User, account.id) if known else None
    # The account as it is now: deactivated or given a new password meanwhile, the check
    # above is void.
    if user is None or not user.active or user.password_hash != account.password_hash \
            or not matches:
        throttle.record_failure(session, rows, attempt, policy, now)
        _audit_failure(session, account, attempt)
        raise LoginRefused(WRONG_CREDENTIALS)
    throttle.record_success(rows, attempt, now)
    return user


def _audit_failure(session, account, attempt: throttle.Attempt) -> None:
    """In the account's organisation (its admins see it on /admin/audit); a username that
    does not exist belongs to no organisation: the system chain."""
    about = {"org_id": account.org_id, "object_type": User.__tablename__,
             "object_id": account.id} if account is not None else {}
    audit.record(session, "auth.login_failed", actor_name="người chưa đăng nhập",
                 username=attempt.username[:throttle.USERNAME_CHARS], ip=attempt.address,
                 **about)


_DUMMY_HASH = generate_password_hash("not-a-real-password")


def issue_token(session, user: User, ttl_days: int) -> str:
    token = secrets.token_urlsafe(32)
    session.add(ApiToken(user_id=user.id, token_hash=token_digest(token),
                         expires_at=clock.now() + timedelta(days=ttl_days)))
    return token


def user_for_token(session, token: str) -> User | None:
    row = session.scalar(select(ApiToken).where(ApiToken.token_hash == token_digest(token)))
    if row is None or row.revoked_at or row.expires_at <= clock.now() or not row.user.active:
        return None
    return row.user


def revoke_token(session, token: str) -> bool:
    row = session.scalar(select(ApiToken).where(ApiToken.token_hash == token_digest(token)))
    if row is None or row.revoked_at:
        return False
    row.revoked_at = clock.now()
    return True


def require_role(user: User, *roles: str) -> None:
    if user.role not in roles:
        raise Forbidden("Bạn không có quyền thực hiện thao tác này.")


def org_by_code(session, code: str) -> Organization:
    org = session.scalar(select(Organization).where(Organization.code == code))
    if org is None:
        raise NotFound(f"Không tìm thấy cơ quan có mã {code}.")
    return org


def unit_in_org(session, org_id: int, unit_id: int) -> Unit:
    unit = session.get(Unit, unit_id)
    if unit is None or unit.org_id != org_id:
        raise NotFound("Không tìm thấy phòng/ban.", field="unit_id")
    return unit


def user_in_org(session, org_id: int, user_id: int) -> User:
    user = session.get(User, user_id)
    if user is None or user.org_id != org_id or not user.active:
        raise NotFound("Không tìm thấy người dùng.", field="user_id")
    return user


# What other slices set up for every new organisation, e.g. outbound's signing-authority
# rules: registered when the slice is imported (core cannot import the slices).
_ORG_SETUP = []


def on_org_created(setup):
    """Register ``setup(session, org)`` to run inside ``create_org``'s transaction."""
    _ORG_SETUP.append(setup)
    return setup


def create_org(session, *, code: str, name: str, abbr: str, place: str = "") -> Organization:
    if session.scalar(select(Organization).where(Organization.code == code)):
        raise ValidationFailed(f"Mã cơ quan {code} đã tồn tại.", field="code")
    org = Organization(code=code, name=name, abbr=abbr, place=place)
    session.add(org)
    session.flush()
    for setup in _ORG_SETUP:
        setup(session, org)
    return org


def create_unit(session, *, org: Organization, name: str, abbr: str) -> Unit:
    if session.scalar(select(Unit).where(Unit.org_id == org.id, Unit.abbr == abbr)):
        raise ValidationFailed(f"Phòng/ban {abbr} đã tồn tại.", field="abbr")
    unit = Unit(org_id=org.id, name=name, abbr=abbr)
    session.add(unit)
    session.flush()
    return unit


def _head_of(session, org_id: int) -> User | None:
    return session.scalar(select(User).where(
        User.org_id == org_id, User.role == Role.LEADER, User.active,
        User.leader_position == LeaderPosition.HEAD).order_by(User.id).limit(1))


def _leader_position(session, org_id: int, role: str, position: str | None,
                     user_id: int | None = None) -> LeaderPosition | None:
    """A leader's position, checked: an organisation has one head. Unsaid, the first
    leader of an organisation is its head and later ones are deputies (the order in
    which an office is set up)."""
    if role != Role.LEADER:
        if position:
            raise ValidationFailed("Chỉ lãnh đạo mới có vị trí người đứng đầu hoặc cấp phó.",
                                   field="leader_position")
        return None
    head = _head_of(session, org_id)
    if head is not None and head.id == user_id:
        head = None
    if not position:
        return LeaderPosition.DEPUTY if head else LeaderPosition.HEAD
    if position not in {p.value for p in LeaderPosition}:
        raise ValidationFailed(f"Vị trí lãnh đạo không hợp lệ: {position}.",
                               field="leader_position")
    if position == LeaderPosition.HEAD and head is not None:
        raise ValidationFailed(f"Cơ quan đã có người đứng đầu ({head.full_name}); chuyển "
                               "người đó thành cấp phó trước.", field="leader_position")
    return LeaderPosition(position)


def set_leader_position(session, user: User, position: str) -> User:
    """Make a leader the head of the organisation or a deputy."""
    user.leader_position = _leader_position(session, user.org_id, user.role, position,
                                            user_id=user.id)
    session.flush()
    return user


def create_user(session, *, org: Organization, username: str, password: str, full_name: str,
                role: str, unit: Unit | None = None, leader_position: str | None = None,
                deputy: bool = False,
                min_password_length: int = Settings.password_min_length) -> User:
    if role not in {r.value for r in Role}:
        raise ValidationFailed(f"Vai trò không hợp lệ: {role}.", field="role")
    if deputy and role not in DEPUTY_ROLES:
        raise ValidationFailed("Phó trưởng phòng phải có vai trò chuyên viên hoặc trưởng phòng.",
                               field="role")
    if deputy and unit is None:
        raise ValidationFailed("Phó trưởng phòng phải thuộc một phòng/ban.", field="unit")
    passwords.check_new_password(password, username=username, min_length=min_password_length,
                                 field="password")
    if session.scalar(select(User).where(User.username == username)):
        raise ValidationFailed(f"Tên đăng nhập {username} đã tồn tại.", field="username")
    position = _leader_position(session, org.id, role, leader_position)
    user = User(org_id=org.id, unit_id=unit.id if unit else None, username=username,
                password_hash=hash_password(password), full_name=full_name, role=role,
                leader_position=position, is_deputy=deputy)
    session.add(user)
    session.flush()
    return user


def unit_by_abbr(session, org: Organization, abbr: str) -> Unit:
    unit = session.scalar(select(Unit).where(Unit.org_id == org.id, Unit.abbr == abbr))
    if unit is None:
        raise NotFound(f"Không tìm thấy phòng/ban {abbr} trong {org.name}.", field="unit")
    return unit
