"""Login throttling: progressive delays per client address and per account, which a
stranger cannot turn into a lock-out of the account's owner.

What is counted
---------------
Every refused password — wrong, or for an unknown or inactive username, which must look
alike — counts once for each of three keys:

- the address (``a:<address>``): all usernames tried from one client address. The main
  brake, on a flood and on spraying one password over many accounts;
- the account from that address (``p:<address>|<username>``): guessing one person's
  password from one place. The owner is elsewhere, so this never slows the owner down;
- the account from anywhere (``u:<username>``): guessing one account from many addresses.
  Its delay is capped short (``account_max_delay``, a minute), and it does not apply at an
  address the owner has logged in from (a pair marked trusted on success): a stranger can
  make the account a minute slower to reach from a new place, never close it.

Once a key has ``free`` failures, the next attempt is allowed only after a delay that
doubles with every further failure (1 s, 2 s, 4 s, ...) up to its cap. A key's count is
forgotten a day after its last failure. While any key of an attempt is waiting, the attempt
is refused (429, ``Retry-After``) before the password hash is computed: a throttled attempt
costs one indexed read and writes nothing.

Why in the database and not in memory: several processes serve the same office (gunicorn
workers), and a restart must not hand out fresh attempts. Unknown usernames are counted
like real ones, so throttling tells nothing about which accounts exist.

How it is used (core/auth.py ``authenticate``): ``refuse_if_waiting`` in a short read;
then, holding one of the process's few ``checking_turn``s, ``refuse_if_waiting`` again and
the hash; after it, in the request's write transaction, ``locked_rows`` (which re-checks:
attempts that passed the read together are not all answered), then ``record_failure`` or
``record_success``.
"""
import math
import threading
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache

from sqlalchemy import Integer, String, delete, select
from sqlalchemy.orm import Mapped, mapped_column

from docmgr.core.errors import ServiceBusy, TooManyAttempts
from docmgr.db import Base, UTCDateTime, insert_ignoring_conflict

FORGET_AFTER = timedelta(days=1)  # a key's failures are forgotten after a quiet day
TRUSTED_FOR = timedelta(days=90)  # an address the owner logged in from, for the account key
FIRST_DELAY_SECONDS = 1
QUEUE_PER_TURN = 4  # attempts that may wait in line for each turn to hash; more: 503
SLOT_WAIT_SECONDS = 10  # a login waits this long for its turn to be checked, then 503
BUSY_RETRY_AFTER = 2
USERNAME_CHARS = 80  # users.username: a longer name cannot exist; it is counted truncated
ADDRESS_CHARS = 64  # an IPv6 address is at most 45


class LoginThrottle(Base):
    __tablename__ = "login_throttles"
    key: Mapped[str] = mapped_column(String(160), primary_key=True)
    failures: Mapped[int] = mapped_column(Integer, default=0)
    last_failure_at = mapped_column(UTCDateTime, nullable=True)
    blocked_until = mapped_column(UTCDateTime, nullable=True)  # the next attempt, not before
    trusted_until = mapped_column(UTCDateTime, nullable=True)  # pairs: the owner's address
    forget_at = mapped_column(UTCDateTime, index=True, nullable=False)  # deletable after it


@dataclass(frozen=True)
class Policy:
    pair_free: int = 5
    address_free: int = 20
    account_free: int = 20
    max_delay: timedelta = timedelta(minutes=15)
    account_max_delay: timedelta = timedelta(minutes=1)
    concurrent_checks: int = 1

    @classmethod
    def from_settings(cls, settings) -> "Policy":
        return cls(pair_free=settings.login_max_failures,
                   address_free=settings.login_address_max_failures,
                   account_free=settings.login_address_max_failures,
                   max_delay=timedelta(minutes=settings.login_max_delay_minutes),
                   account_max_delay=timedelta(seconds=settings.login_account_max_delay_seconds),
                   concurrent_checks=settings.login_concurrent_checks)


@dataclass(frozen=True)
class Attempt:
    """Who tries which username from where: the three keys it counts for."""
    address: str
    username: str

    @property
    def address_key(self) -> str:
        return "a:" + self.address[:ADDRESS_CHARS]

    @property
    def pair_key(self) -> str:
        return f"p:{self.address[:ADDRESS_CHARS]}|{self.username[:USERNAME_CHARS]}"

    @property
    def account_key(self) -> str:
        return "u:" + self.username[:USERNAME_CHARS]

    def keys(self) -> list[str]:
        return sorted({self.address_key, self.pair_key, self.account_key})

    def limits(self, key: str, policy: Policy) -> tuple[int, timedelta]:
        """(free failures, longest delay) of one of this attempt's keys."""
        if key == self.account_key:
            return policy.account_free, policy.account_max_delay
        if key == self.pair_key:
            return policy.pair_free, policy.max_delay
        return policy.address_free, policy.max_delay


def refuse_if_waiting(session, attempt: Attempt, now: datetime) -> bool:
    """Refuse (429) an attempt that one of its keys does not allow yet. A plain read.
    Answers whether the account has logged in from this address before (a trusted pair)."""
    rows = session.scalars(select(LoginThrottle).where(LoginThrottle.key.in_(attempt.keys())))
    return _refuse_if_waiting({row.key: row for row in rows}, attempt, now)


@contextmanager
def checking_turn(policy: Policy, *, trusted: bool):
    """Hold one of this process's ``concurrent_checks`` turns to compute a password hash.

    Without turns a crowd of strangers from many addresses — none of them throttled yet —
    would run a hash per serving thread at once and starve every other request of CPU.
    A few attempts wait in line (QUEUE_PER_TURN per turn, up to SLOT_WAIT_SECONDS: a
    morning's logins arriving together); one that finds the line full is answered 503 with
    Retry-After at once, so that a crowd does not hold the server's threads either (a
    gunicorn worker has only a few). Check the throttle again once the turn has come:
    failures recorded meanwhile refuse most of a crowd from one address.

    People at an address their account has logged in from (``trusted``) have a line of
    their own: the office's staff at their desks log in without waiting behind a crowd."""
    lane = _lane(max(1, policy.concurrent_checks), trusted)
    if not lane.places.acquire(blocking=False):
        raise _busy()
    try:
        if not lane.turns.acquire(timeout=SLOT_WAIT_SECONDS):
            raise _busy()
        try:
            yield
        finally:
            lane.turns.release()
    finally:
        lane.places.release()


class _Lane:
    """One line of a process: ``count`` hashes at once, a few more attempts waiting."""

    def __init__(self, count: int):
        self.turns = threading.BoundedSemaphore(count)
        self.places = threading.BoundedSemaphore(count * (1 + QUEUE_PER_TURN))


@cache
def _lane(count: int, trusted: bool) -> _Lane:
    return _Lane(count)


def _busy() -> ServiceBusy:
    return ServiceBusy("Hệ thống đang bận kiểm tra nhiều lượt đăng nhập cùng lúc. Vui lòng "
                       f"thử lại sau {BUSY_RETRY_AFTER} giây.", retry_after=BUSY_RETRY_AFTER)


def locked_rows(session, attempt: Attempt, now: datetime) -> dict[str, LoginThrottle]:
    """The attempt's rows, created if missing and locked for the rest of the transaction,
    after checking again that the attempt is allowed: of attempts that passed the read
    together, those that find a delay set by another one's failure are refused without
    their outcome being told or counted. Keys are locked in one order: no deadlock."""
    for key in attempt.keys():
        insert_ignoring_conflict(session, LoginThrottle, key=key, failures=0,
                                 forget_at=now + FORGET_AFTER)
    rows = session.scalars(
        select(LoginThrottle).where(LoginThrottle.key.in_(attempt.keys()))
        .order_by(LoginThrottle.key).with_for_update()
        .execution_options(populate_existing=True)).all()
    found = {row.key: row for row in rows}
    _refuse_if_waiting(found, attempt, now)
    return found


def record_failure(session, rows: dict[str, LoginThrottle], attempt: Attempt, policy: Policy,
                   now: datetime) -> None:
    """Count a refused password for every key; a key past its free failures waits."""
    for key, row in rows.items():
        if row.last_failure_at is None or row.last_failure_at + FORGET_AFTER <= now:
            row.failures, row.blocked_until = 0, None  # a quiet day: start again
        row.failures += 1
        row.last_failure_at = now
        free, cap = attempt.limits(key, policy)
        if row.failures >= free:
            doublings = min(row.failures - free, 40)  # 2**40 s is past any cap
            row.blocked_until = now + min(cap, timedelta(
                seconds=FIRST_DELAY_SECONDS * 2 ** doublings))
        row.forget_at = max(now + FORGET_AFTER, row.trusted_until or now)
    _forget_old(session, now)


def record_success(rows: dict[str, LoginThrottle], attempt: Attempt, now: datetime) -> None:
    """The owner is at this address: its pair starts again and is trusted (the account-wide
    delay does not apply here). The address and account counts stay: one success must not
    reset what a stranger with one valid account did from the same address."""
    pair = rows[attempt.pair_key]
    pair.failures, pair.blocked_until = 0, None
    pair.trusted_until = now + TRUSTED_FOR
    pair.forget_at = pair.trusted_until


def _refuse_if_waiting(rows: dict[str, LoginThrottle], attempt: Attempt, now: datetime) -> bool:
    pair = rows.get(attempt.pair_key)
    trusted = pair is not None and pair.trusted_until is not None and pair.trusted_until > now
    waits = [row.blocked_until - now for key, row in rows.items()
             if row.blocked_until is not None and row.blocked_until > now
             and not (trusted and key == attempt.account_key)]
    if waits:
        seconds = math.ceil(max(waits).total_seconds())
        raise TooManyAttempts(f"Đăng nhập sai quá nhiều lần. Vui lòng thử lại sau "
                              f"{_duration(seconds)}.", retry_after=seconds)
    return trusted


def _duration(seconds: int) -> str:
    if seconds < 120:
        return f"{seconds} giây"
    return f"{math.ceil(seconds / 60)} phút"


def _forget_old(session, now: datetime) -> None:
    """Delete the rows nobody has failed on for a day. Rows another transaction holds are
    skipped (on PostgreSQL; SQLite has one writer): that one is refreshing them, and
    waiting for it could deadlock with its own clean-up."""
    stale = (select(LoginThrottle.key).where(LoginThrottle.forget_at < now)
             .with_for_update(skip_locked=True))
    session.execute(delete(LoginThrottle).where(LoginThrottle.key.in_(stale)),
                    execution_options={"synchronize_session": False})
