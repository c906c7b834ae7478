"""What a signing request needs from the application's settings."""
from docmgr import config
from docmgr.signing.pki import BuiltinCA
from docmgr.signing.timestamps import timestamper as make_timestamper
from docmgr.signing.trust import TrustStore


def trust_store() -> TrustStore:
    settings = config.current()
    return TrustStore.for_app({"TRUST_ROOTS": settings.trust_roots}, settings.data_dir)


def timestamper():
    return make_timestamper(config.current().timestamp_url)


def builtin_ca() -> BuiltinCA:
    return BuiltinCA(config.current().data_dir)
