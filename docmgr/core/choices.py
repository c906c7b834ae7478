"""Closed sets of stored values — statuses, assignment roles, review decisions.

Each set is a ``Choice`` (a StrEnum) defined once, in its slice's models module, with the
Vietnamese label users read and the named groups the rules use. A member *is* its stored
string, so the database, the JSON API and URLs keep the plain values they always had.

The column type is SQLAlchemy's ``Enum`` stored as VARCHAR with a CHECK constraint, not a
native PostgreSQL enum: adding a member is then one constraint to replace (no ``ALTER
TYPE`` that cannot run inside a transaction), both databases get the same schema, and
loaded rows come back as members (``doc.status.label`` works on anything read).
"""
from enum import StrEnum

from sqlalchemy import Enum


class Choice(StrEnum):
    """Members are declared as ``NAME = "stored value", "Nhãn tiếng Việt"``."""
    label: str

    def __new__(cls, value: str, label: str):
        member = str.__new__(cls, value)
        member._value_ = value
        member.label = label
        return member

    @classmethod
    def labels(cls) -> dict:
        """{member: label} in declaration order, for select boxes and label tables."""
        return {member: member.label for member in cls}


class group:  # lower case: it reads as a declaration in the enum body
    """A named subset of a Choice, declared in its class body after the members:
    ``OPEN = group(REGISTERED, ASSIGNED)``. A descriptor, so the Enum machinery does not
    take it for a member; it yields the members, in the order given."""

    def __init__(self, *declared: tuple[str, str]):
        self._values = tuple(value for value, _label in declared)
        self._members = None

    def __get__(self, _instance, owner) -> tuple:
        if self._members is None:
            self._members = tuple(owner(value) for value in self._values)
        return self._members


def column_type(choices: type[Choice], *, column: str, length: int) -> Enum:
    """VARCHAR(length) storing the members' values, with CHECK (column IN (...)) named
    ck_<table>_<column> by the naming convention. Unknown strings are not refused in
    Python (a list filtered by ``?status=nonsense`` simply finds nothing); the database
    refuses to store them."""
    return Enum(choices, name=column, length=length, native_enum=False, create_constraint=True,
                values_callable=lambda enum: [member.value for member in enum])


def sql_in(column: str, members) -> str:
    """``column IN ('a', 'b')`` for the predicate of a partial index (SQL text, because
    the index definition must be literal; the values are our own identifiers)."""
    values = ", ".join(f"'{member}'" for member in members)
    return f"{column} IN ({values})"
