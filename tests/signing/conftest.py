import http.server
import threading

import pytest
from asn1crypto import keys as asn1_keys
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.x509.oid import ExtendedKeyUsageOID
from pyhanko.sign.timestamps import DummyTimeStamper

from docmgr.demo import nd30_draft_pdf
from docmgr.signing import pyhanko_patches
from docmgr.signing.engine import Credential
from docmgr.signing.pki import BuiltinCA


@pytest.fixture(scope="session", autouse=True)
def pyhanko_as_in_the_app():
    """Validate and sign as the server does: create_app installs the patches."""
    pyhanko_patches.install()


@pytest.fixture(scope="session")
def test_ca(tmp_path_factory) -> BuiltinCA:
    ca = BuiltinCA(tmp_path_factory.mktemp("pki"))
    ca.ensure()
    return ca


def asn1_cert(cert: x509.Certificate) -> asn1_x509.Certificate:
    return asn1_x509.Certificate.load(cert.public_bytes(serialization.Encoding.DER))


@pytest.fixture(scope="session")
def trust_roots(test_ca):
    return [asn1_cert(x509.load_pem_x509_certificate(test_ca.root_path.read_bytes()))]


def credential(test_ca: BuiltinCA, name: str, org: str = "UBND tỉnh Quảng Ngãi") -> Credential:
    issued = test_ca.issue(name, org)
    pkcs8 = issued.private_key.private_bytes(serialization.Encoding.DER,
                                             serialization.PrivateFormat.PKCS8,
                                             serialization.NoEncryption())
    return Credential.from_der(issued.certificate.public_bytes(serialization.Encoding.DER),
                               pkcs8, [c.public_bytes(serialization.Encoding.DER)
                                       for c in issued.chain])


@pytest.fixture(scope="session")
def leader_credential(test_ca):
    return credential(test_ca, "Phạm Minh Quang")


@pytest.fixture(scope="session")
def org_credential(test_ca):
    return credential(test_ca, "Văn phòng UBND tỉnh Quảng Ngãi")


@pytest.fixture(scope="session")
def draft_pdf() -> bytes:
    return nd30_draft_pdf(org="UBND tinh Quang Ngai", type_title="Quyet dinh",
                          subject="Ve viec ban hanh quy che van thu", signer_title="Chu tich",
                          signer_name="Pham Minh Quang", body_pages=2)


@pytest.fixture(scope="session")
def tsa_url(test_ca):
    """A local RFC 3161 timestamp authority on loopback, signing with a TSA certificate
    from the test CA (extended key usage timeStamping)."""
    issued = test_ca.issue("docmgr Test TSA", "docmgr", extended_key_usage=[
        ExtendedKeyUsageOID.TIME_STAMPING])
    stamper = DummyTimeStamper(
        tsa_cert=asn1_cert(issued.certificate),
        tsa_key=asn1_keys.PrivateKeyInfo.load(issued.private_key.private_bytes(
            serialization.Encoding.DER, serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption())),
        certs_to_embed=[asn1_cert(c) for c in issued.chain])

    from asn1crypto import tsp

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802 - http.server's naming
            body = self.rfile.read(int(self.headers["Content-Length"]))
            answer = stamper.request_tsa_response(tsp.TimeStampReq.load(body)).dump()
            self.send_response(200)
            self.send_header("Content-Type", "application/timestamp-reply")
            self.send_header("Content-Length", str(len(answer)))
            self.end_headers()
            self.wfile.write(answer)

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/tsa"
    server.shutdown()
