"""Command line: `python -m app.cli migrate | seed | import-units FILE`."""
import argparse
import sys
from pathlib import Path

from sqlmodel import Session


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m app.cli", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("migrate", help="bring the database to the latest migration")
    seed_p = sub.add_parser("seed", help="migrate, then seed units, the 2023 program and demo data")
    seed_p.add_argument("--no-demo-values", action="store_true", help="skip demo figures")
    seed_p.add_argument("--no-demo-users", action="store_true", help="skip demo accounts")
    imp = sub.add_parser("import-units", help="import units from a CSV or XLSX file")
    imp.add_argument("file", type=Path, help="columns: code,name,kind,parent_code[,households,population]")
    imp.add_argument("--replace-demo", action="store_true",
                     help="remove the demo villages of each commune the file brings villages for")
    args = parser.parse_args(argv)

    from app.core.config import ROOT, settings
    from app.core.db import engine
    from app.core.migrate import upgrade_to_head

    if settings.is_sqlite:
        (ROOT / "data").mkdir(exist_ok=True)
    upgrade_to_head(engine)
    if args.command == "migrate":
        print("Database is at the latest migration.")
        return 0
    if args.command == "seed":
        from app.seed.run import seed

        with Session(engine) as session:
            seed(session, demo_users=not args.no_demo_users and settings.SEED_DEMO_USERS,
                 demo_values=not args.no_demo_values and settings.SEED_DEMO_VALUES)
        print("Seeded.")
        return 0
    from app.units.importer import import_units

    if not args.file.is_file():
        print(f"No such file: {args.file}", file=sys.stderr)
        return 2
    with Session(engine) as session:
        report = import_units(session, args.file, replace_demo=args.replace_demo)
        if not report.ok:
            session.rollback()
            print(f"Nothing imported: {len(report.errors)} error(s).", file=sys.stderr)
            for e in report.errors:
                print("  " + e, file=sys.stderr)
            return 1
        session.commit()
    print(f"Imported: {report.created} created, {report.updated} updated, "
          f"{report.removed_demo} demo units removed.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
