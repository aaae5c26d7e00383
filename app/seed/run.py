"""Seed an empty database: units, the 2023 program, demo accounts and demo figures; and, on a
fresh start (SEED_DEMO_2026), the two-tier tree of 01/07/2025 with a demo 2026 program.

Idempotent: each step looks for what it would create and leaves existing rows alone.
"""
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from app.core.config import settings
from app.program.models import Program


def seed(session: Session, *, demo_users: bool, demo_values: bool, demo_2026: bool = False) -> None:
    from app.seed import demo, program_2023, tasks_2023, units

    units.seed_units(session)
    program = program_2023.seed_program(session)
    tasks_2023.seed_tasks(session, program)
    if demo_users:
        demo.seed_demo_users(session)
    if demo_values:
        demo.seed_demo_values(session)  # rebuilds the roll-up itself
        demo.seed_demo_task_progress(session)
    else:
        from app.rollup.service import rebuild

        rebuild(session)  # roll-up aggregates and unit counts for whatever was seeded
    if demo_2026:
        demo.seed_demo_2026(session, users=demo_users, values=demo_values)
    session.commit()


def seed_if_empty(engine: Engine) -> bool:
    """Seed when the database holds no program yet; True if it seeded."""
    with Session(engine) as session:
        if session.exec(select(Program.id)).first() is not None:
            return False
        seed(session, demo_users=settings.SEED_DEMO_USERS, demo_values=settings.SEED_DEMO_VALUES,
             demo_2026=settings.SEED_DEMO_2026)
        return True
