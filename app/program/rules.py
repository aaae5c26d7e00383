"""What the program's indicators allow: periods, levels, measures. Pure functions."""
import functools

from app.program.models import Indicator, Program

MEASURES = ("ratio", "yes_no", "count", "amount")
PERCENT_MEASURES = ("ratio", "yes_no")  # shown and judged as a percentage
# 1,000 tỷ đồng: more than any Front fund; a figure above it is a typing slip.
MAX_AMOUNT = 1_000 * 10**9
# Ten million people, households or events: above any province's population.
MAX_COUNT = 10_000_000


@functools.lru_cache(maxsize=1024)
def _depths(text: str) -> frozenset[int]:
    return frozenset(int(d) for d in text.split(",") if d.strip() != "")


def entry_depths(indicator: Indicator) -> set[int]:
    return set(_depths(indicator.entry_depths))


def enters(indicator: Indicator, depth: int) -> bool:
    return depth in _depths(indicator.entry_depths)


def program_periods(program: Program) -> list[str]:
    return [f"{program.year}-{m:02d}" for m in range(1, 13)]


def parse_period(period: str) -> tuple[int, int] | None:
    """"2023-04" → (2023, 4); anything else → None."""
    if len(period) != 7 or period[4] != "-" or not period[:4].isdigit() or not period[5:].isdigit():
        return None
    year, month = int(period[:4]), int(period[5:])
    return (year, month) if 1 <= month <= 12 else None


def month_of(period: str) -> int:
    return int(period[5:7])


def is_flow(indicator: Indicator) -> bool:
    return indicator.time_rollup == "flow"
