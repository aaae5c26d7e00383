"""The demo accounts (listed in the README): who they are and their one password.

Written here, not in `app.seed`, because both sides read it: the seed creates these accounts
and `app.accounts.startup` refuses a production start while any of them still opens. Demo
only: a production start refuses SEED_DEMO_USERS.
"""
DEMO_PASSWORD = "demo2023"  # noqa: S105 — public by design (README); production refuses it
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
