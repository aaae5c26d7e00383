"""Today in Việt Nam and a day typed by a person (app/core/time.py)."""
from datetime import UTC, date, datetime

import pytest

from app.core import time as clock


def test_today_vn_is_the_next_day_from_17_00_utc(monkeypatch):
    # 16:59 UTC is 23:59 in Việt Nam (UTC+7), 17:00 UTC is 00:00 the next day.
    monkeypatch.setattr(clock, "utcnow", lambda: datetime(2023, 4, 30, 16, 59, tzinfo=UTC))
    assert clock.today_vn() == date(2023, 4, 30)
    monkeypatch.setattr(clock, "utcnow", lambda: datetime(2023, 4, 30, 17, 0, tzinfo=UTC))
    assert clock.today_vn() == date(2023, 5, 1)


@pytest.mark.parametrize("text", ["05/04/2023", "5/4/2023", "05-04-2023", "05.04.2023", " 5/4/2023 ",
                                  "2023-04-05", "2023-4-5"])
def test_parse_day_reads_the_written_forms(text):
    assert clock.parse_day(text) == date(2023, 4, 5)


@pytest.mark.parametrize("text", ["", "   ", None])
def test_parse_day_empty_is_none(text):
    assert clock.parse_day(text) is None


@pytest.mark.parametrize("text", ["31/02/2023", "5/4/23", "hôm nay", "2023/04/05", "05/04/2023x", "13/13/2023"])
def test_parse_day_refuses_anything_else(text):
    with pytest.raises(ValueError):
        clock.parse_day(text)


def test_today_vn_of_a_given_utc_time():
    assert clock.today_vn(datetime(2023, 12, 31, 17, 0, tzinfo=UTC)) == date(2024, 1, 1)
