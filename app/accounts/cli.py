"""`python -m app.accounts.cli create-admin USERNAME --unit CODE --name "Full name"`.

A production database starts with no account (demo accounts are refused there): this creates
the first administrator and prints a one-time temporary password to change at first sign-in.
"""
import argparse
import sys

from sqlmodel import Session, select

from app.accounts.models import User
from app.accounts.security import hash_password, new_temporary_password
from app.accounts.service import USERNAME_RE
from app.core.db import engine
from app.core.migrate import upgrade_to_head
from app.core.time import today_vn
from app.units.models import Unit
from app.units.time import unit_by_code_on


def admin_unit(session: Session, code: str) -> Unit | None:
    """The unit an administrator is created for: the one carrying `code` today in Việt Nam (a
    code may name several units over the years: 15 was Yên Bái until 30/06/2025 and is Lào Cai
    from 01/07/2025)."""
    return unit_by_code_on(session, code, today_vn())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m app.accounts.cli")
    sub = parser.add_subparsers(dest="command", required=True)
    create = sub.add_parser("create-admin", help="create an administrator for a unit")
    create.add_argument("username")
    create.add_argument("--unit", required=True, help="GSO code of the unit, e.g. 15")
    create.add_argument("--name", required=True, help="full name")
    args = parser.parse_args(argv)

    upgrade_to_head(engine)
    username = args.username.strip().lower()
    if not USERNAME_RE.match(username):
        print("Username: 3-64 lowercase letters, digits, dot, dash, underscore.", file=sys.stderr)
        return 2
    with Session(engine) as session:
        unit = admin_unit(session, args.unit)
        if unit is None:
            known = session.exec(select(Unit.id).where(Unit.code == args.unit)).first() is not None
            print(f"No unit with code {args.unit!r}" + (" in force today." if known else "."), file=sys.stderr)
            return 2
        if session.exec(select(User).where(User.username == username)).first():
            print(f"The username {username!r} is taken.", file=sys.stderr)
            return 1
        temp = new_temporary_password()
        unit_name = unit.name
        session.add(User(username=username, full_name=args.name, unit_id=unit.id, role="admin",
                         password_hash=hash_password(temp)))
        session.commit()
    print(f"Created administrator {username} for {unit_name}. Temporary password: {temp}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
