"""Settings, read once from the environment."""
from pathlib import Path
from typing import Literal

from pydantic import model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

ROOT = Path(__file__).resolve().parents[2]
INSECURE_SECRET = "changethis"  # noqa: S105 — the placeholder production refuses


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", extra="ignore")

    ENVIRONMENT: Literal["local", "test", "production"] = "local"
    DATABASE_URL: str = f"sqlite:///{ROOT / 'data' / 'mttq.db'}"
    SECRET_KEY: str = INSECURE_SECRET
    # Load demo figures (values for the first months) when seeding an empty database.
    SEED_DEMO_VALUES: bool = True
    SEED_DEMO_2026: bool = True  # fresh start: the 2025 two-tier tree and a demo 2026 program
    # Create the demo accounts listed in the README (refused in production).
    SEED_DEMO_USERS: bool = True
    PROGRAM_YEAR: int = 2023
    SESSION_MAX_AGE: int = 8 * 3600
    DEFAULT_LANGUAGE: str = "vi"
    # Petitions: answers' attached files (PDF or image) are stored here under random names.
    PETITION_FILES_DIR: Path = ROOT / "data" / "petition-files"
    PETITION_FILE_MAX_BYTES: int = 5 * 1024 * 1024
    # The public page of answered petitions (/public/petitions/<province>); false: 404.
    PETITIONS_PUBLIC_PAGE: bool = True
    # Monthly reporting: a unit's report for a month is due on this day of the next month;
    # REPORTING_DAYS overrides it per level key, e.g. {"commune": 15, "district": 18}.
    REPORTING_DAY: int = 20
    REPORTING_DAYS: dict[str, int] = {}
    # The monthly report's number ("Số …") and date: placeholders {month} {year} {unit};
    # dated on the reporting day of the next month ("due_day", or today if earlier) or "today".
    REPORT_NUMBER_FORMAT: str = "{month:02d}/BC-MTTQ-BTT"
    REPORT_DATED: Literal["due_day", "today"] = "due_day"
    # Requests served at once (AnyIO's thread limiter) and database connections: sized together
    # (app.core.db). A request that waits longer than DB_POOL_TIMEOUT s for a connection, or
    # SQLITE_LOCK_TIMEOUT s for SQLite's write lock, answers 503 with Retry-After.
    WEB_THREADS: int = 20
    DB_POOL_TIMEOUT: float = 3.0
    SQLITE_LOCK_TIMEOUT: float = 20.0
    # Server-side sessions (app/accounts/sessions.py): ended after this long without a request,
    # and this long after sign-in however active.
    SESSION_IDLE_MINUTES: int = 8 * 60
    SESSION_ABSOLUTE_HOURS: int = 12
    # Sign-in attempts per client address (every attempt counts), shared through the database;
    # None: on, except in the test suite (which turns it on where it tests it).
    LOGIN_RATE_LIMIT: str = "20/minute"
    LOGIN_RATE_LIMIT_ENABLED: bool | None = None
    # Wrong passwords in a row that lock an account, and for how long.
    LOGIN_MAX_FAILURES: int = 5
    LOGIN_LOCK_MINUTES: int = 15
    # Addresses (IPs or CIDRs, comma-separated) of reverse proxies whose X-Forwarded-For is
    # believed; empty: the client address is the connection's own.
    TRUSTED_PROXIES: str = ""

    @property
    def is_sqlite(self) -> bool:
        return self.DATABASE_URL.startswith("sqlite")

    @model_validator(mode="after")
    def _refuse_insecure_production(self) -> "Settings":
        if self.ENVIRONMENT == "production":
            if self.SECRET_KEY == INSECURE_SECRET:
                raise ValueError("SECRET_KEY must be set in production")
            if self.SEED_DEMO_USERS:
                raise ValueError("SEED_DEMO_USERS must be false in production")
        return self


settings = Settings()
