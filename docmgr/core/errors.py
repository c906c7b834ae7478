"""Errors raised by operations. Views turn them into JSON or flash messages.

Each error carries a machine-readable ``code``, a Vietnamese ``message`` for the
person who caused it, an optional ``field`` and the HTTP status that fits.
"""
import functools


class DomainError(Exception):
    status = 400
    code = "invalid"
    # A refusal normally keeps nothing of the request (core/transaction.py). One that
    # counts towards a lock-out (a wrong PIN, a wrong password) sets this: what the
    # operation wrote before refusing — the failure count — is committed with the
    # refusal. Such an operation must raise it before changing anything else.
    keeps_changes = False

    def __init__(self, message: str, *, field: str | None = None, code: str | None = None, **extra):
        super().__init__(message)
        self.message = message
        self.field = field
        if code:
            self.code = code
        self.extra = extra

    def __reduce__(self):
        # Errors raised in a sandboxed worker (docmgr.core.sandbox) travel back pickled;
        # the default would rebuild them from the message alone, losing field and extras.
        return functools.partial(type(self), field=self.field, code=self.code,
                                 **self.extra), (self.message,)

    def headers(self) -> dict[str, str]:
        """HTTP headers the answer to this refusal carries (pages and API alike): a refusal
        that says when to come back (``retry_after`` seconds) says it as Retry-After too."""
        if "retry_after" in self.extra:
            return {"Retry-After": str(self.extra["retry_after"])}
        return {}

    def to_dict(self) -> dict:
        body = {"code": self.code, "message": self.message}
        if self.field:
            body["field"] = self.field
        body.update(self.extra)
        return body


class ValidationFailed(DomainError):
    status = 400
    code = "validation_failed"


class UploadRejected(ValidationFailed):
    code = "upload_rejected"


class UploadTooLarge(UploadRejected):
    status = 413
    code = "upload_too_large"


class NotFound(DomainError):
    status = 404
    code = "not_found"


class Forbidden(DomainError):
    status = 403
    code = "forbidden"


class Conflict(DomainError):
    status = 409
    code = "conflict"


class ServiceBusy(DomainError):
    """The work could not be done now (every worker busy, or too slow on a loaded
    machine); the same request may succeed later."""
    status = 503
    code = "busy"


class TooManyAttempts(DomainError):
    """Refused for now, without looking at the request: too many attempts. The answer says
    when to try again (``retry_after`` seconds, also the ``Retry-After`` header)."""
    status = 429
    code = "too_many_attempts"

    def __init__(self, message: str, *, retry_after: int, **extra):
        super().__init__(message, retry_after=retry_after, **extra)
