"""Every setting, with embedded defaults, overridable by ``DOCMGR_<KEY>`` variables.

Order of precedence: the ``config`` dict given to ``create_app`` > environment > defaults.
"""
import os
import secrets
from pathlib import Path

DEFAULTS = {
    "DATA_DIR": "./archive",
    "DATABASE_URL": None,  # None: SQLite file docmgr.sqlite3 in DATA_DIR
    "SECRET_KEY": None,  # None: generated once and kept in DATA_DIR/secret_key
    "TESTING": False,
    "MAX_UPLOAD_MB": 50,
    "TIMEZONE": "Asia/Ho_Chi_Minh",
    "SEARCH_BACKEND": "whoosh",
    "INDEXER": "thread",  # thread: this process indexes in the background; worker: a worker does
    "OCR_LANG": "vie",
    "TIMESTAMP_URL": None,  # RFC 3161 TSA; set it to make signatures PAdES B-T
    "TRUST_ROOTS": "",  # extra trust anchors (PEM/DER files), separated by os.pathsep
    "SECURE_COOKIES": False,  # set true behind HTTPS
    "LOGIN_MAX_FAILURES": 5,
    "LOGIN_LOCK_MINUTES": 15,
    "TOKEN_TTL_DAYS": 30,
    "PAGE_SIZE": 20,
    "REMINDER_HOURS": 24,  # drafts waiting longer than this for review/signature/issue
    "PREVIEW_WIDTH_PX": 1000,
    # PostgreSQL connections per process: one per serving thread is enough, and
    # processes × (pool + overflow) must stay below the server's max_connections.
    "DB_POOL_SIZE": 5,
    "DB_MAX_OVERFLOW": 5,
}

_BOOL = {"TESTING", "SECURE_COOKIES"}
_INT = {"DB_POOL_SIZE", "DB_MAX_OVERFLOW", "REMINDER_HOURS", "MAX_UPLOAD_MB",
        "LOGIN_MAX_FAILURES", "LOGIN_LOCK_MINUTES", "TOKEN_TTL_DAYS", "PAGE_SIZE",
        "PREVIEW_WIDTH_PX"}


def _coerce(key, value):
    if isinstance(value, str):
        if key in _BOOL:
            return value.strip().lower() in {"1", "true", "yes", "on"}
        if key in _INT:
            return int(value)
    return value


def load(overrides: dict | None = None) -> dict:
    settings = {}
    for key, default in DEFAULTS.items():
        value = os.environ.get(f"DOCMGR_{key}", default)
        settings[key] = _coerce(key, value)
    for key, value in (overrides or {}).items():
        settings[key] = _coerce(key, value)

    data_dir = Path(settings["DATA_DIR"]).resolve()
    data_dir.mkdir(parents=True, exist_ok=True)
    settings["DATA_DIR"] = str(data_dir)
    if not settings["DATABASE_URL"]:
        settings["DATABASE_URL"] = f"sqlite:///{data_dir / 'docmgr.sqlite3'}"
    if not settings["SECRET_KEY"]:
        settings["SECRET_KEY"] = _persistent_secret(data_dir / "secret_key")
    return settings


def _persistent_secret(path: Path) -> str:
    # Generated once per data dir so sessions survive restarts without a hard-coded key.
    if not path.exists():
        path.write_text(secrets.token_hex(32))
        path.chmod(0o600)
    return path.read_text().strip()
