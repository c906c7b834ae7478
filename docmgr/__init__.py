"""docmgr — document management and e-signature routing for Vietnamese state offices."""


def create_app(overrides: dict | None = None):
    """The Flask application; see ``docmgr.factory.create_app``."""
    # Imported on call: every ``import docmgr.<module>`` first imports this package, and an
    # operation, a migration or a script must not pull in Flask's web layer with it.
    from docmgr.factory import create_app as make_app
    return make_app(overrides)
