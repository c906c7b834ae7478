"""Helpers for the records tests: registered, completed and issued documents, and hồ sơ."""
from datetime import timedelta

import pytest

from docmgr.core import clock
from tests.conftest import registration_form, upload
from tests.outbound import conftest as outbound_fixtures
from tests.outbound.conftest import ORG_PIN  # noqa: F401  (re-exported for the tests)

# The outbound fixtures that make a signed draft, shared rather than copied.
keys = outbound_fixtures.keys
new_draft = outbound_fixtures.new_draft
signed_draft = outbound_fixtures.signed_draft
issued = outbound_fixtures.issued

_serial = iter(range(1, 10_000))


@pytest.fixture
def incoming(api, pdf_bytes):
    """register(days_ago=…, secrecy=…) → an incoming document registered by the clerk,
    with a fresh notation each time (never a duplicate)."""
    def register(days_ago: int = 3, pdf: bytes | None = None, **fields):
        fields.setdefault("notation", f"{next(_serial)}/STC-NS")
        fields.setdefault("doc_date", (clock.today() - timedelta(days=days_ago)).isoformat())
        r = api("clerk").post("/api/v1/incoming", data={
            **registration_form(**fields), "file": upload(pdf or pdf_bytes)})
        assert r.status_code == 201, r.json
        return r.json
    return register


@pytest.fixture
def completed(api, world, incoming):
    """An incoming document handled to the end by the specialist (status completed)."""
    def create(**fields):
        doc = incoming(**fields)
        url = f"/api/v1/incoming/{doc['id']}"
        r = api("leader").post(f"{url}/assignments", json={
            "user_id": world.users["specialist"].id, "role": "main"})
        assert r.status_code == 201, r.json
        assert api("specialist").post(f"{url}/start").status_code == 200
        r = api("specialist").post(f"{url}/complete", json={"note": "Đã xử lý xong"})
        assert r.status_code == 200 and r.json["status"] == "completed", r.json
        return r.json
    return create


@pytest.fixture
def dossier(api, world):
    """dossier(code=…, who=…, **fields) → a new hồ sơ of the first organisation."""
    def create(code: str = "01.TCCB", who: str = "clerk", **fields):
        body = {"code": code, "title": "Hồ sơ tuyển dụng công chức", "retention": 10,
                "owner_id": world.users["head"].id, **fields}
        r = api(who).post("/api/v1/records", json=body)
        assert r.status_code == 201, r.json
        return r.json
    return create


def file_into(api, who, dossier_id, kind, doc_id):
    return api(who).post(f"/api/v1/records/{dossier_id}/documents",
                         json={"kind": kind, "id": doc_id})
