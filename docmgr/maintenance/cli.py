"""``flask docmgr backup`` and ``flask docmgr restore``."""
import sys
from datetime import datetime
from pathlib import Path

import click
from flask import current_app

from docmgr.cli import command
from docmgr.maintenance.backup import BackupError, create_backup, remove_index, restore_backup


def _mb(size: int) -> str:
    return f"{size / 1024 / 1024:.1f} MB".replace(".", ",")


def _fail(message: str) -> None:
    click.echo(f"Lỗi: {message}", err=True)
    sys.exit(1)


@command("backup")
@click.option("--output", "-o", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Tệp sao lưu (.tar, hoặc .tar.gz để nén); mặc định "
                   "docmgr-backup-<ngày giờ>.tar trong thư mục hiện tại.")
def backup_command(output):
    """Write a consistent backup of the database, the files and the keys into one file."""
    services = current_app.extensions["docmgr"]
    output = output or Path(f"docmgr-backup-{datetime.now():%Y%m%d-%H%M%S}.tar")
    try:
        result = create_backup(services.db, services.blobs, services.data_dir, output,
                               progress=click.echo)
    except BackupError as exc:
        _fail(exc.message)
    except OSError as exc:
        _fail(f"Không ghi được bản sao lưu {output}: {exc.strerror or exc}. Không có tệp sao lưu "
              "dở dang nào được để lại.")
    rows = sum(result.rows.values())
    click.echo(f"Đã sao lưu {rows} dòng của {len(result.rows)} bảng và {result.blobs} tệp "
               f"({_mb(result.blob_bytes)}) vào {result.path} ({_mb(result.size)}) trong "
               f"{result.seconds:.1f} giây.")
    click.echo("Chỉ mục tìm kiếm không nằm trong bản sao lưu: nó được xây lại khi khôi phục.")


@command("restore")
@click.argument("archive", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--no-reindex", is_flag=True,
              help="Không xây lại chỉ mục ngay; worker hoặc ứng dụng sẽ xây khi khởi động.")
def restore_command(archive, no_reindex):
    """Restore a backup into an empty data dir and an empty database."""
    services = current_app.extensions["docmgr"]
    try:
        result = restore_backup(services.db, services.blobs, services.data_dir, archive,
                                progress=click.echo)
    except BackupError as exc:
        _fail(exc.message)
    except OSError as exc:
        _fail(f"Không khôi phục được: {exc.strerror or exc}. Các tệp đã ghi được gỡ lại, cơ sở "
              "dữ liệu không có thay đổi nào.")
    rows = sum(result.rows.values())
    click.echo(f"Đã khôi phục {rows} dòng của {len(result.rows)} bảng và {result.blobs} tệp "
               f"(mã SHA-256 của từng tệp đã được kiểm tra) từ bản sao lưu lúc "
               f"{result.created_at} trong {result.seconds:.1f} giây.")
    if result.upgraded_to != result.revision:
        click.echo(f"Lược đồ đã được nâng cấp từ {result.revision} lên {result.upgraded_to}.")
    click.echo(f"Nhật ký toàn vẹn: {result.audit_events} sự kiện đã kiểm tra.")
    remove_index(services.data_dir)
    if no_reindex:
        click.echo("Chỉ mục tìm kiếm sẽ được xây lại tự động khi worker hoặc ứng dụng chạy lần "
                   "đầu (hoặc chạy `flask docmgr reindex`).")
        return
    click.echo("Chỉ mục tìm kiếm không nằm trong bản sao lưu; đang xây lại…")
    count = current_app.extensions["docmgr_search"].indexer.reindex()
    click.echo(f"Đã xây lại chỉ mục tìm kiếm: {count} văn bản.")


COMMANDS = (backup_command, restore_command)
