"""Every table, imported in one place for Alembic and the tests."""
from app.accounts.models import ApiToken, RateCounter, User, UserSession  # noqa: F401
from app.audit.models import AuditLog  # noqa: F401
from app.core.generation import FiguresGeneration  # noqa: F401
from app.petitions.models import Petition, PetitionField, PetitionItem, PetitionSession, PetitionSummary  # noqa: F401
from app.program.models import Indicator, Program, Target, Task, TaskIndicator, TaskNote  # noqa: F401
from app.rollup.models import RollupCell, RollupEach, RollupOwn, RollupUnitCount  # noqa: F401
from app.units.models import Unit, UnitKind, UnitLevel, UnitSuccessor, UnitYear  # noqa: F401
from app.values.models import DataValue, IdempotencyRecord, PeriodSubmission  # noqa: F401
