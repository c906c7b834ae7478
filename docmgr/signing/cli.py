"""``issue-cert`` and ``import-cert``: signing certificates from the command line."""
from pathlib import Path

import click
from sqlalchemy import select

from docmgr.cli import command, run_in_transaction
from docmgr.core import auth as accounts
from docmgr.core.errors import NotFound
from docmgr.signing import operations as signing
from docmgr.signing.context import builtin_ca


def _user(session, username: str) -> accounts.User:
    user = session.scalar(select(accounts.User).where(accounts.User.username == username))
    if user is None:
        raise NotFound(f"Không tìm thấy người dùng {username}.")
    return user


@command("issue-cert")
@click.option("--username", default=None, help="người ký nhận chứng thư cá nhân")
@click.option("--org", "org_code", default=None, help="mã cơ quan nhận chứng thư cơ quan")
@click.option("--pin", required=True, help="mã PIN bảo vệ khóa bí mật")
def issue_cert(username, org_code, pin):
    """Issue a certificate from the built-in test CA, key sealed under the PIN."""
    if bool(username) == bool(org_code):
        raise click.UsageError("Chọn một trong --username hoặc --org.")
    ca = builtin_ca()

    def action(session):
        if username:
            return signing.issue_user_certificate(session, ca, _user(session, username), pin)
        return signing.issue_org_certificate(session, ca, accounts.org_by_code(session, org_code),
                                             pin)
    key = run_in_transaction(action)
    click.echo(f"Đã cấp chứng thư cho {key.subject_cn} (số hiệu {key.serial}), "
               f"hiệu lực đến {key.not_after:%d/%m/%Y}.")


@command("import-cert")
@click.option("--username", required=True)
@click.option("--p12", "p12_path", required=True, type=click.Path(exists=True, dir_okay=False))
@click.option("--p12-password", default="", help="mật khẩu của tệp PKCS#12")
@click.option("--pin", required=True, help="mã PIN mới bảo vệ khóa bí mật")
def import_cert(username, p12_path, p12_password, pin):
    """Import a real certificate and key (PKCS#12) for a user."""
    data = Path(p12_path).read_bytes()
    key = run_in_transaction(lambda session: signing.import_pkcs12(
        session, _user(session, username), data, p12_password, pin))
    click.echo(f"Đã nhập chứng thư {key.subject_cn} do {key.issuer_cn} cấp.")


COMMANDS = (issue_cert, import_cert)
