"""What the roll-up engine answers: shared by the dashboard, the report, the API and exports."""
from dataclasses import dataclass, field
from typing import Any

from app.program.models import Indicator, Target
from app.units.models import Unit

MET, NOT_MET, NO_DATA = "met", "not_met", "no_data"


@dataclass
class Figure:
    """One indicator's figure for a unit (its subtree, or its own entry) over a period.

    count/amount: `value` is the sum. ratio: numerator/denominator sums, `value` = Σnum/Σden
    (0…1). yes_no (share of units): numerator = units answering yes, denominator = units that
    should report (`expected`), `reported` = units that answered at all, `value` = yes/expected.
    `value` is None when nothing was entered.
    """

    value: float | int | None
    numerator: int | None = None
    denominator: int | None = None
    reported: int | None = None
    expected: int | None = None

    @property
    def has_data(self) -> bool:
        return self.value is not None


@dataclass
class TargetResult:
    target: Target
    status: str  # met | not_met | no_data
    actual: float | int | None  # what was compared: a count, an amount, a percentage (0–100)
    gap: float | None  # how far from the target (positive: short of it), same unit as actual
    exceeded: bool = False  # a range target beaten above its upper bound
    units_total: int | None = None  # scope=each: units of the level
    units_meeting: int | None = None
    units_failing: list[Unit] = field(default_factory=list)  # scope=each: those that do not


@dataclass
class IndicatorResult:
    indicator: Indicator
    subtree: Figure  # the unit's whole tree
    own: Figure | None  # the unit's own entry (None when its level does not enter it)
    targets: list[TargetResult] = field(default_factory=list)

    @property
    def status(self) -> str:
        """Worst of the targets: not_met beats no_data beats met; no targets → no_data."""
        statuses = [t.status for t in self.targets]
        if NOT_MET in statuses:
            return NOT_MET
        if NO_DATA in statuses or not statuses:
            return NO_DATA
        return MET


@dataclass(slots=True)
class ValueChange:
    """One figure changed: `old`/`new` are snapshots ({value, numerator, denominator}) or None."""

    unit: Unit
    indicator: Indicator
    period: str
    old: dict[str, Any] | None
    new: dict[str, Any] | None
