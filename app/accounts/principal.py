"""Who is calling, as one value: a web session's user or an API token, with its unit.

Scope rule (the unit subtree is the `Unit.path` prefix):
- everyone reads its unit's subtree, and the subtrees of its unit's predecessors (the units it
  came from over `unit_successor`, transitively: the Lào Cai province of 2025 reads the whole
  Yên Bái tree of 2023; a new commune reads the former communes it absorbed and their villages),
  and nothing else;
- an admin writes (and manages users and tokens in) its whole subtree; a province-level admin
  also writes its predecessors' trees (to correct a past year); users and tokens stay its own;
- an editor writes its own unit, and the units below when `can_edit_below`;
- a viewer writes nothing;
- a token reads what its unit reads and, when its mode is `write`, writes its unit's subtree;
  it never administers.

The predecessors are read at most once per request, and only when a check needs them: a unit
inside the caller's own subtree, or above it, is decided without them (`came_from`; the loader
is set by `app.accounts.deps`, through `app.units.tree.predecessors`). Every check is then a
few string prefix tests.

Its own module (no FastAPI, no database) so that services may take a `Principal` without
importing the request dependencies that build one (`app.accounts.deps`).
"""
from collections.abc import Callable
from dataclasses import dataclass, field

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
    # The units `unit` came from (outermost only), shallowest first; None until read, by
    # `load_predecessors` when a check first needs them (a request inside its own tree never does).
    predecessors: tuple[Unit, ...] | None = ()
    load_predecessors: Callable[[], tuple[Unit, ...]] | None = field(default=None, repr=False, compare=False)

    def came_from(self) -> tuple[Unit, ...]:
        """The predecessors, read on first use."""
        if self.predecessors is None:
            self.predecessors = self.load_predecessors() if self.load_predecessors else ()
        return self.predecessors

    @property
    def read_roots(self) -> tuple[Unit, ...]:
        """The roots of the subtrees the caller reads: its unit, then its predecessors."""
        return (self.unit, *self.came_from())

    @property
    def read_paths(self) -> tuple[str, ...]:
        return tuple(u.path for u in self.read_roots)

    @property
    def user_id(self) -> int | None:
        return self.user.id if self.user else None

    @property
    def token_id(self) -> int | None:
        return self.token.id if self.token else None

    def can_read(self, unit: Unit) -> bool:
        return self.in_own_subtree(unit) or unit.path.startswith(tuple(u.path for u in self.came_from()))

    def in_own_subtree(self, unit: Unit) -> bool:
        return unit.path.startswith(self.unit.path)

    def administers_predecessors(self) -> bool:
        """A province-level administrator (not a token) also keeps its predecessors' trees."""
        return self.role == "admin" and self.token is None and self.unit.parent_id is None

    def can_write(self, unit: Unit) -> bool:
        if not self.in_own_subtree(unit):
            return self.administers_predecessors() and self.can_read(unit)
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
        return (self.in_own_subtree(unit) or self.unit.path.startswith(unit.path)
                or any(unit.path.startswith(u.path) or u.path.startswith(unit.path) for u in self.came_from()))

    def home_in(self, root: Unit) -> Unit | None:
        """The caller's place in the tree under `root` (a program's tree): its unit when it lies
        there, else its first predecessor that does; None when neither does."""
        if self.unit.path.startswith(root.path):
            return self.unit
        return next((u for u in self.came_from() if u.path.startswith(root.path)), None)

    def figures_unit(self, unit: Unit) -> Unit:
        """Whose figures to show on a page about `unit` (a plan the caller follows): the unit's
        own where the caller may read them, else the caller's place in that unit's tree (its unit,
        or the predecessor that lies there). The one rule for pages, as `can_read` is for the
        API: figures of units outside what the caller reads never show."""
        if self.can_read(unit):
            return unit
        return self.home_in(unit) or self.unit

    def can_admin(self, unit: Unit) -> bool:
        """Managing users and tokens: an administrator's own subtree."""
        return self.role == "admin" and self.token is None and self.in_own_subtree(unit)

    def can_reopen(self, unit: Unit) -> bool:
        """Reopening a submitted month belongs to the level above the unit."""
        return unit.id != self.unit.id and self.can_write(unit) and self.role in ("admin", "editor")
