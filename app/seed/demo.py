"""Demo accounts (listed in the README) and demo figures for the first months.

Demo only: a production start refuses SEED_DEMO_USERS.
"""
from sqlmodel import Session, select

from app.accounts.models import User
from app.accounts.security import hash_password
from app.units.models import Unit

DEMO_PASSWORD = "demo2023"
DEMO_DISTRICT_CODE = "141"  # Huyện Yên Bình
DEMO_COMMUNE_CODE = "04720"  # Xã Xuân Long, Huyện Yên Bình
DEMO_USERS = [
    # username, full name, unit code, role
    ("tinh.quantri", "Quản trị cấp tỉnh", "15", "admin"),
    ("tinh.nhaplieu", "Cán bộ nhập liệu cấp tỉnh", "15", "editor"),
    ("tinh.xem", "Lãnh đạo theo dõi cấp tỉnh", "15", "viewer"),
    ("huyen.quantri", "Quản trị huyện Yên Bình", DEMO_DISTRICT_CODE, "admin"),
    ("huyen.nhaplieu", "Cán bộ nhập liệu huyện Yên Bình", DEMO_DISTRICT_CODE, "editor"),
    ("huyen.xem", "Theo dõi huyện Yên Bình", DEMO_DISTRICT_CODE, "viewer"),
    ("xa.quantri", "Quản trị xã Xuân Long", DEMO_COMMUNE_CODE, "admin"),
    ("xa.nhaplieu", "Cán bộ nhập liệu xã Xuân Long", DEMO_COMMUNE_CODE, "editor"),
    ("xa.xem", "Theo dõi xã Xuân Long", DEMO_COMMUNE_CODE, "viewer"),
]


def seed_demo_users(session: Session) -> None:
    password_hash = hash_password(DEMO_PASSWORD)
    for username, full_name, unit_code, role in DEMO_USERS:
        if session.exec(select(User).where(User.username == username)).first() is not None:
            continue
        unit = session.exec(select(Unit).where(Unit.code == unit_code)).one()
        session.add(User(username=username, full_name=full_name, unit_id=unit.id, role=role,
                         password_hash=password_hash, is_demo=True))
    session.flush()


def seed_demo_values(session: Session) -> None:
    """Figures for the first months so a fresh start shows a living dashboard."""
    # Implemented with the roll-up engine (issue #7), which the figures must feed.
