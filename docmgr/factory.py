"""The application factory: settings, services, extensions, commands, then the web side."""
import logging
from dataclasses import dataclass
from pathlib import Path

from flask import Flask

from docmgr import cli, config, web_app
from docmgr.config import Settings
from docmgr.core import clock, transaction
from docmgr.core.storage import BlobStore
from docmgr.db import Database
from docmgr.extensions import csrf, login_manager
from docmgr.maintenance import cli as maintenance_cli
from docmgr.search import cli as search_cli
from docmgr.search import service as search_service
from docmgr.signing import cli as signing_cli
from docmgr.signing import pyhanko_patches


@dataclass
class Services:
    """What an application holds for its requests and commands: ``app.extensions["docmgr"]``."""
    settings: Settings
    db: Database
    blobs: BlobStore

    @property
    def data_dir(self) -> Path:
        return self.settings.data_dir


def create_app(overrides: dict | None = None) -> Flask:
    """An application for the settings ``overrides`` > ``DOCMGR_*`` variables > defaults."""
    settings = config.prepare_data_dir(config.load(overrides))
    clock.configure(settings.timezone)

    app = Flask("docmgr")  # the package: its templates/ and static/ are the app's
    # A read-only copy for whatever inspects app.config; docmgr itself reads the typed settings.
    app.config.update(settings.as_flask_config())
    app.config.update(
        MAX_CONTENT_LENGTH=(settings.max_upload_mb + 1) * 1024 * 1024,  # + form fields
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=settings.secure_cookies,
        REMEMBER_COOKIE_HTTPONLY=True,
        REMEMBER_COOKIE_SAMESITE="Lax",
        REMEMBER_COOKIE_SECURE=settings.secure_cookies,
        WTF_CSRF_TIME_LIMIT=None,  # valid for the session; clerks keep forms open for hours
        JSON_AS_ASCII=False,
    )
    app.json.ensure_ascii = False
    app.extensions["docmgr"] = Services(
        settings=settings,
        db=Database(settings.database_url, pool_size=settings.db_pool_size,
                    max_overflow=settings.db_max_overflow),
        blobs=BlobStore(settings.data_dir / "blobs", journal=transaction.blob_journal))

    # pyHanko logs a full traceback at WARNING for every certificate that does not chain
    # to a trust root; our reports already say "not trusted", in Vietnamese.
    logging.getLogger("pyhanko.sign.validation.generic_cms").setLevel(logging.ERROR)
    logging.getLogger("pyhanko_certvalidator").setLevel(logging.ERROR)
    pyhanko_patches.install()

    search_service.install(app)

    csrf.init_app(app)
    login_manager.init_app(app)
    app.cli.add_command(cli.group(*search_cli.COMMANDS, *signing_cli.COMMANDS,
                                  *maintenance_cli.COMMANDS))
    web_app.install(app)
    return app
