"""The search slice inside one application process: its index, its indexer and, in the
embedded mode, a background thread that drains the outbox after each change.

``INDEXER`` chooses who writes the index: ``thread`` (default: this process, in a
background thread woken after every commit that changed a searchable document — never
inside the request) or ``worker`` (a separate ``flask docmgr worker`` process; use it when
several web processes run). OCR runs wherever the draining runs, outside any request.
"""
import logging
import threading

from flask import Flask, current_app

from docmgr.search import hooks
from docmgr.search.indexer import Indexer
from docmgr.search.store import IndexStore

log = logging.getLogger(__name__)


class SearchService:
    def __init__(self, app: Flask):
        services = app.extensions["docmgr"]
        self.backend_name = services.settings.search_backend
        self.store = IndexStore(services.data_dir, self.backend_name)
        self.indexer = Indexer(services.db, services.blobs, self.store,
                               ocr_lang=services.settings.ocr_lang)
        self.mode = services.settings.indexer
        self._wake = threading.Event()
        self._idle = threading.Event()
        self._idle.set()
        self._thread: threading.Thread | None = None
        self._stopping = False
        self.started = False

    def changed(self) -> None:
        """Called after a commit that queued documents for (re-)indexing."""
        if self.mode != "thread":
            return
        self._idle.clear()
        self._wake.set()
        if self._thread is None or not self._thread.is_alive():
            self._thread = threading.Thread(target=self._run, name="docmgr-indexer",
                                            daemon=True)
            self._thread.start()

    def _run(self) -> None:
        while not self._stopping:
            if not self._wake.wait(timeout=5):
                continue
            self._wake.clear()
            try:
                self.indexer.drain()
            except Exception:  # the rows stay in the outbox; the next wake retries
                log.exception("in-process indexing failed")
            if not self._wake.is_set():
                self._idle.set()

    def wait_idle(self, timeout: float = 30) -> bool:
        """True once everything queued so far has been drained (tests, CLI)."""
        return self._idle.wait(timeout)

    def stop(self) -> None:
        self._stopping = True
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=30)


def install(app: Flask) -> SearchService:
    service = SearchService(app)
    app.extensions["docmgr_search"] = service
    hooks.install(app.extensions["docmgr"].db.writer, service.changed)

    @app.before_request
    def _catch_up_once():
        # What was queued while no server ran (the demo loader, a crash, a restore) is
        # drained once the server serves its first request.
        if not service.started:
            service.started = True
            service.changed()
    return service


def current() -> SearchService:
    return current_app.extensions["docmgr_search"]
