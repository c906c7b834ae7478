"""create_app wires everything; importing wires nothing and pulls in no web layer; and
several applications live side by side in one process (the tests make one per test)."""
import subprocess
import sys
from pathlib import Path

import pytest

import docmgr
from docmgr import create_app
from tests.conftest import PASSWORD, ApiClient

PACKAGE_ROOT = Path(docmgr.__file__).resolve().parents[1]
WEB_MODULES = {"views", "api", "web", "web_app", "factory", "home", "extensions"}
SLICES = ("inbound", "outbound", "signing", "search", "records", "reports")


def modules_after(statement: str) -> set[str]:
    """The modules a fresh interpreter holds after running ``statement``."""
    code = f"import sys\n{statement}\nprint('\\n'.join(sys.modules))"
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, cwd=PACKAGE_ROOT, env={"PYTHONPATH": str(PACKAGE_ROOT)})
    return set(run.stdout.split())


def test_importing_the_package_imports_nothing_else():
    modules = modules_after("import docmgr")
    assert {name for name in modules if name.startswith("docmgr")} == {"docmgr"}
    assert "flask" not in modules


def test_operations_import_no_web_layer():
    modules = modules_after("\n".join(f"import docmgr.{name}.operations" for name in SLICES))
    assert {f"docmgr.{name}.operations" for name in SLICES} <= modules
    web = {name for name in modules
           if name.startswith("docmgr.") and name.rsplit(".", 1)[1] in WEB_MODULES}
    assert web == set()
    assert not {"flask", "flask_login", "flask_wtf"} & modules  # operations take no Flask globals


@pytest.fixture
def second_app(app, database_url, tmp_path):
    other = create_app({"DATABASE_URL": database_url, "DATA_DIR": tmp_path / "second",
                        "SECRET_KEY": "another-secret", "INDEXER": "worker"})
    yield other
    other.extensions["docmgr"].db.dispose()


def test_two_applications_in_one_process_both_work(app, second_app, db, world):
    for each in (app, second_app):
        client = each.test_client()
        assert client.get("/login").status_code == 200
        # A slice's API is nested under /api/v1, once, behind the API's bearer-token check.
        assert [rule.rule for rule in each.url_map.iter_rules()
                if rule.endpoint == "api.inbound_api.list_documents"] == ["/api/v1/incoming"]
        refused = client.get("/api/v1/incoming")
        assert refused.status_code == 401
        assert refused.get_json()["error"]["code"] == "unauthorized"
        # The API needs no CSRF token: a token is issued to a bare JSON post.
        issued = client.post("/api/v1/auth/token",
                             json={"username": "clerk", "password": PASSWORD})
        assert issued.status_code == 200, issued.data
        assert ApiClient(each, db, world.users["clerk"]).get("/api/v1/incoming").status_code \
            == 200
        # The browser pages do need one.
        assert client.post("/login", data={"username": "clerk",
                                           "password": PASSWORD}).status_code == 400


def test_each_application_has_every_command(app, second_app):
    for each in (app, second_app):
        result = each.test_cli_runner().invoke(args=["docmgr", "--help"])
        assert result.exit_code == 0, result.output
        for name in ("init", "demo", "reindex", "worker", "issue-cert", "import-cert",
                     "backup", "restore", "audit-verify"):
            assert f"  {name} " in result.output, name
