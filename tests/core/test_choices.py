"""Statuses, assignment roles and review decisions: each an enum defined once with its
Vietnamese label, stored as its plain value, and refused by the database when unknown."""
import json
import re
import unicodedata
from html.parser import HTMLParser

import pytest
from sqlalchemy import Enum, inspect, text
from sqlalchemy.exc import IntegrityError

from docmgr.core.choices import Choice, group
from docmgr.inbound import models as inbound
from docmgr.models import TEMPLATE_GLOBALS, metadata
from docmgr.outbound import models as outbound
from docmgr.records import models as records
from tests.conftest import registration_form, upload

CHOICES = Choice.__subclasses__()  # every one, docmgr.models having imported all slices


def _stored() -> list[tuple[str, str, type[Choice]]]:
    """(table, column, enum) for every column holding a Choice."""
    return [(table.name, column.name, column.type.enum_class)
            for table in metadata.sorted_tables for column in table.columns
            if isinstance(column.type, Enum) and issubclass(column.type.enum_class, Choice)]


STORED = _stored()


def test_the_stored_choices_are_the_expected_columns():
    assert {(table, column) for table, column, _ in STORED} == {
        ("incoming_documents", "status"), ("incoming_assignments", "role"),
        ("outgoing_documents", "status"), ("outgoing_route", "decision"),
        ("dossiers", "status"), ("users", "leader_position"),
        ("outgoing_documents", "signer_authority"), ("signing_authorities", "signer"),
        ("signing_authorities", "authority")}


@pytest.mark.parametrize("choices", CHOICES, ids=lambda c: c.__name__)
def test_every_member_has_a_vietnamese_label(choices):
    labels = [member.label for member in choices]
    for member in choices:
        assert member.label.strip() == member.label != ""
        assert unicodedata.is_normalized("NFC", member.label)
        assert not member.label.isascii(), f"{member!r}: label without diacritics, untranslated?"
    assert len(set(labels)) == len(labels), "two members read the same in a select box"


@pytest.mark.parametrize("choices", CHOICES, ids=lambda c: c.__name__)
def test_a_member_is_its_stored_string_in_json_urls_and_text(choices):
    for member in choices:
        assert member == member.value
        assert str(member) == f"{member}" == member.value
        assert json.dumps({"status": member}) == json.dumps({"status": member.value})


@pytest.mark.parametrize("choices", CHOICES, ids=lambda c: c.__name__)
def test_groups_hold_members_of_their_own_enum(choices):
    groups = [name for name, value in vars(choices).items() if isinstance(value, group)]
    for name in groups:
        members = getattr(choices, name)
        assert members and all(type(member) is choices for member in members), name
        assert len(set(members)) == len(members), name


def test_the_groups_the_rules_use():
    status = inbound.IncomingStatus
    assert status.OPEN == (status.REGISTERED, status.ASSIGNED, status.IN_PROGRESS)
    assert set(status.IN_HAND) < set(status.OPEN) < set(status.IN_REGISTER)
    assert status.PENDING not in status.IN_REGISTER and status.REJECTED not in status.IN_REGISTER
    outgoing = outbound.OutgoingStatus
    assert outgoing.IN_REGISTER == (outgoing.ISSUED,)
    assert not set(outgoing.EDITABLE) & set(outgoing.AWAITING_ACTION)


def test_a_recipient_follows_its_incoming_document_in_the_senders_words():
    incoming, dispatch = inbound.IncomingStatus, outbound.DispatchStatus
    assert dispatch.of_incoming(incoming.PENDING) is dispatch.RECEIVED
    for status in incoming:
        if status != incoming.PENDING:
            assert dispatch.of_incoming(status) == status


def test_label_tables_come_from_the_enums(app):
    assert inbound.STATUS_LABELS == inbound.IncomingStatus.labels()
    assert outbound.STATUS_LABELS == outbound.OutgoingStatus.labels()
    assert outbound.RECIPIENT_LABELS == outbound.DispatchStatus.labels()
    assert outbound.DECISION_LABELS == outbound.ReviewDecision.labels()
    assert records.STATUS_LABELS == records.DossierStatus.labels()
    assert set(TEMPLATE_GLOBALS.values()) == set(CHOICES)
    for name, choices in TEMPLATE_GLOBALS.items():
        assert app.jinja_env.globals[name] is choices
    labels = app.jinja_env.globals["outgoing_labels"]()
    assert labels["status"] is outbound.STATUS_LABELS
    assert labels["recipient"] is outbound.RECIPIENT_LABELS
    assert labels["decision"] is outbound.DECISION_LABELS


class _Options(HTMLParser):
    """The (value, text) options of one <select> of a page."""

    def __init__(self, name: str):
        super().__init__()
        self.name, self.inside, self.options = name, False, []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "select":
            self.inside = attrs.get("name") == self.name
        elif tag == "option" and self.inside:
            self.options.append([attrs.get("value"), ""])

    def handle_endtag(self, tag):
        if tag == "select":
            self.inside = False

    def handle_data(self, data):
        if self.inside and self.options:
            self.options[-1][1] += data


def _options(html: bytes, name: str) -> list[tuple[str, str]]:
    parser = _Options(name)
    parser.feed(html.decode())
    return [(value, label.strip()) for value, label in parser.options if value]


@pytest.mark.parametrize("url, select, choices", [
    ("/incoming/", "status", inbound.IncomingStatus),
    ("/outgoing/", "status", outbound.OutgoingStatus),
    ("/records/", "status", records.DossierStatus),
])
def test_the_pages_offer_the_enums_values_and_labels(browser_login, url, select, choices):
    page = browser_login("leader").get(url)
    assert page.status_code == 200
    assert _options(page.data, select) == [(m.value, m.label) for m in choices]


def test_the_assignment_form_offers_the_roles(browser_login, api, pdf_bytes):
    doc = api("clerk").post("/api/v1/incoming", data={**registration_form(),
                                                      "file": upload(pdf_bytes)}).json
    page = browser_login("leader").get(f"/incoming/{doc['id']}")
    roles = inbound.AssignmentRole
    assert _options(page.data, "role") == [(m.value, m.label) for m in roles]


# --- the database side ---------------------------------------------------------------------

def test_stored_check_lists_equal_the_enum_values(db):
    """A member added without a migration that replaces the constraint fails here."""
    found = inspect(db.engine)
    for table, column, choices in STORED:
        checks = {c["name"]: c["sqltext"] for c in found.get_check_constraints(table)}
        name = f"ck_{table}_{column}"
        assert name in checks, f"{table}.{column} has no CHECK constraint"
        assert sorted(re.findall(r"'([^']*)'", checks[name])) == sorted(m.value for m in choices)


@pytest.fixture
def one_row_each(db, world):
    """A row in every table that stores a Choice."""
    users, org = world.users, world.org.id
    with db.transaction() as s:
        doc = inbound.IncomingDocument(
            org_id=org, doc_type="CV", subject="Thử", status=inbound.IncomingStatus.REGISTERED,
            arrival_year=2026, sender="Sở Xây dựng", sender_key="sở xây dựng",
            notation_key="1/sxd")
        draft = outbound.OutgoingDocument(
            org_id=org, doc_type="CV", subject="Thử", status=outbound.OutgoingStatus.DRAFT,
            author_id=users["specialist"].id, signer_id=users["leader"].id)
        s.add_all([doc, draft, records.Dossier(
            org_id=org, year=2026, code="01", title="Hồ sơ thử", owner_id=users["clerk"].id,
            created_by_id=users["clerk"].id)])
        s.flush()
        s.add_all([
            inbound.Assignment(document_id=doc.id, unit_id=world.units["KT"].id,
                               role=inbound.AssignmentRole.MAIN,
                               assigned_by_id=users["leader"].id),
            outbound.RouteStep(document_id=draft.id, position=0, reviewer_id=users["head"].id,
                               decision=outbound.ReviewDecision.APPROVED),
            outbound.SigningAuthority(org_id=org, doc_class="CV",
                                      signer=outbound.SignerKind.UNIT_HEAD,
                                      authority=outbound.Authority.TL)])


@pytest.mark.parametrize("table, column, choices", STORED, ids=lambda v: getattr(v, "__name__", v))
def test_the_database_refuses_an_unknown_value(db, one_row_each, table, column, choices):
    with db.engine.begin() as conn:  # every known value is accepted
        for member in choices:
            conn.execute(text(f"UPDATE {table} SET {column} = :value"), {"value": member.value})
    with (pytest.raises(IntegrityError, match=f"ck_{table}_{column}"),
          db.engine.begin() as conn):
        conn.execute(text(f"UPDATE {table} SET {column} = 'archived'"))


def test_inserting_an_unknown_status_fails(db, world):
    row = {"org_id": world.org.id, "doc_type": "CV", "subject": "Thử", "notation": "",
           "urgency": "normal", "secrecy": "normal", "arrival_year": 2026, "sender": "Sở",
           "sender_key": "sở", "notation_key": "", "received_via": "paper", "page_count": 0,
           "completion_note": "", "rejection_reason": ""}
    columns = ", ".join([*row, "status"])
    values = ", ".join([*(f":{name}" for name in row), ":status"])
    insert = text(f"INSERT INTO incoming_documents ({columns}) VALUES ({values})")
    with (pytest.raises(IntegrityError, match="ck_incoming_documents_status"),
          db.engine.begin() as conn):
        conn.execute(insert, {**row, "status": "archived"})
    with db.engine.begin() as conn:
        conn.execute(insert, {**row, "status": "pending"})
