"""Start-up refusals: no default account survives in production mode.

`Settings` already refuses the default SECRET_KEY and SEED_DEMO_USERS in production; this
check looks at the database: an active demo account (`is_demo`), or an account with a demo
username that still opens with the demo password, stops the start. Only those accounts are
tried against the demo password (Argon2 costs ~0.1 s a try): the password rules (10
characters or more) keep anyone else from choosing the 8-character demo password.
"""
from sqlalchemy.engine import Engine
from sqlmodel import Session, or_, select

from app.accounts.demo import DEMO_PASSWORD, DEMO_USERS
from app.accounts.models import User
from app.accounts.security import verify_password
from app.core.config import settings


class InsecureStartup(RuntimeError):
    """The app refuses to start in production with a demo account or demo password."""


def demo_accounts_left(session: Session) -> list[str]:
    names = [u[0] for u in DEMO_USERS]
    users = session.exec(select(User).where(
        User.is_active == True, or_(User.is_demo == True, User.username.in_(names))  # noqa: E712
    )).all()
    return sorted(u.username for u in users
                  if u.is_demo or verify_password(DEMO_PASSWORD, u.password_hash))


def check_production_accounts(session: Session, environment: str | None = None) -> None:
    if (environment or settings.ENVIRONMENT) != "production":
        return
    left = demo_accounts_left(session)
    if left:
        raise InsecureStartup(
            "Refusing to start in production: demo accounts are active or keep the demo "
            f"password: {', '.join(left)}. Disable them (or change their passwords) first.")


def check_at_startup(engine: Engine) -> None:
    with Session(engine) as session:
        check_production_accounts(session)
