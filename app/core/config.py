"""Settings, read once from the environment."""
from pathlib import Path
from typing import Literal

from pydantic import model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

ROOT = Path(__file__).resolve().parents[2]
INSECURE_SECRET = "changethis"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", extra="ignore")

    ENVIRONMENT: Literal["local", "test", "production"] = "local"
    DATABASE_URL: str = f"sqlite:///{ROOT / 'data' / 'mttq.db'}"
    SECRET_KEY: str = INSECURE_SECRET
    # Load demo figures (values for the first months) when seeding an empty database.
    SEED_DEMO_VALUES: bool = True
    # Create the demo accounts listed in the README (refused in production).
    SEED_DEMO_USERS: bool = True
    PROGRAM_YEAR: int = 2023
    SESSION_MAX_AGE: int = 8 * 3600
    DEFAULT_LANGUAGE: str = "vi"
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
