import pytest

from docmgr.core import numbering


def test_numbers_run_per_register_and_year(db, world):
    org = world.org.id
    with db.transaction() as s:
        got = [numbering.allocate(s, org, "incoming", 2026) for _ in range(3)]
        other_year = numbering.allocate(s, org, "incoming", 2027)
        other_register = numbering.allocate(s, org, "outgoing", 2026)
        other_org = numbering.allocate(s, world.other_org.id, "incoming", 2026)
    assert got == [1, 2, 3]
    assert (other_year, other_register, other_org) == (1, 1, 1)


def test_rolled_back_allocation_returns_its_number(db, world):
    with db.transaction() as s:
        assert numbering.allocate(s, world.org.id, "incoming", 2026) == 1
    with pytest.raises(RuntimeError):
        with db.transaction() as s:
            assert numbering.allocate(s, world.org.id, "incoming", 2026) == 2
            raise RuntimeError("registration failed")
    with db.transaction() as s:
        assert numbering.allocate(s, world.org.id, "incoming", 2026) == 2
        assert numbering.peek(s, world.org.id, "incoming", 2026) == 2
