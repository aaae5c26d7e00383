"""Private PostgreSQL databases for a test run, created beside the server's `test` database."""
import uuid

from sqlalchemy import create_engine, text


def _admin(admin_url: str, statement: str) -> None:
    engine = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(text(statement))
    engine.dispose()


def database_url(admin_url: str, prefix: str) -> tuple[str, str]:
    """(URL, name) for a new database on the server `admin_url` points at (not created yet)."""
    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    return admin_url.rsplit("/", 1)[0] + "/" + name, name


def create_database(admin_url: str, name: str) -> None:
    _admin(admin_url, f'CREATE DATABASE "{name}"')


def new_database_url(admin_url: str, prefix: str) -> tuple[str, str]:
    """(URL, name) of a fresh, empty database on the server `admin_url` points at."""
    url, name = database_url(admin_url, prefix)
    create_database(admin_url, name)
    return url, name


def drop_database(admin_url: str, name: str) -> None:
    _admin(admin_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
