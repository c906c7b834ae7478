"""The Flask extensions, created unbound here and bound to each application by the factory.

They live in their own module so that whoever needs one (the web wiring, a view) imports it
from here, not from the ``docmgr`` package, which must stay free of the web layer.
"""
from flask_login import LoginManager
from flask_wtf.csrf import CSRFProtect

csrf = CSRFProtect()
login_manager = LoginManager()
