"""A constructed dataset with known counts, built through the API as people would, dates
relative to clock.today(). Registration and issue always stamp today's date, so the two
documents that must fall in an earlier month (or outside the period) get their date moved
in the database afterwards: the statistics read only those columns."""
from dataclasses import dataclass
from datetime import date, timedelta

import pytest
from sqlalchemy import update

from docmgr.core import clock
from docmgr.inbound.models import IncomingDocument
from docmgr.outbound.models import OutgoingDocument
from tests.conftest import registration_form, upload
from tests.outbound import conftest as outbound_fixtures

# The outbound fixtures that make a signed draft, shared rather than copied.
keys = outbound_fixtures.keys
new_draft = outbound_fixtures.new_draft
signed_draft = outbound_fixtures.signed_draft
issued = outbound_fixtures.issued

_serial = iter(range(1, 100_000))


@pytest.fixture
def register(api, pdf_bytes):
    """register(clerk="clerk", **fields) → an incoming document, fresh notation each time."""
    def create(clerk: str = "clerk", **fields):
        fields.setdefault("notation", f"{next(_serial)}/STC-NS")
        fields.setdefault("doc_date", (clock.today() - timedelta(days=10)).isoformat())
        r = api(clerk).post("/api/v1/incoming", data={
            **registration_form(**fields), "file": upload(pdf_bytes)})
        assert r.status_code == 201, r.json
        return r.json
    return create


@pytest.fixture
def assign(api):
    def give(doc, *, by="leader", **target):
        r = api(by).post(f"/api/v1/incoming/{doc['id']}/assignments",
                         json={"role": "main", **target})
        assert r.status_code == 201, r.json
        return r.json
    return give


@pytest.fixture
def complete(api):
    def finish(doc, by="specialist"):
        r = api(by).post(f"/api/v1/incoming/{doc['id']}/complete", json={"note": "Xong"})
        assert r.status_code == 200 and r.json["status"] == "completed", r.json
        return r.json
    return finish


def last_month_day(today: date) -> date:
    return today.replace(day=1) - timedelta(days=1)


@dataclass
class Dataset:
    today: date
    earlier: date  # the last day of the previous month
    period: dict  # query arguments covering every counted document
    incoming: dict
    outgoing: dict


@pytest.fixture
def dataset(db, world, register, assign, complete, issued, signed_draft) -> Dataset:
    """Incoming (all CV/QĐ/BC/TB of the first organisation unless said):
    A CV → specialist (KT), due in 5 days, completed: on time
    B CV → specialist, due 2 days ago, completed today: late
    C QĐ → unit VX, due 2 days ago, still open: overdue
    D BC urgent → specialist, due in 5 days, open
    E BC confidential (Mật), not assigned, no deadline: open, no unit
    F TB express, arrived last month, not assigned: open
    G CV arrived 500 days ago: outside the period
    H CV of the other organisation: never counted
    Outgoing (drafted by the specialist, unit KT): Q1 QĐ and V1 CV issued and validly
    signed; Q2 QĐ issued last month, its signatures reported untrusted; S QĐ signed but
    not issued: not counted."""
    today = clock.today()
    future, past = today + timedelta(days=5), today - timedelta(days=2)
    specialist = world.users["specialist"].id
    inc = {}
    inc["A"] = register(doc_type="CV", due_date=future.isoformat())
    assign(inc["A"], user_id=specialist)
    complete(inc["A"])
    inc["B"] = register(doc_type="CV", due_date=past.isoformat())
    assign(inc["B"], user_id=specialist)
    complete(inc["B"])
    inc["C"] = register(doc_type="QĐ", due_date=past.isoformat())
    assign(inc["C"], unit_id=world.units["VX"].id)
    inc["D"] = register(doc_type="BC", urgency="urgent", due_date=future.isoformat())
    assign(inc["D"], user_id=specialist)
    inc["E"] = register(doc_type="BC", secrecy="confidential")
    inc["F"] = register(doc_type="TB", urgency="express",
                        doc_date=(today - timedelta(days=40)).isoformat())
    inc["G"] = register(doc_type="CV")
    inc["H"] = register(clerk="other_clerk", doc_type="CV")

    out = {"Q1": issued(), "V1": issued(doc_type="CV", subject="Công văn về việc báo cáo"),
           "Q2": issued(subject="Quyết định phê duyệt kế hoạch")}
    out["S"] = signed_draft(subject="Quyết định chưa phát hành")

    earlier = last_month_day(today)
    with db.transaction() as s:
        s.execute(update(IncomingDocument).where(IncomingDocument.id == inc["F"]["id"])
                  .values(arrival_date=earlier))
        s.execute(update(IncomingDocument).where(IncomingDocument.id == inc["G"]["id"])
                  .values(arrival_date=today - timedelta(days=500)))
        # As if the organisation's certificate had been outside the configured trust roots.
        report = s.get(OutgoingDocument, out["Q2"]["id"]).signature_report
        s.execute(update(OutgoingDocument).where(OutgoingDocument.id == out["Q2"]["id"])
                  .values(doc_date=earlier, signature_report={**report,
                                                              "verdict": "untrusted"}))
    period = {"from": (today - timedelta(days=60)).isoformat(), "to": today.isoformat()}
    return Dataset(today, earlier, period, inc, out)
