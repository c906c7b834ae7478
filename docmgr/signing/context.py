"""What a signing request needs from the application's settings."""
from flask import current_app

from docmgr.signing.pki import BuiltinCA
from docmgr.signing.timestamps import timestamper as make_timestamper
from docmgr.signing.trust import TrustStore


def trust_store() -> TrustStore:
    return TrustStore.for_app(current_app.config, current_app.config["DATA_DIR"])


def timestamper():
    return make_timestamper(current_app.config.get("TIMESTAMP_URL"))


def builtin_ca() -> BuiltinCA:
    return BuiltinCA(current_app.config["DATA_DIR"])
