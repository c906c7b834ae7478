"""Backup and restore round trip: everything comes back, byte for byte, on SQLite and
PostgreSQL alike, and a damaged backup or an occupied target is refused before anything is
written."""
import json
import tarfile

import pytest
from sqlalchemy import func, select

from docmgr.core.documents import StoredFile
from docmgr.demo import sample_pdf
from docmgr.inbound.models import IncomingDocument
from docmgr.models import metadata
from tests.conftest import ApiClient, registration_form, upload
from tests.outbound.conftest import ORG_PIN, PIN
from tests.reliability.conftest import table_names

DERIVED = {"outbox", "file_texts"}


def _cli(app, *args):
    return app.test_cli_runner().invoke(args=["docmgr", *args])


def _counts(db) -> dict[str, int]:
    with db.engine.connect() as conn:
        return {table.name: conn.execute(select(func.count()).select_from(table)).scalar()
                for table in metadata.sorted_tables}


def _files_in(directory) -> list[str]:
    return sorted(str(p.relative_to(directory)) for p in directory.rglob("*") if p.is_file())


@pytest.fixture
def archive(app, api, world, signed_draft, new_draft, tmp_path):
    """An archive with incoming documents (files), an issued and dispatched outgoing
    document, and a draft waiting for the leader's signature; then its backup."""
    incoming = []
    for n in range(3):
        pdf = sample_pdf([f"UBND TINH QUANG NGAI {n}", f"So: {n + 1}/STC-NS"], pages=n + 1)
        r = api("clerk").post("/api/v1/incoming", data={
            **registration_form(notation=f"{n + 1}/STC-NS",
                                subject=f"Báo cáo quyết toán ngân sách đợt {n + 1}"),
            "file": upload(pdf)})
        assert r.status_code == 201, r.json
        incoming.append((r.json["id"], r.json["arrival_number"], pdf))
    issued = signed_draft()
    r = api("clerk").post(f"/api/v1/drafts/{issued['id']}/issue", json={"pin": ORG_PIN})
    assert r.status_code == 200, r.json
    issued_pdf = api("clerk").get(f"/api/v1/outgoing/{issued['id']}/file").data
    waiting = new_draft(reviewer_ids="")
    assert api("specialist").post(f"/api/v1/drafts/{waiting['id']}/submit").status_code == 200

    path = tmp_path / "docmgr-backup.tar"
    result = _cli(app, "backup", "--output", str(path))
    assert result.exit_code == 0, result.output
    assert "Đã sao lưu" in result.output
    print(result.output)
    return {"path": path, "incoming": incoming, "issued": (issued["id"], issued_pdf),
            "waiting": waiting["id"], "number": r.json["number"]}


def test_manifest_describes_the_snapshot(archive, db):
    with tarfile.open(archive["path"]) as tar:
        names = tar.getnames()
        manifest = json.loads(tar.extractfile("manifest.json").read())
    assert names[0] == "manifest.json"
    assert "index" not in " ".join(names)  # derived: never backed up
    assert manifest["database"] == db.engine.dialect.name
    assert manifest["alembic_revision"]
    counts = _counts(db)
    assert {name: t["rows"] for name, t in manifest["tables"].items()} == counts
    with db.transaction(readonly=True) as s:
        assert set(s.scalars(select(StoredFile.sha256))) <= set(manifest["blobs"])
    assert "keys/pki/intermediate-ca.key" in manifest["keys"]


def test_round_trip_restores_everything(app, db, archive, make_app, target_url, tmp_path,
                                        world):
    restored_dir = tmp_path / "restored"
    target = make_app(restored_dir, target_url)
    result = _cli(target, "restore", str(archive["path"]))
    assert result.exit_code == 0, result.output
    print(result.output)
    assert "chỉ mục" in result.output.lower()

    # Same rows, byte-identical files. The rebuild of the index consumed the queued index
    # jobs and kept the texts it read: derived rows, so compared apart.
    target_db = target.extensions["docmgr"].db
    restored, source = _counts(target_db), _counts(db)
    assert {k: v for k, v in restored.items() if k not in DERIVED} == {
        k: v for k, v in source.items() if k not in DERIVED}
    assert restored["outbox"] == 0 and restored["file_texts"] >= source["file_texts"]
    source_blobs, target_blobs = app.extensions["docmgr"].blobs, target.extensions["docmgr"].blobs
    with db.transaction(readonly=True) as s:
        for sha in s.scalars(select(StoredFile.sha256)):
            assert target_blobs.get(sha) == source_blobs.get(sha)
    assert (restored_dir / "pki" / "intermediate-ca.key").read_bytes() == (
        tmp_path / "data" / "pki" / "intermediate-ca.key").read_bytes()

    # The audit chain is intact.
    verified = _cli(target, "audit-verify")
    assert verified.exit_code == 0, verified.output

    # Downloadable through the API of an app on the restored dir.
    def client(username):
        return ApiClient(target, target_db, world.users[username])
    clerk = client("clerk")
    for doc_id, _, pdf in archive["incoming"]:
        r = clerk.get(f"/api/v1/incoming/{doc_id}/file")
        assert r.status_code == 200 and r.data == pdf
    issued_id, issued_pdf = archive["issued"]
    r = clerk.get(f"/api/v1/outgoing/{issued_id}/file")
    assert r.status_code == 200 and r.data == issued_pdf

    # The index was rebuilt from the restored rows.
    r = clerk.get("/api/v1/search", query_string={"q": "quyết toán ngân sách đợt 2"})
    assert r.status_code == 200
    assert archive["incoming"][1][0] in [hit["id"] for hit in r.json["hits"]]

    # Numbers continue: the next registration takes the next số đến, ids do not collide.
    r = clerk.post("/api/v1/incoming", data={
        **registration_form(notation="99/STC-NS", subject="Văn bản sau khi khôi phục"),
        "file": upload(sample_pdf(["SAU KHOI PHUC"]))})
    assert r.status_code == 201, r.json
    assert r.json["arrival_number"] == max(n for _, n, _ in archive["incoming"]) + 1
    with target_db.transaction(readonly=True) as s:
        numbers = sorted(s.scalars(select(IncomingDocument.arrival_number).where(
            IncomingDocument.org_id == world.org.id)))
    assert numbers == list(range(1, len(numbers) + 1))

    # Keys came back: the leader signs with their PIN, the clerk issues with the seal's PIN.
    waiting = archive["waiting"]
    r = client("leader").post(f"/api/v1/drafts/{waiting}/sign", json={"pin": PIN})
    assert r.status_code == 200, r.json
    r = clerk.post(f"/api/v1/drafts/{waiting}/issue", json={"pin": ORG_PIN})
    assert r.status_code == 200, r.json
    assert r.json["number"] == archive["number"] + 1


def test_restore_into_an_occupied_data_dir_is_refused(app, archive):
    result = _cli(app, "restore", str(archive["path"]))
    assert result.exit_code == 1
    assert "không trống" in result.output


def test_restore_into_a_database_with_rows_is_refused(archive, make_app, database_url, tmp_path):
    target = make_app(tmp_path / "fresh", database_url)  # an empty dir, the live database
    result = _cli(target, "restore", str(archive["path"]))
    assert result.exit_code == 1
    assert "đã có dữ liệu" in result.output
    assert _files_in(tmp_path / "fresh") == []  # SECRET_KEY given: no secret_key file either


def _flip_one_byte_of_a_blob(source, target):
    data = bytearray(source.read_bytes())
    with tarfile.open(source) as tar:
        member = next(m for m in tar.getmembers() if m.name.startswith("blobs/"))
    data[member.offset_data + member.size // 2] ^= 0x01
    target.write_bytes(bytes(data))


def _truncate(source, target):
    data = source.read_bytes()
    target.write_bytes(data[:len(data) * 2 // 3])


@pytest.mark.parametrize("damage, expected", [
    (_flip_one_byte_of_a_blob, "không khớp mã SHA-256"),
    (_truncate, "cắt cụt"),
])
def test_a_damaged_backup_is_refused_and_nothing_is_written(archive, make_app, tmp_path,
                                                            damage, expected):
    damaged = tmp_path / "damaged.tar"
    damage(archive["path"], damaged)
    url = f"sqlite:///{tmp_path / 'target.sqlite3'}"
    target = make_app(tmp_path / "target", url)
    result = _cli(target, "restore", str(damaged))
    assert result.exit_code == 1
    assert expected in result.output, result.output
    assert "Không có gì được ghi" in result.output
    assert _files_in(tmp_path / "target") == []  # SECRET_KEY given: no secret_key file either
    assert table_names(url) == []


def test_a_backup_never_overwrites_a_file(app, archive):
    before = archive["path"].read_bytes()
    result = _cli(app, "backup", "--output", str(archive["path"]))
    assert result.exit_code == 1
    assert "đã tồn tại" in result.output
    assert archive["path"].read_bytes() == before
