"""Server-side sign-in sessions: what a browser's cookies stand for, and what ends them.

A signed-in browser holds one random token — in the Flask session cookie and, with "Ghi
nhớ đăng nhập", in the remember cookie — and the database keeps only its SHA-256, so a copy
of the database signs nobody in. Each login opens a new session with a new token. A session
ends when it is revoked (logout, a password change or reset, deactivation, "log out
everywhere"), when its absolute lifetime is over, or, unless it was remembered, after a
spell without requests. A captured cookie is worth exactly as much as the row it names.

The web glue (Flask-Login, cookies) is core/signin.py; this module knows no request.
"""
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Boolean, ForeignKey, String, delete, func, or_, select, update
from sqlalchemy.orm import Mapped, mapped_column, relationship

from docmgr.core.auth import ApiToken, User, token_digest
from docmgr.db import Base, UTCDateTime, utcnow

# last_seen_at is written at most this often per session (and at most a quarter of the
# idle limit): a request that finds it fresher writes nothing.
TOUCH_EVERY = timedelta(minutes=5)


class UserSession(Base):
    __tablename__ = "user_sessions"
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    remember: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at = mapped_column(UTCDateTime, default=utcnow, nullable=False)
    last_seen_at = mapped_column(UTCDateTime, nullable=False)
    expires_at = mapped_column(UTCDateTime, nullable=False)
    revoked_at = mapped_column(UTCDateTime, nullable=True)
    user_agent: Mapped[str] = mapped_column(String(255), default="")
    ip: Mapped[str] = mapped_column(String(45), default="")
    # One query finds the session, its user and the user's organisation and unit.
    user: Mapped[User] = relationship(lazy="joined")


@dataclass(frozen=True)
class Lifetimes:
    idle: timedelta  # a session not remembered ends after this long without a request
    plain: timedelta  # ... and at the latest this long after the login
    remembered: timedelta  # a remembered session ends this long after the login

    @classmethod
    def of(cls, settings) -> "Lifetimes":
        return cls(idle=timedelta(minutes=settings.session_idle_minutes),
                   plain=timedelta(hours=settings.session_max_hours),
                   remembered=timedelta(days=settings.session_max_days))

    @property
    def touch_every(self) -> timedelta:
        return min(TOUCH_EVERY, self.idle / 4)


def open_session(session, user: User, *, remember: bool, lifetimes: Lifetimes, now: datetime,
                 user_agent: str = "", ip: str = "") -> str:
    """A new session for ``user``; returns its token, which is stored nowhere but in the
    browser. The user's sessions that have ended are removed on the way."""
    session.execute(delete(UserSession).where(
        UserSession.user_id == user.id,
        or_(UserSession.revoked_at.is_not(None), UserSession.expires_at <= now)))
    token = secrets.token_urlsafe(32)
    session.add(UserSession(
        user_id=user.id, token_hash=token_digest(token), remember=remember, created_at=now,
        last_seen_at=now, expires_at=now + (lifetimes.remembered if remember else lifetimes.plain),
        user_agent=user_agent[:255], ip=ip[:45]))
    session.flush()
    return token


def find(session, token: str, lifetimes: Lifetimes, now: datetime) -> UserSession | None:
    """The live session a token names, with its user loaded (one indexed query); None for
    an unknown, revoked, expired or idle one, or one whose user was deactivated."""
    row = session.scalar(select(UserSession).where(UserSession.token_hash == token_digest(token)))
    if row is None or row.revoked_at is not None or row.expires_at <= now \
            or not row.user.active:
        return None
    if not row.remember and row.last_seen_at + lifetimes.idle <= now:
        return None
    return row


def due_for_touch(row: UserSession, lifetimes: Lifetimes, now: datetime) -> bool:
    return now - row.last_seen_at >= lifetimes.touch_every


def touch(session, session_id: int, now: datetime) -> None:
    session.execute(update(UserSession).where(UserSession.id == session_id)
                    .values(last_seen_at=now))


def revoke(row: UserSession, now: datetime) -> None:
    if row.revoked_at is None:
        row.revoked_at = now


@dataclass(frozen=True)
class Ended:
    sessions: int
    tokens: int

    def as_details(self) -> dict:
        return {"sessions_ended": self.sessions, "tokens_revoked": self.tokens}


def end_all(session, user: User, now: datetime) -> Ended:
    """End every session and revoke every API token of ``user``: whatever cookie or token
    was captured, none of it signs in any more."""
    sessions = session.execute(
        update(UserSession).where(UserSession.user_id == user.id,
                                  UserSession.revoked_at.is_(None))
        .values(revoked_at=now)).rowcount
    tokens = session.execute(
        update(ApiToken).where(ApiToken.user_id == user.id, ApiToken.revoked_at.is_(None))
        .values(revoked_at=now)).rowcount
    return Ended(sessions=sessions, tokens=tokens)


def live_counts(session, user_ids: list[int], lifetimes: Lifetimes,
                now: datetime) -> dict[int, int]:
    """How many live sessions each of these users has (for the administrator's list)."""
    rows = session.execute(
        select(UserSession.user_id, func.count()).where(
            UserSession.user_id.in_(user_ids), UserSession.revoked_at.is_(None),
            UserSession.expires_at > now,
            or_(UserSession.remember, UserSession.last_seen_at > now - lifetimes.idle))
        .group_by(UserSession.user_id))
    return dict(rows.all())
