"""The built-in test PKI: a root and an intermediate CA under DATA_DIR/pki, created on
first use, issuing personal and organisation certificates for demos and tests.

Real deployments import certificates from a licensed CA (Ban Cơ yếu Chính phủ, or a
public CA under NEAC) with ``import-cert``; the test CA's keys are kept in clear on
disk (mode 0600) precisely because it is only for testing.
"""
import datetime as dt
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

ROOT_NAME = "docmgr Test Root CA"
INTERMEDIATE_NAME = "docmgr Test Issuing CA"
KEY_BITS = 2048
VALID_YEARS = 3


@dataclass(frozen=True)
class Issued:
    certificate: x509.Certificate
    private_key: rsa.RSAPrivateKey
    chain: list[x509.Certificate]  # issuing CA first, root last


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _name(common_name: str, organization: str | None = None) -> x509.Name:
    attributes = [x509.NameAttribute(NameOID.COUNTRY_NAME, "VN")]
    if organization:
        attributes.append(x509.NameAttribute(NameOID.ORGANIZATION_NAME, organization))
    attributes.append(x509.NameAttribute(NameOID.COMMON_NAME, common_name))
    return x509.Name(attributes)


def _key_usage(*, signing: bool, ca: bool) -> x509.KeyUsage:
    return x509.KeyUsage(digital_signature=signing, content_commitment=signing,
                         key_encipherment=False, data_encipherment=False, key_agreement=False,
                         key_cert_sign=ca, crl_sign=ca, encipher_only=False,
                         decipher_only=False)


def _build(subject: x509.Name, public_key, issuer: x509.Name, issuer_key, *, ca: bool,
           years: int, extended_key_usage=None) -> x509.Certificate:
    now = _now()
    builder = (x509.CertificateBuilder().subject_name(subject).issuer_name(issuer)
               .public_key(public_key).serial_number(x509.random_serial_number())
               .not_valid_before(now - dt.timedelta(hours=1))
               .not_valid_after(now + dt.timedelta(days=365 * years))
               .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
               .add_extension(_key_usage(signing=not ca, ca=ca), critical=True)
               .add_extension(x509.SubjectKeyIdentifier.from_public_key(public_key), False)
               .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(
                   issuer_key.public_key()), False))
    if extended_key_usage:
        builder = builder.add_extension(x509.ExtendedKeyUsage(extended_key_usage), critical=True)
    return builder.sign(issuer_key, hashes.SHA256())


def _new_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=KEY_BITS)


def _pem(cert: x509.Certificate) -> bytes:
    return cert.public_bytes(serialization.Encoding.PEM)


def _write_private(path: Path, data: bytes) -> None:
    path.write_bytes(data)
    path.chmod(0o600)


class BuiltinCA:
    def __init__(self, data_dir: str | Path):
        self.dir = Path(data_dir) / "pki"
        self.root_path = self.dir / "root-ca.pem"
        self.intermediate_path = self.dir / "intermediate-ca.pem"
        self._key_path = self.dir / "intermediate-ca.key"

    def ensure(self) -> None:
        """Create the root and intermediate CA once."""
        if self.intermediate_path.exists() and self._key_path.exists():
            return
        self.dir.mkdir(parents=True, exist_ok=True)
        root_key = _new_key()
        root_name = _name(ROOT_NAME, "docmgr")
        root = _build(root_name, root_key.public_key(), root_name, root_key, ca=True, years=20)
        inter_key = _new_key()
        inter_name = _name(INTERMEDIATE_NAME, "docmgr")
        inter = _build(inter_name, inter_key.public_key(), root_name, root_key, ca=True,
                       years=10)
        _write_private(self._key_path, inter_key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption()))
        self.root_path.write_bytes(_pem(root))
        self.intermediate_path.write_bytes(_pem(inter))
        # The root's key is not needed again: the intermediate issues everything.

    def issue(self, common_name: str, organization: str | None = None, *,
              extended_key_usage=None) -> Issued:
        self.ensure()
        inter = x509.load_pem_x509_certificate(self.intermediate_path.read_bytes())
        root = x509.load_pem_x509_certificate(self.root_path.read_bytes())
        inter_key = serialization.load_pem_private_key(self._key_path.read_bytes(), None)
        key = _new_key()
        cert = _build(_name(common_name, organization), key.public_key(), inter.subject,
                      inter_key, ca=False, years=VALID_YEARS,
                      extended_key_usage=extended_key_usage)
        return Issued(certificate=cert, private_key=key, chain=[inter, root])
