"""Gap-free yearly sequences (số đến, số văn bản đi).

The counter row (organisation, register, year) is incremented with a single
UPDATE inside the caller's transaction. The UPDATE takes the row lock on
PostgreSQL (concurrent registrations queue behind it) and the write lock on
SQLite (transactions begin IMMEDIATE), so numbers are unique; a rollback undoes
the increment, so a failed registration returns its number and nothing is
skipped. A unique constraint on each document table is the last line of defence.
"""
from sqlalchemy import Integer, String, UniqueConstraint, select, update
from sqlalchemy.orm import Mapped, mapped_column

from docmgr.db import Base, insert_ignoring_conflict


class Counter(Base):
    __tablename__ = "counters"
    __table_args__ = (UniqueConstraint("org_id", "register", "year"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    org_id: Mapped[int] = mapped_column(Integer)
    register: Mapped[str] = mapped_column(String(40))
    year: Mapped[int] = mapped_column(Integer)
    value: Mapped[int] = mapped_column(Integer, default=0)


def allocate(session, org_id: int, register: str, year: int) -> int:
    """Return the next number of the register for the year, locked until commit."""
    where = (Counter.org_id == org_id, Counter.register == register, Counter.year == year)
    stmt = update(Counter).where(*where).values(value=Counter.value + 1).returning(Counter.value)
    value = session.execute(stmt).scalar()
    if value is None:
        insert_ignoring_conflict(session, Counter, org_id=org_id, register=register, year=year,
                                 value=0)
        value = session.execute(stmt).scalar()
    return value


def peek(session, org_id: int, register: str, year: int) -> int:
    """The last number handed out (0 when none), without locking."""
    value = session.scalar(select(Counter.value).where(
        Counter.org_id == org_id, Counter.register == register, Counter.year == year))
    return value or 0
