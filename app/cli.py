"""Command line: `python -m app.cli migrate | seed | import-units FILE | import-unit-years FILE |
rollup check|rebuild | backup FILE | restore FILE`.

Backup and restore use each database's own tool, because copying files is not a backup:
SQLite's online backup API copies a consistent snapshot *including what is still in the WAL*
(copying `mttq.db` alone misses it) while the app keeps serving; PostgreSQL's `pg_dump
--format=custom` (restored with `pg_restore`, in one transaction). A restore goes into an empty
database (refused otherwise, unless --force), then the database is migrated to the latest
revision, so a backup of an older release restores too, and the roll-up is checked.
"""
import argparse
import shutil
import sqlite3
import subprocess
import sys
from datetime import date
from pathlib import Path

from sqlalchemy import inspect, text
from sqlalchemy.engine import Engine, make_url
from sqlmodel import Session


def rollup_check(engine: Engine, *, limit: int = 50, out=None) -> int:
    """Print the differences between the kept roll-up and a rebuild; return how many."""
    from app.rollup.service import check

    out = out or sys.stdout
    bind = engine.execution_options(isolation_level="REPEATABLE READ") \
        if engine.dialect.name == "postgresql" else engine
    with Session(bind) as session:  # one snapshot: saves may go on meanwhile
        diffs = check(session)
        session.rollback()
    for d in diffs[:limit]:
        print(d, file=out)
    if len(diffs) > limit:
        print(f"… and {len(diffs) - limit} more", file=out)
    print(f"{len(diffs)} difference(s) between the kept roll-up and a rebuild from raw values.", file=out)
    return len(diffs)


def rollup_rebuild(engine: Engine) -> None:
    from app.core.db import write_session
    from app.rollup.service import rebuild

    with write_session(engine) as session:
        rebuild(session)
        session.commit()


def _libpq_url(engine: Engine) -> str:
    """The engine's URL for libpq tools (pg_dump, pg_restore): no driver name."""
    return engine.url.set(drivername="postgresql").render_as_string(hide_password=False)


def _sqlite_connection(engine: Engine) -> sqlite3.Connection:
    return sqlite3.connect(make_url(str(engine.url)).database or ":memory:")


def backup(engine: Engine, file: Path) -> None:
    """Write a consistent copy of the database to `file` while the app keeps running."""
    if engine.dialect.name == "sqlite":
        src, dst = _sqlite_connection(engine), sqlite3.connect(file)
        try:
            with dst:
                src.backup(dst)  # pages from the database file and its WAL, as of one moment
        finally:
            dst.close()
            src.close()
        return
    if shutil.which("pg_dump") is None:
        raise RuntimeError("pg_dump is not installed (Debian: apt-get install postgresql-client)")
    subprocess.run(  # noqa: S603 -- fixed arguments; the tool found on PATH above
        ["pg_dump", "--format=custom", "--no-owner", "--file", str(file),  # noqa: S607 -- idem
         "--dbname", _libpq_url(engine)], check=True)


def is_empty(engine: Engine) -> bool:
    """No units (the database is new, or only migrated)."""
    if "unit" not in inspect(engine).get_table_names():
        return True
    with engine.connect() as conn:
        return conn.execute(text("SELECT count(*) FROM unit")).scalar_one() == 0


def restore(engine: Engine, file: Path) -> None:
    """Replace the database's contents with the backup `file` (all or nothing)."""
    if engine.dialect.name == "sqlite":
        engine.dispose()  # no pooled connection keeps an old snapshot open
        src, dst = sqlite3.connect(f"file:{file}?mode=ro", uri=True), _sqlite_connection(engine)
        try:
            src.execute("SELECT count(*) FROM sqlite_master").fetchone()  # not a database: raises
            with dst:
                src.backup(dst)
        finally:
            dst.close()
            src.close()
        return
    if shutil.which("pg_restore") is None:
        raise RuntimeError("pg_restore is not installed (Debian: apt-get install postgresql-client)")
    engine.dispose()
    subprocess.run(  # noqa: S603 -- fixed arguments; the tool found on PATH above
        ["pg_restore", "--clean", "--if-exists", "--no-owner", "--single-transaction",  # noqa: S607 -- idem
         "--exit-on-error", "--dbname", _libpq_url(engine), str(file)], check=True)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m app.cli", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("migrate", help="bring the database to the latest migration")
    seed_p = sub.add_parser("seed", help="migrate, then seed units, the 2023 program and demo data")
    seed_p.add_argument("--no-demo-values", action="store_true", help="skip demo figures")
    seed_p.add_argument("--no-demo-users", action="store_true", help="skip demo accounts")
    imp = sub.add_parser("import-units", help="import units from a CSV or XLSX file")
    imp.add_argument("file", type=Path, help="columns: code,name,kind,parent_code[,households,population]")
    imp.add_argument("--replace-demo", action="store_true",
                     help="remove the demo villages of each commune the file brings villages for")
    imp.add_argument("--effective", type=date.fromisoformat, default=None, metavar="YYYY-MM-DD",
                     help="the day the file's tree takes effect (a new tree version); default: today, "
                          "no renames or moves")
    imp.add_argument("--retire", action="append", default=[], metavar="CODE",
                     help="end this unit and everything under it the day before --effective")
    imp.add_argument("--year", type=int, default=None,
                     help="the year households and population are for (default: the effective year)")
    uy = sub.add_parser("import-unit-years", help="set communes' new-rural status and province-led flag per year")
    uy.add_argument("file", type=Path, help="CSV or XLSX, columns: code,year,new_rural,province_led"
                                             "[,households,population]")
    lc = sub.add_parser("load-laocai-2025", help="load the two-tier Lào Cai tree in force from 01/07/2025")
    lc.add_argument("--no-villages", action="store_true", help="skip the generated demo villages")
    roll = sub.add_parser("rollup", help="check the kept roll-up against raw values, or rebuild it")
    roll.add_argument("action", choices=("check", "rebuild"),
                      help="check: list differences (exit status 1 if any); rebuild: recompute")
    bak = sub.add_parser("backup", help="write a consistent backup of the database to FILE")
    bak.add_argument("file", type=Path)
    res = sub.add_parser("restore", help="restore a backup FILE into an empty database")
    res.add_argument("file", type=Path)
    res.add_argument("--force", action="store_true", help="replace a database that holds data")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    from app.core.config import ROOT, settings
    from app.core.db import engine
    from app.core.migrate import upgrade_to_head

    if settings.is_sqlite:
        (ROOT / "data").mkdir(exist_ok=True)
    if args.command == "backup":
        backup(engine, args.file)
        print(f"Backup written to {args.file}.")
        return 0
    if args.command == "restore":
        return _restore(engine, args)
    upgrade_to_head(engine)
    if args.command == "migrate":
        print("Database is at the latest migration.")
        return 0
    if args.command == "rollup":
        if args.action == "check":
            return 1 if rollup_check(engine) else 0
        rollup_rebuild(engine)
        print("Roll-up rebuilt from raw values.")
        return 0
    if args.command == "seed":
        return _seed(engine, args)
    if args.command == "load-laocai-2025":
        return _load_laocai(engine, args)
    if args.command == "import-unit-years":
        return _import_unit_years(engine, args)
    return _import_units(engine, args)


def _restore(engine: Engine, args: argparse.Namespace) -> int:
    from app.core.migrate import upgrade_to_head

    if not args.file.is_file():
        print(f"No such file: {args.file}", file=sys.stderr)
        return 2
    if not args.force and not is_empty(engine):
        print("The database already holds data; restore into an empty database, or add --force "
              "to replace it.", file=sys.stderr)
        return 1
    restore(engine, args.file)
    upgrade_to_head(engine)
    print(f"Restored from {args.file}.")
    return 1 if rollup_check(engine) else 0


def _seed(engine: Engine, args: argparse.Namespace) -> int:
    from app.core.config import settings
    from app.seed.run import seed

    with Session(engine) as session:
        seed(session, demo_users=not args.no_demo_users and settings.SEED_DEMO_USERS,
             demo_values=not args.no_demo_values and settings.SEED_DEMO_VALUES,
             demo_2026=settings.SEED_DEMO_2026)
    print("Seeded.")
    return 0


def _refused(what: str, errors: list[str]) -> int:
    print(f"Nothing {what}: {len(errors)} error(s).", file=sys.stderr)
    for e in errors:
        print("  " + e, file=sys.stderr)
    return 1


def _load_laocai(engine: Engine, args: argparse.Namespace) -> int:
    from app.units.laocai_2025 import load_laocai_2025

    with Session(engine) as session:
        report = load_laocai_2025(session, villages=not args.no_villages)
        if not report.ok:
            session.rollback()
            return _refused("loaded", report.errors)
        session.commit()
    print(f"Loaded the 2025 Lào Cai tree: {report.created} units created, {report.updated} updated.")
    return 0


def _import_unit_years(engine: Engine, args: argparse.Namespace) -> int:
    from app.core.db import write_session
    from app.units import attributes
    from app.units.importer import UnreadableFile

    if not args.file.is_file():
        print(f"No such file: {args.file}", file=sys.stderr)
        return 2
    with write_session(engine) as session:
        try:
            checked = attributes.plan(session, attributes.read_file(args.file))
        except UnreadableFile as e:
            return _refused("imported", [str(e)])
        if not checked.ok:
            session.rollback()
            return _refused("imported", checked.errors)
        changed = attributes.apply(session, None, "import", checked)
        session.commit()
    print(f"Imported: {len(checked.changes)} row(s), {changed} changed; the roll-up follows.")
    return 0


def _import_units(engine: Engine, args: argparse.Namespace) -> int:
    from app.units.importer import import_units

    if not args.file.is_file():
        print(f"No such file: {args.file}", file=sys.stderr)
        return 2
    with Session(engine) as session:
        report = import_units(session, args.file, replace_demo=args.replace_demo, effective=args.effective,
                              year=args.year, retire=args.retire)
        if not report.ok:
            session.rollback()
            return _refused("imported", report.errors)
        session.commit()
    print(f"Imported: {report.created} created, {report.updated} updated, "
          f"{report.removed_demo} demo units removed.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
