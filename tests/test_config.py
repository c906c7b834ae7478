"""Settings: read by type from DOCMGR_* and create_app's dict, frozen, and loaded without
touching the disk; the clock's zone comes from them, with or without an application."""
import dataclasses
import os
import stat
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest
from flask import has_app_context

from docmgr import config, create_app
from docmgr.config import Settings, SettingsError
from docmgr.core import clock


def load(environ=None, **overrides):
    return config.load(overrides, environ=environ or {})


def test_defaults(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    settings = load()
    assert settings.data_dir == tmp_path / "archive"
    assert settings.database_url == f"sqlite:///{tmp_path / 'archive' / 'docmgr.sqlite3'}"
    assert settings.secret_key is None
    assert (settings.max_upload_mb, settings.testing, settings.indexer) == (50, False, "thread")
    assert settings.timezone == ZoneInfo("Asia/Ho_Chi_Minh") and settings.trust_roots == ()


def test_environment_values_are_read_by_type(tmp_path):
    roots = [tmp_path / "root.pem", tmp_path / "ban-co-yeu.pem"]
    settings = load({
        "DOCMGR_DATA_DIR": str(tmp_path / "data"),
        "DOCMGR_SECURE_COOKIES": "Yes", "DOCMGR_TESTING": "0",
        "DOCMGR_MAX_UPLOAD_MB": " 12 ", "DOCMGR_DB_POOL_SIZE": "2",
        "DOCMGR_TIMEZONE": "Asia/Bangkok", "DOCMGR_INDEXER": "worker",
        "DOCMGR_TRUST_ROOTS": os.pathsep.join(map(str, roots)) + os.pathsep,
        "DOCMGR_TIMESTAMP_URL": "",  # empty: not set
        "DOCMGR_OCR_LANG": "vie+eng",
        "DOCMGR_UNRELATED": "ignored",
    })
    assert settings.data_dir == tmp_path / "data"
    assert settings.secure_cookies is True and settings.testing is False
    assert settings.max_upload_mb == 12 and settings.db_pool_size == 2
    assert settings.timezone == ZoneInfo("Asia/Bangkok") and settings.indexer == "worker"
    assert settings.trust_roots == tuple(roots)
    assert settings.timestamp_url is None and settings.ocr_lang == "vie+eng"


def test_overrides_take_typed_or_text_values(tmp_path):
    settings = load(DATA_DIR=tmp_path, MAX_UPLOAD_MB="3", TESTING=True,
                    TRUST_ROOTS=[str(tmp_path / "a.pem"), tmp_path / "b.pem"])
    assert settings.data_dir == tmp_path and settings.max_upload_mb == 3 and settings.testing
    assert settings.trust_roots == (tmp_path / "a.pem", tmp_path / "b.pem")


def test_precedence_overrides_then_environment_then_defaults(tmp_path):
    environ = {"DOCMGR_PAGE_SIZE": "40", "DOCMGR_TOKEN_TTL_DAYS": "7"}
    settings = load(environ, DATA_DIR=tmp_path, TOKEN_TTL_DAYS=1)
    assert settings.token_ttl_days == 1  # override beats environment
    assert settings.page_size == 40  # environment beats default
    assert settings.reminder_hours == 24  # default


@pytest.mark.parametrize("variable, value, says", [
    ("DOCMGR_MAX_UPLOAD_MB", "abc", "số nguyên"),
    ("DOCMGR_LOGIN_MAX_FAILURES", "2.5", "số nguyên"),
    ("DOCMGR_SECURE_COOKIES", "có", "true/false"),
    ("DOCMGR_INDEXER", "threads", "thread, worker"),
    ("DOCMGR_TIMEZONE", "Asia/Ha_Noi", "múi giờ"),
    ("DOCMGR_DATA_DIR", "", "đường dẫn"),
])
def test_a_bad_environment_value_names_the_variable(tmp_path, variable, value, says):
    with pytest.raises(SettingsError) as refused:
        load({variable: value})
    assert str(refused.value).startswith(f"{variable}={value!r}: ")
    assert says in str(refused.value)


def test_bad_overrides_are_refused():
    with pytest.raises(SettingsError, match="^MAX_UPLOAD_MB=True: "):
        load(MAX_UPLOAD_MB=True)  # a bool is not a number of megabytes
    with pytest.raises(SettingsError, match="^SECRET_KEY=42: "):
        load(SECRET_KEY=42)
    with pytest.raises(SettingsError, match="MAX_UPLOAD_MBS"):
        load(MAX_UPLOAD_MBS=5)  # a misspelt key would otherwise be ignored silently


def test_settings_are_frozen(tmp_path):
    settings = load(DATA_DIR=tmp_path)
    with pytest.raises(dataclasses.FrozenInstanceError):
        settings.max_upload_mb = 1


def test_the_secret_key_is_not_shown(tmp_path):
    settings = load(DATA_DIR=tmp_path, SECRET_KEY="khoa-bi-mat",
                    DATABASE_URL="postgresql+psycopg://docmgr:mat-khau@db/docmgr")
    assert "khoa-bi-mat" not in repr(settings) and "mat-khau" not in repr(settings)


def test_loading_creates_nothing_and_preparing_creates_the_key_once(tmp_path):
    data_dir = tmp_path / "new" / "data"
    settings = load(DATA_DIR=data_dir)
    assert not (tmp_path / "new").exists()

    prepared = config.prepare_data_dir(settings)
    key_file = data_dir / "secret_key"
    assert prepared.secret_key == key_file.read_text() and len(prepared.secret_key) == 64
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert config.prepare_data_dir(settings).secret_key == prepared.secret_key  # kept


def test_a_given_secret_key_writes_no_file(tmp_path):
    prepared = config.prepare_data_dir(load(DATA_DIR=tmp_path / "d", SECRET_KEY="given"))
    assert prepared.secret_key == "given" and list((tmp_path / "d").iterdir()) == []


def test_flask_config_reads_back_into_the_same_settings(tmp_path):
    settings = load(DATA_DIR=tmp_path, TRUST_ROOTS=[tmp_path / "a.pem", tmp_path / "b.pem"],
                    TIMEZONE="Asia/Bangkok", SECRET_KEY="k")
    flask_config = settings.as_flask_config()
    assert set(flask_config) == {f.name.upper() for f in dataclasses.fields(Settings)}
    assert flask_config["DATA_DIR"] == str(tmp_path) and flask_config["TIMEZONE"] == "Asia/Bangkok"
    assert load(**flask_config) == settings


@pytest.fixture
def restore_clock():
    zone = clock.zone()
    yield
    clock.configure(zone)


def test_clock_outside_an_app_context(restore_clock):
    assert not has_app_context()
    evening_utc = datetime(2026, 12, 31, 17, 30, tzinfo=UTC)
    assert clock.local(evening_utc).date().isoformat() == "2027-01-01"  # default zone, +07:00
    clock.configure(ZoneInfo("UTC"))
    assert clock.local(evening_utc).date().isoformat() == "2026-12-31"


def test_create_app_gives_the_clock_its_timezone(tmp_path, restore_clock):
    app = create_app({"DATA_DIR": tmp_path, "SECRET_KEY": "k", "INDEXER": "worker",
                      "TIMEZONE": "Europe/Paris"})
    try:
        assert app.extensions["docmgr"].settings.timezone == ZoneInfo("Europe/Paris")
        assert clock.zone() == ZoneInfo("Europe/Paris")  # no app context needed
        assert app.config["TIMEZONE"] == "Europe/Paris"  # still there for older readers
    finally:
        app.extensions["docmgr"].db.dispose()
