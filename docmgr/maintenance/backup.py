"""One-file backups of an archive (database rows, blobs, keys) and their restore.

The archive is a tar file (gzip-compressed when its name ends in ``.gz``/``.tgz``)::

    manifest.json            format, version, created_at, alembic revision, database kind,
                             per table: row count, column kinds, SHA-256 of its rows file;
                             SHA-256 of every other member
    tables/<name>.jsonl      one JSON object per row, tables in foreign-key order
    keys/secret_key          DATA_DIR/secret_key (sessions survive the move)
    keys/pki/...             DATA_DIR/pki, the built-in CA (user keys live in the database,
                             encrypted under their PIN)
    blobs/<sha256>           every blob a row points at (stored_files, seals, signatures)

Rows are portable JSON, not a database dump, so a backup of SQLite restores into PostgreSQL
and back. The snapshot is consistent: SQLite is first copied with the sqlite3 online backup
API and read from the copy; PostgreSQL is read in one SERIALIZABLE READ ONLY DEFERRABLE
transaction (a snapshot that waits for no lock and never aborts). Blobs are immutable and
named by their content, and a row is committed only after its blob exists, so copying the
blobs named by the snapshot's rows afterwards gives exactly the files of that moment.

The search index is not included: it is derived from the rows and rebuilt after a restore.
"""
import base64
import hashlib
import io
import json
import os
import shutil
import sqlite3
import tarfile
import tempfile
import time
import zlib
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal
from functools import partial
from pathlib import Path

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    DateTime,
    Float,
    Integer,
    LargeBinary,
    MetaData,
    Numeric,
    create_engine,
    func,
    null,
    select,
    text,
)
from sqlalchemy.orm import Session

FORMAT = "docmgr-backup"
VERSION = 1
MANIFEST = "manifest.json"
BLOB_COLUMN = "sha256"  # every column of this name names a blob in the store
SKIPPED_TABLES = {"alembic_version"}  # its content is the manifest's revision
BATCH = 500


class BackupError(Exception):
    """A backup or restore that cannot go on; ``message`` is for the operator (Vietnamese)."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


@dataclass
class BackupResult:
    path: Path
    size: int
    rows: dict[str, int]
    blobs: int
    blob_bytes: int
    seconds: float


@dataclass
class RestoreResult:
    rows: dict[str, int]
    blobs: int
    revision: str
    upgraded_to: str
    audit_events: int
    seconds: float
    created_at: str = ""
    source_database: str = ""
    written: list[Path] = field(default_factory=list)


# --- values <-> JSON --------------------------------------------------------------------------

def column_kind(column_type) -> str:
    """How a column's values travel through JSON (checked most specific first)."""
    for kind, types in (("json", JSON), ("bool", Boolean), ("datetime", DateTime),
                        ("date", Date), ("bytes", LargeBinary), ("float", Float),
                        ("decimal", Numeric), ("int", Integer)):
        if isinstance(column_type, types):
            return kind
    return "text"


def _encode(kind: str, value):
    if value is None:
        return None
    if kind == "datetime":
        # SQLite hands back naive values; our UTCDateTime always stored them in UTC.
        if value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return value.astimezone(UTC).isoformat()
    if kind == "date":
        return value.isoformat()
    if kind == "bytes":
        return base64.b64encode(bytes(value)).decode("ascii")
    if kind == "decimal":
        return str(value)
    return value


def _decode(kind: str, value):
    if value is None:
        # A NULL in a JSON column must stay SQL NULL, not become the JSON text 'null'.
        return null() if kind == "json" else None
    if kind == "datetime":
        return datetime.fromisoformat(value)
    if kind == "date":
        return date.fromisoformat(value)
    if kind == "bytes":
        return base64.b64decode(value)
    if kind == "decimal":
        return Decimal(value)
    return value


def _sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


# --- backup -----------------------------------------------------------------------------------

def create_backup(db, blobs, data_dir: Path, output: Path, *, progress=None) -> BackupResult:
    """Write a consistent backup of ``db``, the blobs its rows name and the keys to
    ``output`` (refused if it exists). The file appears only once complete."""
    started = time.perf_counter()
    output = Path(output).resolve()
    if output.exists():
        raise BackupError(f"Tệp {output} đã tồn tại; hãy chọn tên khác (không ghi đè bản sao "
                          "lưu cũ).")
    output.parent.mkdir(parents=True, exist_ok=True)
    say = progress or (lambda message: None)
    with tempfile.TemporaryDirectory(prefix=".docmgr-backup-", dir=output.parent) as staging:
        staging = Path(staging)
        say("Đang chụp cơ sở dữ liệu…")
        snapshot = _snapshot(db, staging)
        keys = _key_files(Path(data_dir))
        missing = sorted(sha for sha in snapshot["blobs"] if not blobs.exists(sha))
        if missing:
            raise BackupError(
                f"Kho tệp thiếu {len(missing)} tệp mà cơ sở dữ liệu trỏ tới (ví dụ {missing[0]}); "
                "bản sao lưu không được tạo. Hãy kiểm tra thư mục blobs trước.")
        manifest = {
            "format": FORMAT, "version": VERSION,
            "created_at": datetime.now(UTC).isoformat(),
            "alembic_revision": snapshot["revision"], "database": snapshot["database"],
            "table_order": [name for name, _ in snapshot["tables"]],
            "tables": dict(snapshot["tables"]),
            "keys": {name: hashlib.sha256(data).hexdigest() for name, data in keys.items()},
            "blobs": sorted(snapshot["blobs"]),
        }
        say(f"Đang ghi {len(manifest['blobs'])} tệp vào bản sao lưu…")
        partial = output.with_name(f".{output.name}.part")
        try:
            blob_bytes = _write_archive(partial, manifest, staging, keys, blobs)
            _fsync_path(partial)
            os.replace(partial, output)
            _fsync_path(output.parent)
        except BaseException:
            partial.unlink(missing_ok=True)
            raise
    return BackupResult(path=output, size=output.stat().st_size,
                        rows={n: t["rows"] for n, t in manifest["tables"].items()},
                        blobs=len(manifest["blobs"]), blob_bytes=blob_bytes,
                        seconds=time.perf_counter() - started)


def _snapshot(db, staging: Path) -> dict:
    (staging / "tables").mkdir()
    if db.is_sqlite:
        source_path = db.engine.url.database
        if not source_path or source_path == ":memory:":
            raise BackupError("Không sao lưu được cơ sở dữ liệu SQLite trong bộ nhớ.")
        copy = staging / "snapshot.sqlite3"
        source = sqlite3.connect(source_path, timeout=30)
        target = sqlite3.connect(copy)
        try:
            source.backup(target)  # one step: a consistent image even while clerks write
        finally:
            target.close()
            source.close()
        engine = create_engine(f"sqlite:///{copy}")
        try:
            with engine.connect() as conn:
                found = _dump(conn, staging)
        finally:
            engine.dispose()
        found["database"] = "sqlite"
        return found
    options = {"isolation_level": "SERIALIZABLE", "postgresql_readonly": True,
               "postgresql_deferrable": True} if db.engine.dialect.name == "postgresql" else {
               "isolation_level": "REPEATABLE READ"}
    with db.engine.connect().execution_options(**options) as conn:
        with conn.begin():
            found = _dump(conn, staging)
    found["database"] = db.engine.dialect.name
    return found


def _dump(conn, staging: Path) -> dict:
    meta = MetaData()
    meta.reflect(conn)
    if "alembic_version" not in meta.tables:
        raise BackupError("Cơ sở dữ liệu chưa được khởi tạo (chạy `flask docmgr init`); "
                          "không có gì để sao lưu.")
    revision = conn.execute(text("SELECT version_num FROM alembic_version")).scalar()
    tables, referenced = [], set()
    for table in meta.sorted_tables:
        if table.name in SKIPPED_TABLES:
            continue
        kinds = [(column.name, column_kind(column.type)) for column in table.columns]
        order = list(table.primary_key.columns) or list(table.columns)
        path = staging / "tables" / f"{table.name}.jsonl"
        count = 0
        result = conn.execution_options(stream_results=True, yield_per=1000).execute(
            select(table).order_by(*order))
        with open(path, "w", encoding="utf-8") as handle:
            for row in result.mappings():
                record = {name: _encode(kind, row[name]) for name, kind in kinds}
                blob = record.get(BLOB_COLUMN)
                if blob:
                    referenced.add(blob)
                handle.write(json.dumps(record, ensure_ascii=False, separators=(",", ":")))
                handle.write("\n")
                count += 1
        tables.append((table.name, {"rows": count, "columns": kinds,
                                    "sha256": _sha256_file(path)}))
    return {"revision": revision, "tables": tables, "blobs": referenced}


def _key_files(data_dir: Path) -> dict[str, bytes]:
    found = {}
    secret = data_dir / "secret_key"
    if secret.is_file():
        found["keys/secret_key"] = secret.read_bytes()
    pki = data_dir / "pki"
    if pki.is_dir():
        for path in sorted(pki.rglob("*")):
            if path.is_file():
                found[f"keys/pki/{path.relative_to(pki).as_posix()}"] = path.read_bytes()
    return found


def _add(tar: tarfile.TarFile, name: str, data: bytes, mode: int = 0o644) -> None:
    info = tarfile.TarInfo(name)
    info.size, info.mode, info.mtime = len(data), mode, int(time.time())
    tar.addfile(info, io.BytesIO(data))


def _write_archive(path: Path, manifest: dict, staging: Path, keys: dict, blobs) -> int:
    mode = "w:gz" if path.name.removesuffix(".part").endswith((".gz", ".tgz")) else "w"
    blob_bytes = 0
    with tarfile.open(path, mode, format=tarfile.PAX_FORMAT) as tar:
        # The manifest first: restore checks everything else against it while streaming.
        _add(tar, MANIFEST, json.dumps(manifest, ensure_ascii=False, indent=1).encode())
        for name in manifest["table_order"]:
            tar.add(staging / "tables" / f"{name}.jsonl", f"tables/{name}.jsonl",
                    recursive=False)
        for name, data in keys.items():
            _add(tar, name, data, 0o600)
        for sha in manifest["blobs"]:
            data = blobs.get(sha)
            if hashlib.sha256(data).hexdigest() != sha:
                raise BackupError(f"Tệp {sha} trong kho đã bị hỏng (nội dung không khớp mã "
                                  "SHA-256); bản sao lưu không được tạo.")
            _add(tar, f"blobs/{sha}", data, 0o444)
            blob_bytes += len(data)
    return blob_bytes


def _fsync_path(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


# --- reading and checking an archive ----------------------------------------------------------

def _expected_members(manifest: dict) -> dict[str, str]:
    expected = {f"tables/{name}.jsonl": table["sha256"]
                for name, table in manifest["tables"].items()}
    expected.update(manifest.get("keys", {}))
    expected.update({f"blobs/{sha}": sha for sha in manifest["blobs"]})
    return expected


def _open_archive(path: Path):
    try:
        return tarfile.open(path, "r:*")
    except (tarfile.TarError, OSError, EOFError, zlib.error) as exc:
        raise BackupError(f"Không đọc được {path}: không phải bản sao lưu docmgr hoặc tệp đã "
                          f"hỏng ({exc}).") from None


def _read_manifest(tar: tarfile.TarFile, path: Path) -> dict:
    first = tar.next()
    if first is None or first.name != MANIFEST or not first.isfile():
        raise BackupError(f"{path} không phải bản sao lưu docmgr (thiếu {MANIFEST}).")
    try:
        manifest = json.loads(tar.extractfile(first).read())
    except ValueError:
        raise BackupError(f"{MANIFEST} trong {path} bị hỏng.") from None
    if manifest.get("format") != FORMAT:
        raise BackupError(f"{path} không phải bản sao lưu docmgr.")
    if manifest.get("version") != VERSION:
        raise BackupError(f"Bản sao lưu có định dạng phiên bản {manifest.get('version')}, "
                          f"phiên bản docmgr này chỉ đọc được định dạng {VERSION}.")
    return manifest


def _members(tar: tarfile.TarFile, manifest: dict):
    """Yield (name, member) for each member after the manifest, refusing unknown ones."""
    expected = _expected_members(manifest)
    for member in tar:  # iterating a TarFile yields the members already read again
        if member.name == MANIFEST:
            continue
        if not member.isfile() or member.name not in expected:
            raise BackupError(f"Bản sao lưu chứa mục lạ {member.name!r}; không khôi phục.")
        yield member.name, member


def verify_archive(path: Path) -> dict:
    """Read the whole archive and check every member against the manifest; return the
    manifest. Raises BackupError naming the first damaged or missing part. Writes nothing."""
    path = Path(path)
    try:
        with _open_archive(path) as tar:
            manifest = _read_manifest(tar, path)
            expected, seen = _expected_members(manifest), set()
            for name, member in _members(tar, manifest):
                digest = hashlib.sha256()
                handle = tar.extractfile(member)
                for chunk in iter(partial(handle.read, 1 << 20), b""):
                    digest.update(chunk)
                if digest.hexdigest() != expected[name]:
                    raise BackupError(f"Bản sao lưu bị hỏng: {name} không khớp mã SHA-256 ghi "
                                      "trong manifest. Không có gì được ghi.")
                seen.add(name)
    except (tarfile.TarError, EOFError, zlib.error) as exc:
        raise BackupError(f"Bản sao lưu {path} bị hỏng hoặc bị cắt cụt ({exc}). Không có gì "
                          "được ghi.") from None
    missing = sorted(set(expected) - seen)
    if missing:
        raise BackupError(f"Bản sao lưu {path} không đầy đủ: thiếu {len(missing)} mục (ví dụ "
                          f"{missing[0]}); tệp có thể bị cắt cụt. Không có gì được ghi.")
    return manifest


# --- restore ----------------------------------------------------------------------------------

DERIVED_DIRS = {"index", "cache"}  # rebuilt from rows and blobs; their content does not count


def _sqlite_files(db) -> set[Path]:
    if not db.is_sqlite or not db.engine.url.database:
        return set()
    base = Path(db.engine.url.database).resolve()
    return {base, Path(f"{base}-wal"), Path(f"{base}-shm"), Path(f"{base}-journal")}


def _has_files(directory: Path) -> bool:
    return any(path.is_file() for path in directory.rglob("*"))


def check_target_empty(db, data_dir: Path) -> None:
    """Refuse unless the data dir holds nothing that a restore could overwrite and the
    database has no rows (a schema created by `init` is fine)."""
    data_dir = Path(data_dir)
    sqlite_files = _sqlite_files(db)
    occupied = []
    for entry in sorted(data_dir.iterdir()) if data_dir.exists() else []:
        if entry.name == "secret_key" or entry.name in DERIVED_DIRS:
            continue  # written by any start of the app; replaced by the backup's
        if entry.resolve() in sqlite_files:
            continue  # judged by its rows below
        if entry.is_dir() and not _has_files(entry):
            continue
        occupied.append(entry.name)
    if occupied:
        raise BackupError(f"Thư mục dữ liệu {data_dir} không trống (có {', '.join(occupied)}); "
                          "chỉ khôi phục vào thư mục dữ liệu và cơ sở dữ liệu trống để không "
                          "ghi đè dữ liệu đang có.")
    meta = MetaData()
    with db.engine.connect() as conn:
        meta.reflect(conn)
        for table in meta.sorted_tables:
            if table.name in SKIPPED_TABLES:
                continue
            if conn.execute(select(func.count()).select_from(table)).scalar():
                raise BackupError(f"Cơ sở dữ liệu {db.engine.url.render_as_string()} đã có dữ "
                                  f"liệu (bảng {table.name}); chỉ khôi phục vào cơ sở dữ liệu "
                                  "trống.")


def restore_backup(db, blobs, data_dir: Path, path: Path, *, progress=None) -> RestoreResult:
    """Check the archive, check the target is empty, then write keys, blobs and rows; the
    rows go in one transaction that also migrates the schema and verifies the audit chain,
    so a failure leaves an empty database, and the files written are removed again."""
    from docmgr.migrations import alembic_config, migration_transaction

    started = time.perf_counter()
    say = progress or (lambda message: None)
    path, data_dir = Path(path), Path(data_dir)
    say(f"Đang kiểm tra bản sao lưu {path}…")
    manifest = verify_archive(path)
    revision = manifest["alembic_revision"]
    script = _script_directory(alembic_config(db.url))
    if not _known_revision(script, revision):
        raise BackupError(f"Bản sao lưu ở phiên bản cơ sở dữ liệu {revision}, mới hơn mã "
                          "docmgr đang chạy; hãy cập nhật docmgr rồi khôi phục lại.")
    check_target_empty(db, data_dir)
    head = script.get_current_head()

    written: list[Path] = []
    rows: dict[str, int] = {}
    try:
        with db.engine.connect() as conn:
            with migration_transaction(conn):
                _migrate(conn, db.url, revision)
                target = MetaData()
                target.reflect(conn)
                say("Đang ghi dữ liệu và tệp…")
                referenced = set()
                with _open_archive(path) as tar:
                    _read_manifest(tar, path)
                    for name, member in _members(tar, manifest):
                        handle = tar.extractfile(member)
                        if name.startswith("tables/"):
                            table = name.removeprefix("tables/").removesuffix(".jsonl")
                            rows[table] = _insert_rows(conn, target, table,
                                                       manifest["tables"][table], handle,
                                                       referenced)
                        elif name.startswith("keys/"):
                            written.extend(_write_key(data_dir, name, handle.read()))
                        else:
                            written.extend(_write_blob(blobs, name, handle.read()))
                _check_blobs(blobs, referenced, manifest)
                if conn.dialect.name == "postgresql":
                    _reset_sequences(conn, target)
                if revision != head:
                    say(f"Đang nâng cấp lược đồ từ {revision} lên {head}…")
                    _migrate(conn, db.url, head)
                audit_events = _verify_audit(conn)
    except BaseException:
        for written_path in reversed(written):
            written_path.unlink(missing_ok=True)
        raise
    return RestoreResult(rows=rows, blobs=len(manifest["blobs"]), revision=revision,
                         upgraded_to=head, audit_events=audit_events,
                         seconds=time.perf_counter() - started,
                         created_at=manifest.get("created_at", ""),
                         source_database=manifest.get("database", ""), written=written)


def _script_directory(cfg):
    from alembic.script import ScriptDirectory
    return ScriptDirectory.from_config(cfg)


def _known_revision(script, revision: str) -> bool:
    try:
        return script.get_revision(revision) is not None
    except Exception:  # noqa: BLE001 — alembic raises several kinds for an unknown id
        return False


def _migrate(conn, url: str, revision: str) -> None:
    """Bring the schema in ``conn``'s open transaction to ``revision``, up or down (an
    emptied database that `init` already brought to a newer head goes down)."""
    from alembic import command
    from alembic.migration import MigrationContext

    from docmgr.migrations import alembic_config

    current = MigrationContext.configure(conn).get_current_revision()
    if current == revision:
        return
    cfg = alembic_config(url)
    cfg.attributes["connection"] = conn
    script = _script_directory(cfg)
    if current is not None and revision in {
            r.revision for r in script.iterate_revisions(current, "base")}:
        command.downgrade(cfg, revision)
    else:
        command.upgrade(cfg, revision)


def _insert_rows(conn, target: MetaData, name: str, spec: dict, handle, referenced) -> int:
    table = target.tables.get(name)
    if table is None:
        raise BackupError(f"Bảng {name} của bản sao lưu không có trong lược đồ đích.")
    kinds = [tuple(pair) for pair in spec["columns"]]
    unknown = [column for column, _ in kinds if column not in table.c]
    if unknown:
        raise BackupError(f"Bảng {name}: cột {', '.join(unknown)} không có trong lược đồ đích.")
    count, batch = 0, []
    for line in io.TextIOWrapper(handle, encoding="utf-8"):
        record = json.loads(line)
        if record.get(BLOB_COLUMN):
            referenced.add(record[BLOB_COLUMN])
        batch.append({column: _decode(kind, record.get(column)) for column, kind in kinds})
        count += 1
        if len(batch) >= BATCH:
            conn.execute(table.insert(), batch)
            batch = []
    if batch:
        conn.execute(table.insert(), batch)
    if count != spec["rows"]:
        raise BackupError(f"Bảng {name}: có {count} dòng, manifest ghi {spec['rows']}.")
    return count


def _write_key(data_dir: Path, name: str, data: bytes) -> list[Path]:
    """Write one key file; return it if it is new (the secret_key any start of the app
    generates is replaced, and not removed again if the restore fails)."""
    relative = name.removeprefix("keys/")
    target = (data_dir / relative).resolve()
    if data_dir.resolve() not in target.parents:
        raise BackupError(f"Đường dẫn khóa không hợp lệ trong bản sao lưu: {name}")
    existed = target.exists()
    target.parent.mkdir(parents=True, exist_ok=True)
    # Private keys and the session secret stay readable by the service account only.
    fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as out:
        out.write(data)
        out.flush()
        os.fsync(out.fileno())
    os.chmod(target, 0o600)
    return [] if existed else [target]


def _write_blob(blobs, name: str, data: bytes) -> list[Path]:
    sha = name.removeprefix("blobs/")
    existed = blobs.exists(sha)
    if blobs.put(data) != sha:  # put hashes what it stores: a second check of the content
        raise BackupError(f"Tệp {sha} trong bản sao lưu bị hỏng.")
    return [] if existed else [blobs.path(sha)]


def _check_blobs(blobs, referenced: set, manifest: dict) -> None:
    """Every blob a restored row names is in the store, and reads back with its hash."""
    missing = sorted(referenced - set(manifest["blobs"]))
    if missing:
        raise BackupError(f"Bản sao lưu thiếu tệp {missing[0]} mà dữ liệu trỏ tới.")
    for sha in manifest["blobs"]:
        if not blobs.exists(sha) or _sha256_file(blobs.path(sha)) != sha:
            raise BackupError(f"Tệp {sha} không đọc lại được đúng sau khi ghi; kiểm tra ổ đĩa.")


def _reset_sequences(conn, target: MetaData) -> None:
    """Explicit ids do not advance PostgreSQL sequences: move each past its table's max."""
    quote = conn.dialect.identifier_preparer.quote
    for table in target.sorted_tables:
        for column in table.primary_key.columns:
            sequence = conn.execute(text("SELECT pg_get_serial_sequence(:t, :c)"),
                                    {"t": quote(table.name), "c": column.name}).scalar()
            if sequence:
                conn.execute(text(
                    f"SELECT setval(:s, COALESCE((SELECT MAX({quote(column.name)}) FROM "
                    f"{quote(table.name)}), 0) + 1, false)"), {"s": sequence})


def _verify_audit(conn) -> int:
    from docmgr.core import audit

    with Session(bind=conn) as session:
        breach = audit.verify(session)
        count = session.query(audit.AuditEvent).count()
    if breach:
        raise BackupError(f"Nhật ký kiểm toán của bản sao lưu không toàn vẹn: chuỗi "
                          f"{breach.chain}, dòng {breach.seq}: {breach.reason}. Không khôi phục.")
    return count


def remove_index(data_dir: Path) -> None:
    """The index is derived; whatever is there does not describe the restored rows."""
    shutil.rmtree(Path(data_dir) / "index", ignore_errors=True)
