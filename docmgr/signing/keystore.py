"""Private keys kept only encrypted under a key derived from the holder's PIN.

scrypt (memory-hard; N=2^14, r=8 → 16 MiB, ~70 ms here: the "interactive" parameters
of scrypt's paper) derives an AES-256-GCM key from the PIN and a random salt; the GCM tag
tells a wrong PIN apart without storing anything about the PIN. The decrypted key exists
only for one signing call.
"""
import hashlib
import os
from dataclasses import dataclass

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

SCRYPT_N, SCRYPT_R, SCRYPT_P = 2 ** 14, 8, 1
MIN_PIN_LENGTH = 6


class WrongPin(Exception):
    pass


@dataclass(frozen=True)
class SealedKey:
    ciphertext: bytes
    salt: bytes
    nonce: bytes
    kdf: str  # parameters, so they can be raised later without breaking old keys


def _derive(pin: str, salt: bytes, kdf: str) -> bytes:
    name, n, r, p = kdf.split(":")
    assert name == "scrypt"
    n, r, p = int(n), int(r), int(p)
    return hashlib.scrypt(pin.encode("utf-8"), salt=salt, n=n, r=r, p=p,
                          maxmem=n * r * 256, dklen=32)


def seal(private_key, pin: str) -> SealedKey:
    """Encrypt a private key object (PKCS#8 DER inside) under the PIN."""
    der = private_key.private_bytes(serialization.Encoding.DER,
                                    serialization.PrivateFormat.PKCS8,
                                    serialization.NoEncryption())
    salt, nonce = os.urandom(16), os.urandom(12)
    kdf = f"scrypt:{SCRYPT_N}:{SCRYPT_R}:{SCRYPT_P}"
    ciphertext = AESGCM(_derive(pin, salt, kdf)).encrypt(nonce, der, b"docmgr-key-v1")
    return SealedKey(ciphertext=ciphertext, salt=salt, nonce=nonce, kdf=kdf)


def unseal(sealed: SealedKey, pin: str) -> bytes:
    """The PKCS#8 DER of the key, or WrongPin."""
    try:
        return AESGCM(_derive(pin, sealed.salt, sealed.kdf)).decrypt(
            sealed.nonce, sealed.ciphertext, b"docmgr-key-v1")
    except InvalidTag:
        raise WrongPin() from None
