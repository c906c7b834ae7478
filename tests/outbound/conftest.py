import io

import pytest
from sqlalchemy import select

from docmgr.core.auth import Organization, User
from docmgr.demo import nd30_draft_pdf
from docmgr.outbound import authority
from docmgr.outbound.models import Authority, SignerKind
from docmgr.signing import appearance
from docmgr.signing import operations as signing
from docmgr.signing.pki import BuiltinCA
from tests.conftest import upload

PIN = "135790"
ORG_PIN = "864200"


@pytest.fixture
def keys(app, db, blobs, world):
    """Certificates for the leader and the head (signers) and the organisation, and the
    organisation's seal image."""
    ca = BuiltinCA(app.config["DATA_DIR"])
    with db.transaction() as s:
        for username in ("leader", "head"):
            user = s.scalar(select(User).where(User.username == username))
            signing.issue_user_certificate(s, ca, user, PIN)
        signing.issue_org_certificate(s, ca, s.get(Organization, world.org.id), ORG_PIN)
        admin = s.get(User, world.users["admin"].id)
        seal = appearance.png_bytes(appearance.generated_seal(world.org.name, 300))
        signing.set_org_seal(s, blobs, admin, seal, 36)
    return ca


@pytest.fixture
def unit_heads_sign(db, world):
    """The organisation lets its unit heads sign công văn "TL." (ND30 leaves it to the
    organisation's rules; its default is no)."""
    with db.transaction() as s:
        authority.set_allowed(s, s.get(User, world.users["admin"].id), "CV",
                              SignerKind.UNIT_HEAD, Authority.TL, True)


def draft_pdf(signer_name="Pham Minh Quang", title="Chu tich") -> bytes:
    return nd30_draft_pdf(org="UBND tinh Quang Ngai", type_title="Quyet dinh",
                          subject="Ve viec ban hanh quy che van thu", signer_title=title,
                          signer_name=signer_name)


def draft_form(world, **overrides) -> dict:
    form = {"doc_type": "QĐ", "subject": "Quyết định ban hành Quy chế công tác văn thư",
            "signer_id": str(world.users["leader"].id),
            "reviewer_ids": str(world.users["head"].id),
            "recipients": f'["{world.other_org.code}", "Sở Nội vụ tỉnh Quảng Ngãi"]'}
    form.update(overrides)
    return form


@pytest.fixture
def new_draft(api, world):
    def create(author="specialist", pdf=None, **overrides):
        r = api(author).post("/api/v1/drafts", data={
            **draft_form(world, **overrides), "file": upload(pdf or draft_pdf(), "du-thao.pdf")})
        assert r.status_code == 201, r.json
        return r.json
    return create


@pytest.fixture
def signed_draft(api, world, keys, new_draft):
    """A draft that went through the route and was signed by the leader."""
    def create(**overrides):
        overrides.setdefault("reviewer_ids", "")
        doc = new_draft(**overrides)
        author = overrides.get("author", "specialist")
        assert api(author).post(f"/api/v1/drafts/{doc['id']}/submit").status_code == 200
        r = api("leader").post(f"/api/v1/drafts/{doc['id']}/sign", json={"pin": PIN})
        assert r.status_code == 200, r.json
        return r.json
    return create


def pdf_of(response) -> bytes:
    return io.BytesIO(response.data).getvalue()


@pytest.fixture
def issued(api, signed_draft):
    """An outgoing document signed by the leader and issued by the clerk."""
    def create(**overrides):
        doc = signed_draft(**overrides)
        r = api("clerk").post(f"/api/v1/drafts/{doc['id']}/issue", json={"pin": ORG_PIN})
        assert r.status_code == 200 and r.json["status"] == "issued", r.json
        return r.json
    return create


@pytest.fixture
def awaiting(api, new_draft, keys):
    """A draft submitted straight to the leader: it waits for the leader's signature."""
    def create(**overrides):
        overrides.setdefault("reviewer_ids", "")
        doc = new_draft(**overrides)
        r = api(overrides.get("author", "specialist")).post(
            f"/api/v1/drafts/{doc['id']}/submit")
        assert r.json["status"] == "awaiting_signature", r.json
        return doc
    return create
