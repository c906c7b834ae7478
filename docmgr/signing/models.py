"""Signing keys (certificate + PIN-encrypted private key), signature images and seals."""
from sqlalchemy import Boolean, Float, ForeignKey, Integer, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from docmgr.db import Base, UTCDateTime, utcnow


class SigningKey(Base):
    """A certificate and its private key, sealed under the holder's PIN.

    ``user_id`` set: a person's key. ``user_id`` empty: the organisation's digital seal,
    unlocked by its clerks with the organisation PIN.
    """
    __tablename__ = "signing_keys"
    id: Mapped[int] = mapped_column(primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"), index=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    subject_cn: Mapped[str] = mapped_column(String(255))
    issuer_cn: Mapped[str] = mapped_column(String(255))
    serial: Mapped[str] = mapped_column(String(80))
    not_before = mapped_column(UTCDateTime)
    not_after = mapped_column(UTCDateTime)
    certificate: Mapped[bytes] = mapped_column(LargeBinary)  # DER
    chain_pem: Mapped[str] = mapped_column(Text, default="")  # issuing CAs, PEM
    ciphertext: Mapped[bytes] = mapped_column(LargeBinary)
    salt: Mapped[bytes] = mapped_column(LargeBinary)
    nonce: Mapped[bytes] = mapped_column(LargeBinary)
    kdf: Mapped[str] = mapped_column(String(60))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    failed_pins: Mapped[int] = mapped_column(Integer, default=0)
    locked_until = mapped_column(UTCDateTime, nullable=True)
    created_at = mapped_column(UTCDateTime, default=utcnow)


class SignatureImage(Base):
    """A person's handwritten signature (PNG with transparency), kept in the blob store."""
    __tablename__ = "signature_images"
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), unique=True)
    sha256: Mapped[str] = mapped_column(String(64))
    uploaded_at = mapped_column(UTCDateTime, default=utcnow)


class OrgSeal(Base):
    """The organisation's red seal (PNG with transparency) and its real diameter."""
    __tablename__ = "org_seals"
    id: Mapped[int] = mapped_column(primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"), unique=True)
    sha256: Mapped[str] = mapped_column(String(64))
    diameter_mm: Mapped[float] = mapped_column(Float, default=36.0)
    uploaded_at = mapped_column(UTCDateTime, default=utcnow)
