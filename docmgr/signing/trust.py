"""Trust anchors for checking signatures: only what was configured, never the OS TLS store.

A ``TrustStore`` holds trust anchors (roots: the built-in test CA, the Ban Cơ yếu Chính phủ
root, the NEAC root, …) and other certificates (intermediates) that help build a chain.
Roots are trusted because they were *configured*, never because an issuer name looks right.
"""
from __future__ import annotations

import os
import threading
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from asn1crypto import pem, x509
from pyhanko.sign.validation.settings import KeyUsageConstraints
from pyhanko_certvalidator import ValidationContext

# Signing certificates in use carry digitalSignature, nonRepudiation or both; either is enough.
KEY_USAGE = KeyUsageConstraints(key_usage={"digital_signature", "non_repudiation"},
                                match_all_key_usages=False)


def load_certificates(path: str | os.PathLike) -> list[x509.Certificate]:
    """Every certificate in a PEM file (one or several) or a DER file."""
    data = Path(path).read_bytes()
    return parse_certificates(data, source=str(path))


def parse_certificates(data: bytes, source: str = "<bytes>") -> list[x509.Certificate]:
    try:
        if pem.detect(data):
            certs = [x509.Certificate.load(der) for kind, _, der in
                     pem.unarmor(data, multiple=True) if kind == "CERTIFICATE"]
        else:
            certs = [x509.Certificate.load(data)]
        for cert in certs:
            _ = cert.native  # parse fully now: a broken file fails here, not mid-validation
    except Exception as exc:
        raise ValueError(f"Không đọc được chứng thư số trong {source}: {exc}") from exc
    if not certs:
        raise ValueError(f"Tệp {source} không chứa chứng thư số nào.")
    return certs


# Parsed files, keyed by (path, size, mtime): for_app runs on every request.
_CACHE: dict[tuple, list[x509.Certificate]] = {}
_CACHE_LOCK = threading.Lock()


def _cached_load(path: Path) -> list[x509.Certificate]:
    try:
        stat = path.stat()
    except OSError as exc:
        raise ValueError(f"Không đọc được tệp chứng thư gốc {path} (TRUST_ROOTS): {exc}") from exc
    key = (str(path.resolve()), stat.st_size, stat.st_mtime_ns)
    with _CACHE_LOCK:
        certs = _CACHE.get(key)
    if certs is None:
        certs = load_certificates(path)
        with _CACHE_LOCK:
            _CACHE[key] = certs
    return certs


def _split_setting(value) -> list[str]:
    if not value:
        return []
    if isinstance(value, (str, os.PathLike)):
        return [part for part in str(value).split(os.pathsep) if part.strip()]
    return [str(part) for part in value if str(part).strip()]


def _dedupe(certs: Iterable[x509.Certificate]) -> list[x509.Certificate]:
    seen, out = set(), []
    for cert in certs:
        if cert.sha256 not in seen:
            seen.add(cert.sha256)
            out.append(cert)
    return out


@dataclass
class TrustStore:
    roots: list[x509.Certificate] = field(default_factory=list)
    intermediates: list[x509.Certificate] = field(default_factory=list)

    def __post_init__(self):
        self.roots = _dedupe(self.roots)
        self.intermediates = _dedupe(self.intermediates)

    @classmethod
    def from_files(cls, paths: Iterable[str | os.PathLike],
                   intermediates: Iterable[str | os.PathLike] = ()) -> TrustStore:
        """Every certificate in ``paths`` becomes a trust anchor; ``intermediates`` only help
        build chains. PEM (one or more certificates per file) or DER."""
        return cls(roots=[c for p in paths for c in _cached_load(Path(p))],
                   intermediates=[c for p in intermediates for c in _cached_load(Path(p))])

    @classmethod
    def for_app(cls, config, data_dir: str | os.PathLike | None = None) -> TrustStore:
        """The built-in test CA (``<DATA_DIR>/pki``) when it exists, plus every file listed
        in the ``TRUST_ROOTS`` setting (a list, or paths separated by ``os.pathsep``)."""
        pki = Path(data_dir or config.get("DATA_DIR") or ".") / "pki"
        roots = [pki / "root-ca.pem"] if (pki / "root-ca.pem").is_file() else []
        inter = [pki / "intermediate-ca.pem"] if (pki / "intermediate-ca.pem").is_file() else []
        roots += [Path(p) for p in _split_setting(config.get("TRUST_ROOTS"))]
        return cls.from_files(roots, inter)

    def __reduce__(self):
        # As DER: an unpickled asn1crypto certificate skips the class set-up that parsing
        # does, so a fresh sandbox worker could not read it (TypeError in _field_map).
        return (_from_der, ([c.dump() for c in self.roots],
                            [c.dump() for c in self.intermediates]))

    def __bool__(self) -> bool:
        return bool(self.roots)

    @property
    def key_usage(self) -> KeyUsageConstraints:
        return KEY_USAGE

    def validation_context(self, moment: datetime | None = None,
                           certificate_registry=None) -> ValidationContext:
        """A context for one validation run: explicit anchors only, no network.

        ``moment`` (timezone-aware) validates the chain as it stood at that time — the
        signing time or the timestamp's time — instead of now. Revocation checks
        soft-fail: without fetching, a missing CRL/OCSP leaves the status unknown, it
        does not fail the chain. ``certificate_registry`` lets a second context reuse the
        certificates an earlier one collected from the signatures.
        """
        return ValidationContext(
            trust_roots=list(self.roots),
            other_certs=list(self.intermediates),
            allow_fetching=False,
            revocation_mode="soft-fail",
            moment=moment,
            certificate_registry=certificate_registry,
        )


def _from_der(roots: list[bytes], intermediates: list[bytes]) -> TrustStore:
    return TrustStore(roots=[x509.Certificate.load(der) for der in roots],
                      intermediates=[x509.Certificate.load(der) for der in intermediates])
