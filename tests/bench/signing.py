"""Benchmark: signing, sealing, validating, issuing — each paired with its reference.

    .venv/bin/python -m tests.bench.signing [--runs 20] [--batch 50] [--smoke]

Prints one table (median, p95, ms). The reference is a bare pyHanko visible signature of
the same file with the same image, the same font and an already-loaded key, measured in
the same run, so the ratio means something on a noisy machine. Server-side paths go
through the Flask test client (routing, authentication, SQL, PIN unlock, signing,
validation, storage) on SQLite in a temporary data directory. ``--smoke``: one run of each
(after the warm-up), a batch of 2.
"""
import argparse
import io
import os
import platform
import statistics
import tempfile
import time
from functools import partial

from cryptography.hazmat.primitives import serialization
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.sign import fields, signers
from pyhanko_certvalidator.registry import SimpleCertificateStore

from docmgr import create_app
from docmgr.demo import nd30_draft_pdf
from docmgr.migrations import upgrade
from docmgr.signing import appearance, engine, keystore, placement, pyhanko_patches
from docmgr.signing.engine import Credential
from docmgr.signing.pki import BuiltinCA
from docmgr.signing.trust import TrustStore
from docmgr.signing.validation import validate_pdf
from tests.bench import data

NAME = "Phạm Minh Quang"


def timed(function, runs: int, warmup: int = 2) -> list[float]:
    for _ in range(warmup):
        function()
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        function()
        samples.append((time.perf_counter() - start) * 1000)
    return samples


def p95(samples):
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(round(0.95 * (len(ordered) - 1))))]


def credential(ca: BuiltinCA, name: str) -> Credential:
    issued = ca.issue(name, "UBND tỉnh Quảng Ngãi")
    return Credential.from_der(
        issued.certificate.public_bytes(serialization.Encoding.DER),
        issued.private_key.private_bytes(serialization.Encoding.DER,
                                         serialization.PrivateFormat.PKCS8,
                                         serialization.NoEncryption()),
        [c.public_bytes(serialization.Encoding.DER) for c in issued.chain])


def draft(pages: int) -> bytes:
    return nd30_draft_pdf(org="UBND tinh Quang Ngai", type_title="Quyet dinh",
                          subject="Ve viec ban hanh quy che", signer_title="Chu tich",
                          signer_name="Pham Minh Quang", body_pages=pages)


def bare_reference(prepared: bytes, cred: Credential, picture) -> bytes:
    """pyHanko as its documentation shows it, with the same image and a loaded key: an
    approval signature, locked as the field says, as the engine signs."""
    signer = signers.SimpleSigner(signing_cert=cred.certificate, signing_key=cred.private_key,
                                  cert_registry=SimpleCertificateStore.from_certs(cred.chain))
    meta = signers.PdfSignatureMetadata(field_name=engine.FIELD_PERSONAL,
                                        subfilter=fields.SigSeedSubFilter.PADES)
    writer = IncrementalPdfFileWriter(io.BytesIO(prepared), strict=False)
    return signers.PdfSigner(meta, signer, stamp_style=appearance.image_style(picture)) \
        .sign_pdf(writer, bytes_reserved=engine.RESERVED).getvalue()


def engine_rows(runs: int) -> list[tuple]:
    data_dir = tempfile.mkdtemp(prefix="docmgr-bench-")
    ca = BuiltinCA(data_dir)
    leader, org = credential(ca, NAME), credential(ca, "Văn phòng UBND tỉnh Quảng Ngãi")
    picture = appearance.generated_signature(NAME)
    seal = appearance.generated_seal("Văn phòng UBND tỉnh Quảng Ngãi", 420)
    trust = TrustStore.for_app({}, data_dir)
    rows = []
    for pages in (2, 30):
        pdf = draft(pages)
        layout = placement.find_layout(pdf, NAME)
        prepared = engine.prepare(pdf, layout.personal, seal_diameter_pt=36 * appearance.MM,
                                  number=layout.number, date=layout.date)
        ours = timed(partial(engine.sign_personal, prepared, leader, picture), runs)
        bare = timed(partial(bare_reference, prepared, leader, picture), runs)
        rows.append((f"personal visible signature, {pages}-page A4", ours, bare))
    signed = engine.sign_personal(prepared, leader, picture)
    values = {engine.FIELD_NUMBER: "12/QĐ-UBND",
              engine.FIELD_DATE: "Quảng Ngãi, ngày 05 tháng 01 năm 2027"}
    rows.append(("fill-and-seal (number, date, seal)",
                 timed(lambda: engine.fill_and_seal(signed, org, seal, values), runs), None))
    issued = engine.fill_and_seal(signed, org, seal, values)
    rows.append(("validate both signatures of an issued document",
                 timed(lambda: validate_pdf(issued, trust), runs), None))
    sealed = keystore.seal(_throwaway_key(), "123456")
    rows.append(("PIN unlock alone (scrypt + AES-GCM)",
                 timed(lambda: keystore.unseal(sealed, "123456"), runs), None))
    return rows


def _throwaway_key():
    from cryptography.hazmat.primitives.asymmetric import rsa
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def request_rows(runs: int, batch: int) -> list[tuple]:
    """Whole requests through the app: sign, issue, batch-sign, on the demo office."""
    data_dir = tempfile.mkdtemp(prefix="docmgr-bench-app-")
    app = create_app({"DATA_DIR": data_dir, "SECRET_KEY": "bench", "INDEXER": "worker"})
    services = app.extensions["docmgr"]
    upgrade(services.db.engine)
    from docmgr.demo import PASSWORD, PIN, load_demo
    load_demo(services.db, services.blobs, services.data_dir)
    client = app.test_client()

    def token(username):
        return {"Authorization": "Bearer " + client.post(
            "/api/v1/auth/token", json={"username": username, "password": PASSWORD}
        ).json["token"]}
    author, leader, clerk = token("chuyenvien"), token("lanhdao"), token("vanthu")
    signer_id = client.get("/api/v1/users?username=lanhdao", headers=leader).json["items"][0]["id"]
    pdf = draft(2)

    def new_awaiting() -> int:
        r = client.post("/api/v1/drafts", headers=author, data={
            "doc_type": "QĐ", "subject": "Quyết định thử nghiệm hiệu năng", "signer_id": signer_id,
            "recipients": '["000.00.02.H55"]', "file": (io.BytesIO(pdf), "d.pdf")})
        doc_id = r.json["id"]
        client.post(f"/api/v1/drafts/{doc_id}/submit", headers=author)
        return doc_id

    pool = [new_awaiting() for _ in range(runs + 2)]
    signed_ids = []

    def sign_one():
        doc_id = pool.pop()
        r = client.post(f"/api/v1/drafts/{doc_id}/sign", headers=leader, json={"pin": PIN})
        assert r.status_code == 200, r.json
        signed_ids.append(doc_id)
    sign_samples = timed(sign_one, runs)

    def issue_one():
        doc_id = signed_ids.pop()
        r = client.post(f"/api/v1/drafts/{doc_id}/issue", headers=clerk, json={"pin": PIN})
        assert r.status_code == 200, r.json
    issue_samples = timed(issue_one, min(runs, len(signed_ids) - 2))

    batch_ids = [new_awaiting() for _ in range(batch)]
    start = time.perf_counter()
    r = client.post("/api/v1/drafts/sign-batch", headers=leader,
                    json={"ids": batch_ids, "pin": PIN})
    batch_ms = (time.perf_counter() - start) * 1000
    assert r.json["signed"] == batch, r.json
    return [("sign request (API, PIN unlock included)", sign_samples, None),
            ("issue request (API: number, seal, validate, dispatch)", issue_samples, None),
            (f"batch-sign {batch} documents, one PIN (total)", [batch_ms], None)]


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--batch", type=int, default=50)
    args = data.parse(parser, argv, runs=1, batch=2)
    pyhanko_patches.install()  # the engine rows run without an app, as the server runs
    print(f"machine: {platform.node()} · {os.cpu_count()} cores · Python "
          f"{platform.python_version()} · runs {args.runs} (+2 warm-up)")
    rows = engine_rows(args.runs) + request_rows(args.runs, args.batch)
    print(f"{'operation':<58} {'median':>8} {'p95':>8} {'reference':>10} {'ratio':>6}")
    for label, samples, reference in rows:
        median = statistics.median(samples)
        ref = statistics.median(reference) if reference else None
        print(f"{label:<58} {median:8.1f} {p95(samples):8.1f} "
              f"{(f'{ref:.1f}' if ref else '—'):>10} "
              f"{(f'{median / ref:.2f}' if ref else '—'):>6}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
