"""Who is calling, as one value: a web session's user or an API token, with its unit.

Scope rule (the unit subtree is the `Unit.path` prefix):
- everyone reads its unit's subtree and nothing else;
- an admin writes (and manages users and tokens in) its whole subtree;
- an editor writes its own unit, and the units below when `can_edit_below`;
- a viewer writes nothing;
- a token reads its unit's subtree and, when its mode is `write`, writes it; it never
  administers.

Its own module (no FastAPI, no database) so that services may take a `Principal` without
importing the request dependencies that build one (`app.accounts.deps`).
"""
from dataclasses import dataclass

from app.accounts.models import ApiToken, User, UserSession
from app.units.models import Unit


@dataclass
class Principal:
    unit: Unit  # the root of what the caller may see
    role: str  # admin | editor | viewer | token
    via: str  # web | api
    user: User | None = None
    token: ApiToken | None = None
    token_writes: bool = False
    web_session: UserSession | None = None  # the sign-in this request came with

    @property
    def user_id(self) -> int | None:
        return self.user.id if self.user else None

    @property
    def token_id(self) -> int | None:
        return self.token.id if self.token else None

    def can_read(self, unit: Unit) -> bool:
        return unit.path.startswith(self.unit.path)

    def can_write(self, unit: Unit) -> bool:
        if not self.can_read(unit):
            return False
        if self.token is not None:
            return self.token_writes
        if self.role == "admin":
            return True
        if self.role == "editor":
            return unit.id == self.unit.id or bool(self.user and self.user.can_edit_below)
        return False

    def can_follow(self, unit: Unit) -> bool:
        """Reading a unit's plan of tasks: plans in the caller's subtree, and the plans of the
        units above it, which are the program the caller follows."""
        return self.can_read(unit) or self.unit.path.startswith(unit.path)

    def figures_unit(self, unit: Unit) -> Unit:
        """Whose figures to show on a page about `unit` (a plan the caller follows): the unit's
        own where the caller may read them, else the caller's unit. The one rule for pages, as
        `can_read` is for the API: figures of units outside the caller's subtree never show."""
        return unit if self.can_read(unit) else self.unit

    def can_admin(self, unit: Unit) -> bool:
        return self.role == "admin" and self.token is None and self.can_read(unit)

    def can_reopen(self, unit: Unit) -> bool:
        """Reopening a submitted month belongs to the level above the unit."""
        return unit.id != self.unit.id and self.can_write(unit) and self.role in ("admin", "editor")
