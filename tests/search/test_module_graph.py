"""The search package's modules import one another without a cycle: the interface imports
no backend, a backend imports the interface and nothing that opens backends, and the
engine table loads a backend (and its engine library) only when that backend is asked for.
"""
import ast
import os
import subprocess
import sys
from pathlib import Path

import pytest

from docmgr.search import engines

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = "docmgr.search"
INTERFACE = "docmgr.search.backend"
ENGINES = "docmgr.search.engines"
BACKEND_MODULES = {name: path.partition(":")[0] for name, path in engines.BACKENDS.items()}
LIBRARIES = {"whoosh": "whoosh", "tantivy": "tantivy"}  # the engine each backend wraps


def _package_modules() -> dict[str, Path]:
    folder = ROOT.joinpath(*PACKAGE.split("."))
    return {f"{PACKAGE}.{path.stem}": path for path in sorted(folder.glob("*.py"))
            if path.stem != "__init__"}


def _imported(path: Path, modules: set[str]) -> set[str]:
    """The package's modules that ``path`` imports, at the top or inside a function (a
    lazy import still makes a cycle, it only moves the failure to run time)."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module:
            # "from docmgr.search import analysis" imports the module docmgr.search.analysis
            names = [node.module, *(f"{node.module}.{alias.name}" for alias in node.names)]
        else:
            continue
        found |= modules.intersection(names)
    return found


def _graph() -> dict[str, set[str]]:
    modules = _package_modules()
    return {name: _imported(path, set(modules)) for name, path in modules.items()}


def _cycle(graph: dict[str, set[str]]) -> list[str]:
    """One import cycle as a path (first module repeated at the end), or []."""
    done: set[str] = set()

    def visit(path: list[str]) -> list[str]:
        for following in sorted(graph[path[-1]]):
            if following in path:
                return path[path.index(following):] + [following]
            if following not in done:
                found = visit(path + [following])
                if found:
                    return found
        done.add(path[-1])
        return []

    for start in sorted(graph):
        found = [] if start in done else visit([start])
        if found:
            return found
    return []


def _python(code: str) -> subprocess.CompletedProcess:
    """Run ``code`` in a fresh interpreter that imports this checkout's docmgr."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(
        filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))}
    # check=False: the caller asserts, showing the child's traceback.
    return subprocess.run([sys.executable, "-c", code], check=False, cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=120)


def test_the_search_package_has_no_import_cycle():
    graph = _graph()
    assert INTERFACE in graph and set(BACKEND_MODULES.values()) <= set(graph)
    assert _cycle(graph) == [], " → ".join(_cycle(graph))


def test_the_interface_imports_no_backend_and_backends_open_none():
    graph = _graph()
    backends = set(BACKEND_MODULES.values())
    assert not graph[INTERFACE] & (backends | {ENGINES})
    assert not graph[ENGINES] & backends  # named in the table, imported only on demand
    for module in backends:
        assert INTERFACE in graph[module]
        assert not graph[module] & (backends | {ENGINES}), module


@pytest.mark.parametrize("module", [INTERFACE, ENGINES, *BACKEND_MODULES.values()])
def test_each_module_can_be_imported_first(module):
    # What a cycle breaks: importing a module before any other in a fresh process.
    done = _python(f"import {module}")
    assert done.returncode == 0, done.stderr


@pytest.mark.parametrize("name", list(engines.BACKENDS))
def test_opening_a_backend_loads_no_other_engine(name, tmp_path):
    watched = sorted({*BACKEND_MODULES.values(), *LIBRARIES.values()})
    done = _python(
        "import sys\n"
        "from docmgr.search import engines\n"
        f"engines.open_backend({name!r}, {str(tmp_path / 'index')!r}, create=True).close()\n"
        f"print(sorted(set({watched!r}) & set(sys.modules)))\n")
    assert done.returncode == 0, done.stderr
    loaded = done.stdout.splitlines()[-1]
    assert loaded == str(sorted({BACKEND_MODULES[name], LIBRARIES[name]}))


def test_an_unknown_backend_name_is_refused(tmp_path):
    with pytest.raises(ValueError, match="unknown search backend 'solr'"):
        engines.open_backend("solr", tmp_path)
