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
    # Requests served at once (AnyIO's thread limiter) and database connections: sized together
    # (app.core.db). A request that waits longer than DB_POOL_TIMEOUT s for a connection, or
    # SQLITE_LOCK_TIMEOUT s for SQLite's write lock, answers 503 with Retry-After.
    WEB_THREADS: int = 20
    DB_POOL_TIMEOUT: float = 3.0
    SQLITE_LOCK_TIMEOUT: float = 20.0

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
