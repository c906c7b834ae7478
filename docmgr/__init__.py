"""docmgr — document management and e-signature routing for Vietnamese state offices."""
import logging
from dataclasses import dataclass
from pathlib import Path

from flask import Flask
from flask_login import LoginManager
from flask_wtf.csrf import CSRFProtect

from docmgr import config as settings
from docmgr.core.storage import BlobStore
from docmgr.db import Database

csrf = CSRFProtect()
login_manager = LoginManager()


@dataclass
class Services:
    db: Database
    blobs: BlobStore
    data_dir: Path


def create_app(config: dict | None = None) -> Flask:
    app = Flask(__name__)
    cfg = settings.load(config)
    app.config.update(cfg)
    app.config.update(
        MAX_CONTENT_LENGTH=(cfg["MAX_UPLOAD_MB"] + 1) * 1024 * 1024,  # + form fields
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=cfg["SECURE_COOKIES"],
        REMEMBER_COOKIE_HTTPONLY=True,
        REMEMBER_COOKIE_SAMESITE="Lax",
        REMEMBER_COOKIE_SECURE=cfg["SECURE_COOKIES"],
        WTF_CSRF_TIME_LIMIT=None,  # valid for the session; clerks keep forms open for hours
        JSON_AS_ASCII=False,
    )
    app.json.ensure_ascii = False
    data_dir = Path(cfg["DATA_DIR"])
    app.extensions["docmgr"] = Services(
        db=Database(cfg["DATABASE_URL"], pool_size=cfg["DB_POOL_SIZE"],
                    max_overflow=cfg["DB_MAX_OVERFLOW"]),
        blobs=BlobStore(data_dir / "blobs"), data_dir=data_dir)

    # pyHanko logs a full traceback at WARNING for every certificate that does not chain
    # to a trust root; our reports already say "not trusted", in Vietnamese.
    logging.getLogger("pyhanko.sign.validation.generic_cms").setLevel(logging.ERROR)
    logging.getLogger("pyhanko_certvalidator").setLevel(logging.ERROR)
    from docmgr.signing import pyhanko_patches
    pyhanko_patches.install()

    csrf.init_app(app)
    login_manager.init_app(app)

    from docmgr import web_app
    web_app.install(app)
    return app
