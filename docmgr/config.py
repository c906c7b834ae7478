"""Every setting, parsed once into a typed, frozen ``Settings``.

A setting ``MAX_UPLOAD_MB`` is the attribute ``max_upload_mb``, read from the environment
variable ``DOCMGR_MAX_UPLOAD_MB`` or from the dict given to ``create_app``. Order of
precedence: that dict > environment > the defaults below. The field's type says how a text
value is read (bool, int, str, Path, a list of paths, a time zone, a fixed set of words); a
value that does not fit stops the start-up with a message naming the variable.

Loading only reads: it creates no directory and writes no key, so it is safe anywhere
(tests, scripts, a second process). ``prepare_data_dir`` does the writing, once, in the
application factory.
"""
import dataclasses
import os
import secrets
import types
import typing
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from docmgr.core.clock import DEFAULT_ZONE

ENV_PREFIX = "DOCMGR_"
SECRET_KEY_FILE = "secret_key"


class SettingsError(ValueError):
    """A setting that cannot be read; the message names where it came from."""


@dataclass(frozen=True)
class Settings:
    data_dir: Path = Path("./archive")
    # None: the SQLite file docmgr.sqlite3 in DATA_DIR. Not in repr: it may hold a password.
    database_url: str | None = field(default=None, repr=False)
    # None: generated once into DATA_DIR/secret_key by prepare_data_dir
    secret_key: str | None = field(default=None, repr=False)
    testing: bool = False
    max_upload_mb: int = 50
    # The largest PDF the signature check (page and /api/v1/signatures/validate) takes: a
    # signed document is rarely over a few MB, and the check parses its structure.
    validate_max_mb: int = 20
    timezone: ZoneInfo = ZoneInfo(DEFAULT_ZONE)
    search_backend: str = "whoosh"
    # thread: this process indexes in the background; worker: a `flask docmgr worker` does
    indexer: Literal["thread", "worker"] = "thread"
    ocr_lang: str = "vie"
    timestamp_url: str | None = None  # an RFC 3161 TSA; set it to make signatures PAdES B-T
    trust_roots: tuple[Path, ...] = ()  # extra trust anchors (PEM/DER files), os.pathsep
    secure_cookies: bool = False  # set true behind HTTPS
    # Login throttling (core/throttle.py): progressive delays, never a lock-out. Failures
    # allowed before the delays start for one account from one address, and for one
    # address (any usernames) or one account (any addresses); the longest delay, and the
    # short one for an account tried from everywhere (a stranger must not close it).
    login_max_failures: int = 5
    login_address_max_failures: int = 20
    login_max_delay_minutes: int = 15
    login_account_max_delay_seconds: int = 60
    # Password hashes (scrypt, ~0.1 s of CPU each) computed at once by one process; a few
    # more wait in line, any more get 503: a crowd of logins cannot take every core.
    login_concurrent_checks: int = 1
    # Reverse proxies in front of the application whose X-Forwarded-For/-Proto are believed
    # (nginx: 1). 0: the client address is the connection's, as without a proxy.
    trusted_proxies: int = 0
    token_ttl_days: int = 30
    password_min_length: int = 10
    # A browser session ends after SESSION_IDLE_MINUTES without a request (a working day)
    # and SESSION_MAX_HOURS after the login; with "Ghi nhớ đăng nhập", SESSION_MAX_DAYS
    # after the login, however idle. Logout, a password change and an administrator end
    # them sooner (core/sessions.py).
    session_idle_minutes: int = 480
    session_max_hours: int = 12
    session_max_days: int = 30
    page_size: int = 20
    reminder_hours: int = 24  # drafts waiting longer than this for review/signature/issue
    # Documents signed with one PIN entry (page and API): each signature takes a fraction of
    # a second to a second, all in one request; the batch page lists this many.
    sign_batch_max: int = 50
    preview_width_px: int = 1000
    # PostgreSQL connections per process: one per serving thread is enough, and
    # processes × (pool + overflow) must stay below the server's max_connections.
    db_pool_size: int = 5
    db_max_overflow: int = 5

    def as_flask_config(self) -> dict:
        """Every setting under its upper-case key, as plain values, for ``app.config``."""
        return {name.upper(): _plain(getattr(self, name)) for name in _TYPES}


def _sqlite_url(data_dir: Path) -> str:
    return f"sqlite:///{data_dir / 'docmgr.sqlite3'}"


def _plain(value):
    if isinstance(value, Path):
        return str(value)
    if isinstance(value, ZoneInfo):
        return value.key
    if isinstance(value, tuple):
        return os.pathsep.join(str(part) for part in value)
    return value


_TYPES = typing.get_type_hints(Settings)
KEYS = frozenset(name.upper() for name in _TYPES)


def load(overrides: Mapping[str, object] | None = None,
         environ: Mapping[str, str] | None = None) -> Settings:
    """Read the settings from ``overrides`` (upper-case keys), the environment, the defaults."""
    environ = os.environ if environ is None else environ
    overrides = dict(overrides or {})
    unknown = sorted(set(overrides) - KEYS)
    if unknown:
        raise SettingsError(f"Không có thiết lập tên {', '.join(unknown)} "
                            f"(các thiết lập: {', '.join(sorted(KEYS))}).")
    values = {}
    for name, kind in _TYPES.items():
        key = name.upper()
        if key in overrides:
            values[name] = _convert(overrides[key], kind, key)
        elif ENV_PREFIX + key in environ:
            values[name] = _convert(environ[ENV_PREFIX + key], kind, ENV_PREFIX + key)
    settings = Settings(**values)
    # DATA_DIR is made absolute once, here: nothing later depends on the current directory.
    data_dir = settings.data_dir.expanduser().resolve()
    return dataclasses.replace(settings, data_dir=data_dir,
                               database_url=settings.database_url or _sqlite_url(data_dir))


def prepare_data_dir(settings: Settings) -> Settings:
    """Create the data directory and, when no SECRET_KEY is given, the key kept in it.

    Returns the settings with ``secret_key`` filled in.
    """
    from docmgr.core.storage import private_dir  # storage imports nothing of docmgr
    private_dir(settings.data_dir)
    if settings.secret_key:
        return settings
    return dataclasses.replace(settings,
                               secret_key=_persistent_secret(settings.data_dir / SECRET_KEY_FILE))


def _persistent_secret(path: Path) -> str:
    # Generated once per data dir so sessions survive restarts without a hard-coded key.
    # O_EXCL with mode 0600: the key is never readable by others, not even for a moment,
    # and of two processes starting together only one writes it.
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        pass
    else:
        os.fchmod(fd, 0o600)  # the umask may only narrow os.open's mode; be exact
        with os.fdopen(fd, "w") as out:
            out.write(secrets.token_hex(32))
    key = path.read_text().strip()
    if not key:
        raise SettingsError(f"Tệp khóa bí mật {path} rỗng; hãy xóa nó để tạo lại.")
    return key


def current() -> Settings:
    """The settings of the application serving this request or running this command."""
    from flask import current_app  # here, not above: loading settings needs no Flask
    return current_app.extensions["docmgr"].settings


# --- reading one value by its type ----------------------------------------------------------

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


def _convert(value, kind, source: str):
    """``value`` (a text from the environment, or any value from the overrides) as ``kind``."""
    try:
        return _as(value, kind)
    except (TypeError, ValueError) as exc:
        raise SettingsError(f"{source}={value!r}: {exc}") from None


def _as(value, kind):
    origin, args = typing.get_origin(kind), typing.get_args(kind)
    if origin in (typing.Union, types.UnionType):  # X | None
        if value is None or value == "":
            return None
        (kind,) = [arg for arg in args if arg is not type(None)]
        return _as(value, kind)
    if origin is Literal:
        if value not in args:
            raise ValueError("phải là một trong " + ", ".join(args))
        return value
    if origin is tuple:  # tuple[Path, ...]: a list, or one text separated by os.pathsep
        parts = value.split(os.pathsep) if isinstance(value, str) else value
        return tuple(_as(part, args[0]) for part in parts if str(part).strip())
    reader = _READERS.get(kind)
    if reader is None:
        raise TypeError(f"no reader for settings of type {kind}: add one to _READERS")
    return reader(value)


def _bool(value) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in _TRUE | _FALSE:
        return value.strip().lower() in _TRUE
    raise ValueError("phải là true/false (hoặc 1/0, yes/no, on/off)")


def _int(value) -> int:
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, str):
        try:
            return int(value)
        except ValueError:
            pass
    raise ValueError("phải là một số nguyên")


def _path(value) -> Path:
    if isinstance(value, (str, os.PathLike)) and str(value).strip():
        return Path(value)
    raise ValueError("phải là một đường dẫn")


def _zone(value) -> ZoneInfo:
    if isinstance(value, ZoneInfo):
        return value
    try:
        return ZoneInfo(str(value).strip())
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError("không phải tên múi giờ IANA (ví dụ Asia/Ho_Chi_Minh)") from None


def _str(value) -> str:
    if isinstance(value, str):
        return value
    raise ValueError("phải là một chuỗi")


_READERS = {bool: _bool, int: _int, Path: _path, ZoneInfo: _zone, str: _str}
