"""Periods: a month "2023-04", a quarter "2023-Q2", a year "2023", or a span "2023-01..2023-04".

Every period is a span of whole months inside one year. Flows add the months of the span;
stocks take the latest value at or before the span's last month.
"""
from dataclasses import dataclass


@dataclass(frozen=True)
class PeriodRange:
    year: int
    first: int  # first month, 1…12
    last: int  # last month, first…12

    @property
    def start(self) -> str:
        return f"{self.year}-{self.first:02d}"

    @property
    def end(self) -> str:
        return f"{self.year}-{self.last:02d}"

    @property
    def months(self) -> list[str]:
        return [f"{self.year}-{m:02d}" for m in range(self.first, self.last + 1)]

    @property
    def key(self) -> str:
        """The canonical string that `parse` reads back."""
        if self.first == self.last:
            return self.start
        if self.first == 1 and self.last == 12:
            return str(self.year)
        if self.last - self.first == 2 and self.first % 3 == 1:
            return f"{self.year}-Q{(self.first + 2) // 3}"
        return f"{self.start}..{self.end}"

    @property
    def kind(self) -> str:
        """month | quarter | year | span (a year-to-date is a span from January)."""
        k = self.key
        return "month" if len(k) == 7 and "Q" not in k else (
            "quarter" if "Q" in k else ("year" if len(k) == 4 else "span"))

    @classmethod
    def month(cls, period: str) -> "PeriodRange":
        year, month = _month(period)
        return cls(year, month, month)

    @classmethod
    def ytd(cls, period: str) -> "PeriodRange":
        """Year to date: January to the given month."""
        year, month = _month(period)
        return cls(year, 1, month)

    @classmethod
    def quarter(cls, year: int, q: int) -> "PeriodRange":
        if not 1 <= q <= 4:
            raise ValueError(f"quarter {q} is not 1–4")
        return cls(year, 3 * q - 2, 3 * q)

    @classmethod
    def parse(cls, text: str) -> "PeriodRange":
        """Read any of the forms above; ValueError with a clear message otherwise."""
        t = text.strip()
        if ".." in t:
            a, b = (cls.month(p) for p in t.split("..", 1))
            if a.year != b.year or b.first < a.first:
                raise ValueError(f"{text!r}: a span runs forward within one year, e.g. 2023-01..2023-04")
            return cls(a.year, a.first, b.last)
        if len(t) == 4 and t.isdigit():
            return cls(int(t), 1, 12)
        if len(t) == 7 and t[4:6].upper() == "-Q" and t[:4].isdigit() and t[6].isdigit():
            return cls.quarter(int(t[:4]), int(t[6]))
        return cls.month(t)


def _month(period: str) -> tuple[int, int]:
    p = period.strip()
    if len(p) == 7 and p[4] == "-" and p[:4].isdigit() and p[5:].isdigit() and 1 <= int(p[5:]) <= 12:
        return int(p[:4]), int(p[5:])
    raise ValueError(f"{period!r} is not a month; write YYYY-MM, YYYY-Qn, YYYY or YYYY-MM..YYYY-MM")


def quarter_of(month: int) -> int:
    return (month + 2) // 3
