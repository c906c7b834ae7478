"""``flask docmgr reindex`` and ``flask docmgr worker``."""
import signal
import threading
import time

import click
from flask import current_app
from sqlalchemy.exc import InterfaceError, OperationalError

from docmgr.cli import command
from docmgr.core import outbox
from docmgr.search.engines import BACKENDS
from docmgr.search.indexer import Indexer
from docmgr.search.service import current as search_service
from docmgr.search.store import IndexStore


@command("reindex")
@click.option("--backend", type=click.Choice(list(BACKENDS)), default=None,
              help="Xây chỉ mục cho bộ máy này (mặc định: SEARCH_BACKEND). Đặt SEARCH_BACKEND "
                   "theo nó sau đó để chuyển hẳn sang.")
def reindex_command(backend):
    """Rebuild the search index from the database and the blob store."""
    services = current_app.extensions["docmgr"]
    name = backend or services.settings.search_backend
    indexer = Indexer(services.db, services.blobs, IndexStore(services.data_dir, name),
                      ocr_lang=services.settings.ocr_lang)
    started = time.perf_counter()
    with click.progressbar(length=1, label=f"Xây lại chỉ mục ({name})",
                           show_pos=True) as bar:
        def progress(done, total):
            bar.length = total
            bar.update(done - bar.pos)
        count = indexer.reindex(progress)
    elapsed = time.perf_counter() - started
    click.echo(f"Đã lập chỉ mục {count:,} văn bản trong {elapsed:.1f} giây "
               f"({count / elapsed if elapsed else 0:,.0f} văn bản/giây).".replace(",", "."))


@command("worker")
@click.option("--once", is_flag=True, help="Xử lý hết hàng đợi rồi thoát.")
@click.option("--poll", default=1.0, show_default=True, help="Giây chờ giữa hai lần kiểm tra.")
def worker_command(once, poll):
    """Drain the outbox (indexing, OCR) until stopped."""
    service = search_service()
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    click.echo(f"docmgr worker: chỉ mục {service.backend_name} tại {service.store.path}")
    delay = 1.0
    while not stop.is_set():
        try:
            stats = service.indexer.drain()
        except (OperationalError, InterfaceError) as exc:
            # The database is down or restarting: wait and try again, never exit.
            click.echo(f"Không kết nối được cơ sở dữ liệu ({exc.orig}); thử lại sau "
                       f"{delay:.0f} giây.", err=True)
            stop.wait(delay)
            delay = min(delay * 2, 30.0)
            continue
        delay = 1.0
        if stats.work_done or stats.rebuilt:
            click.echo(f"đã lập chỉ mục {stats.indexed}, gỡ {stats.removed}, "
                       f"OCR {stats.ocr_files} tệp, lỗi {stats.failed}"
                       + (" (chỉ mục đã được xây lại)" if stats.rebuilt else ""))
        if once:
            with services_db().transaction(readonly=True) as session:
                left = outbox.backlog(session)
            if left:
                click.echo(f"còn lại trong hàng đợi: {left}")
            return
        if not stats.work_done:
            stop.wait(poll)


def services_db():
    return current_app.extensions["docmgr"].db


COMMANDS = (reindex_command, worker_command)
