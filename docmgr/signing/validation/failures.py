"""Why something could not be checked, as exception types — never as message text.

pyHanko has typed errors per layer (``PdfReadError`` for the file's structure,
``SignatureValidationError`` for a signature, …), but it raises one
``SignatureValidationError`` for several format problems, and asn1crypto raises plain
``ValueError``/``TypeError`` for any undecodable DER. ``explain`` turns such an exception
into one of the types below by looking at the signature's own bytes, so that notes.py can
pick the sentence by ``isinstance``. The original exception stays as ``cause`` (and
``__cause__``): its text is what support staff see in the report's ``error``.
"""
from __future__ import annotations

from asn1crypto import cms, core
from pyhanko.sign.ades.report import AdESFailure
from pyhanko.sign.validation.errors import SignatureValidationError


class Unchecked(Exception):
    """One signature could not be checked; the report gets an ``invalid`` entry."""

    def __init__(self, cause: BaseException | None = None):
        super().__init__(*(() if cause is None else (cause,)))
        self.cause = cause
        self.__cause__ = cause


class EmptyPlaceholder(Unchecked):
    """The signature field holds only the zero-filled space reserved for a signature."""


class UnreadableCms(Unchecked):
    """The /Contents bytes do not decode as a CMS SignedData."""


class EncapsulatedContent(Unchecked):
    """A detached (PDF) signature whose CMS carries the signed data inside it too."""


class UnsupportedSubFilter(Unchecked):
    """A /SubFilter pyHanko does not validate (adbe.x509.rsa_sha1, …)."""


class Encrypted(Exception):
    """The file is encrypted in a way we cannot open (a password, a recipient's certificate).
    The message is Vietnamese: it ends up in what the person is told."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


class EncryptionUnreadable(Exception):
    """The file says it is encrypted, but its encryption dictionary cannot be used."""


def explain(exc: Exception, der: bytes | None, *, subfilter_supported: bool = True
            ) -> Exception:
    """The typed reason behind ``exc``, raised while checking the signature whose CMS is
    ``der``; ``exc`` itself when no more precise type fits."""
    if isinstance(exc, Unchecked):
        return exc
    if isinstance(exc, SignatureValidationError):
        if not subfilter_supported:
            return UnsupportedSubFilter(exc)
        if (exc.ades_subindication == AdESFailure.FORMAT_FAILURE and der is not None
                and detached_with_content(der)):
            return EncapsulatedContent(exc)
        return exc
    if isinstance(exc, (ValueError, TypeError)) and der is not None and not decodes(der):
        return UnreadableCms(exc)
    return exc


def decodes(der: bytes) -> bool:
    """Whether ``der`` is a SignedData asn1crypto can decode in full. (Only asked after a
    failure: a good signature never pays for decoding every certificate it carries.)"""
    try:
        info = cms.ContentInfo.load(der)
        _ = info.native  # decode every part, not only the outer structure
        return info["content_type"].native == "signed_data"
    except (ValueError, TypeError):
        return False


def detached_with_content(der: bytes) -> bool:
    try:
        content_info = cms.ContentInfo.load(der)["content"]["encap_content_info"]
        return (content_info["content_type"].native == "data"
                and content_info["content"] is not core.VOID)
    except (ValueError, TypeError, KeyError):
        return False
