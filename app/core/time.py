"""Clock and calendar helpers: 'now' (always timezone-aware UTC), today in Việt Nam, a day typed
by a person.

Times are stored in UTC; a day people speak of (a due day, a note's date, the day a token
ends) is Việt Nam's, so "today" is read on the Asia/Ho_Chi_Minh clock even when the server
runs in UTC (between 00:00 and 07:00 Việt Nam time the two dates differ).
"""
import re
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

VN_TZ = ZoneInfo("Asia/Ho_Chi_Minh")

# d/m/yyyy with "/", "-" or "." between (as pages show and people type) or yyyy-mm-dd (a
# date picker's value, the API's form).
_DAY_FIRST = re.compile(r"(\d{1,2})[/.-](\d{1,2})[/.-](\d{4})")
_YEAR_FIRST = re.compile(r"(\d{4})-(\d{1,2})-(\d{1,2})")


def utcnow() -> datetime:
    return datetime.now(UTC)


def today_vn(now: datetime | None = None) -> date:
    """Today's date in Việt Nam (the server may run in UTC); `now` (UTC) when the caller keeps
    its own clock."""
    return (now or utcnow()).astimezone(VN_TZ).date()


def parse_day(text: str | None) -> date | None:
    """A day written dd/mm/yyyy (also d/m/yyyy, dd-mm-yyyy, dd.mm.yyyy) or yyyy-mm-dd; None
    when empty. Raises ValueError on anything else, a 31/02 included."""
    text = (text or "").strip()
    if not text:
        return None
    if m := _DAY_FIRST.fullmatch(text):
        day, month, year = m.groups()
    elif m := _YEAR_FIRST.fullmatch(text):
        year, month, day = m.groups()
    else:
        raise ValueError(text)
    return date(int(year), int(month), int(day))
