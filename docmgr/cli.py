"""``flask --app wsgi docmgr …``: set-up and maintenance commands.

Commands are plain click commands, gathered into one ``docmgr`` group per application by
``group``, to which the factory hands the slices' ``COMMANDS`` by name: no module is
imported merely for the side effect of registering its commands.
"""
import sys

import click
from flask import current_app
from flask.cli import AppGroup, with_appcontext
from sqlalchemy import select

from docmgr.core import audit
from docmgr.core import auth as accounts
from docmgr.core.errors import DomainError, NotFound


def command(name: str, **options):
    """Declare a ``flask docmgr`` subcommand; it runs inside the application's context."""
    def declare(function):
        return click.command(name, **options)(with_appcontext(function))
    return declare


def group(*slice_commands: click.Command) -> AppGroup:
    """The ``docmgr`` command group of one application: these commands and the slices'."""
    docmgr = AppGroup("docmgr", help="Quản trị docmgr.")
    for each in (*COMMANDS, *slice_commands):
        docmgr.add_command(each)
    return docmgr


def _db():
    return current_app.extensions["docmgr"].db


def run_in_transaction(action):
    """Run ``action(session)`` in one transaction; report a domain error as a clean exit 1."""
    try:
        with _db().transaction() as session:
            return action(session)
    except DomainError as exc:
        click.echo(f"Lỗi: {exc.message}", err=True)
        sys.exit(1)


@command("init")
def init_command():
    """Create or upgrade the database schema (idempotent)."""
    from docmgr.migrations import upgrade
    upgrade(_db().engine)
    click.echo("Cơ sở dữ liệu đã sẵn sàng.")
    if current_app.extensions["docmgr_search"].indexer.ensure_index():
        click.echo("Đã tạo chỉ mục tìm kiếm.")


@command("create-org")
@click.option("--code", required=True, help="Mã định danh, ví dụ 000.00.00.H48")
@click.option("--name", required=True)
@click.option("--abbr", required=True, help="Chữ viết tắt, ví dụ UBND, VP")
@click.option("--place", default="", help="Địa danh ghi trên văn bản, ví dụ Quảng Ngãi")
def create_org(code, name, abbr, place):
    def action(session):
        org = accounts.create_org(session, code=code, name=name, abbr=abbr, place=place)
        audit.record(session, "org.created", org_id=org.id, obj=org, code=code)
        return org
    org = run_in_transaction(action)
    click.echo(f"Đã tạo cơ quan {org.name} ({org.code}).")


@command("create-unit")
@click.option("--org", "org_code", required=True)
@click.option("--name", required=True)
@click.option("--abbr", required=True)
def create_unit(org_code, name, abbr):
    def action(session):
        org = accounts.org_by_code(session, org_code)
        unit = accounts.create_unit(session, org=org, name=name, abbr=abbr)
        audit.record(session, "unit.created", org_id=org.id, obj=unit, abbr=abbr)
        return unit
    unit = run_in_transaction(action)
    click.echo(f"Đã tạo phòng/ban {unit.name} ({unit.abbr}).")


@command("create-user")
@click.option("--username", required=True)
@click.option("--password", required=True)
@click.option("--full-name", required=True)
@click.option("--role", required=True, type=click.Choice([r.value for r in accounts.Role]))
@click.option("--org", "org_code", required=True)
@click.option("--unit", "unit_abbr", default=None)
@click.option("--leader-position", default=None,
              type=click.Choice([p.value for p in accounts.LeaderPosition]),
              help="Lãnh đạo: head (người đứng đầu) hoặc deputy (cấp phó). Mặc định: lãnh đạo "
                   "đầu tiên của cơ quan là người đứng đầu, người sau là cấp phó.")
@click.option("--deputy", is_flag=True, default=False,
              help="Phó trưởng phòng of the unit (specialist or head)")
def create_user(username, password, full_name, role, org_code, unit_abbr, leader_position,
                deputy):
    def action(session):
        org = accounts.org_by_code(session, org_code)
        unit = accounts.unit_by_abbr(session, org, unit_abbr) if unit_abbr else None
        user = accounts.create_user(
            session, org=org, username=username, password=password, full_name=full_name,
            role=role, unit=unit, leader_position=leader_position, deputy=deputy,
            min_password_length=current_app.extensions["docmgr"].settings.password_min_length)
        audit.record(session, "user.created", org_id=org.id, obj=user, username=username,
                     role=role, deputy=deputy)
        return user
    user = run_in_transaction(action)
    click.echo(f"Đã tạo người dùng {user.username} ({user.full_name}).")


@command("set-leader-position")
@click.option("--username", required=True)
@click.option("--position", required=True,
              type=click.Choice([p.value for p in accounts.LeaderPosition]))
def set_leader_position(username, position):
    """Make a leader the head of the organisation or a deputy (signing authority)."""
    def action(session):
        user = session.scalar(select(accounts.User).where(accounts.User.username == username))
        if user is None:
            raise NotFound(f"Không tìm thấy người dùng {username}.")
        previous = user.leader_position
        accounts.set_leader_position(session, user, position)
        audit.record(session, "user.leader_position", org_id=user.org_id, obj=user,
                     previous=previous, position=position)
        return user
    user = run_in_transaction(action)
    click.echo(f"{user.full_name}: {user.leader_position.label.lower()}.")


@command("audit-verify")
def audit_verify():
    """Check the audit log's hash chains; exit 1 and name the first bad row."""
    with _db().transaction(readonly=True) as session:
        breach = audit.verify(session)
        count = session.query(audit.AuditEvent).count()
    if breach:
        click.echo(f"NHẬT KÝ BỊ SỬA ĐỔI: chuỗi {breach.chain}, dòng số {breach.seq} "
                   f"(id {breach.event_id}): {breach.reason}", err=True)
        sys.exit(1)
    click.echo(f"Nhật ký toàn vẹn: {count} sự kiện đã kiểm tra.")


@command("demo")
def demo_command():
    """Load a demo provincial office with one user per role and a few documents."""
    from docmgr.demo import PASSWORD, load_demo
    from docmgr.migrations import upgrade
    upgrade(_db().engine)
    services = current_app.extensions["docmgr"]
    created = load_demo(services.db, services.blobs, services.data_dir)
    if created:
        click.echo(f"Đã tạo dữ liệu mẫu. Đăng nhập với các tài khoản (mật khẩu: {PASSWORD}; "
                   "mã PIN ký số của lãnh đạo, trưởng phòng và con dấu cơ quan: 123456):")
        for username, label in created:
            click.echo(f"  {username:<12} {label}")
    else:
        click.echo("Dữ liệu mẫu đã có sẵn.")


COMMANDS = (init_command, create_org, create_unit, create_user, set_leader_position,
            audit_verify, demo_command)
