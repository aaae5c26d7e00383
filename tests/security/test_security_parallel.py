"""Brute force in parallel: 30 sign-in attempts at once, each on its own thread and its own
database connection (real concurrency, committed rows), on SQLite and PostgreSQL alike.

These tests commit to the shared test database (the per-test savepoint cannot hold several
connections), so each makes its own account and removes it afterwards.
"""
import threading
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
from sqlalchemy import delete
from sqlmodel import Session, select

from app.accounts import service, throttle
from app.accounts.models import RateCounter, User, UserSession
from app.accounts.security import hash_password
from app.core.time import utcnow
from app.units.models import Unit

RIGHT = "Đúng mật khẩu 2023"
WRONG = "not-the-password"
PARALLEL = 30


class FrozenClock:
    """Time stands still, so no pause ends while the attempts run (no timing in the test)."""

    def __init__(self) -> None:
        self.now = utcnow()

    def utcnow(self):
        return self.now


@pytest.fixture
def target(engine) -> Iterator[str]:
    """A committed account of commune 04720, removed with its sessions afterwards."""
    name = f"thu.{uuid.uuid4().hex[:8]}"
    with Session(engine) as s:
        unit = s.exec(select(Unit).where(Unit.code == "04720")).one()
        s.add(User(username=name, full_name="Tài khoản thử", unit_id=unit.id, role="viewer",
                   password_hash=hash_password(RIGHT), password_changed_at=utcnow()))
        s.commit()
    yield name
    with Session(engine) as s:
        uid = s.exec(select(User.id).where(User.username == name)).one()
        s.execute(delete(UserSession).where(UserSession.user_id == uid))
        s.execute(delete(User).where(User.id == uid))
        s.commit()


@pytest.fixture
def clock(monkeypatch) -> FrozenClock:
    c = FrozenClock()
    monkeypatch.setattr(service, "clock", c)
    return c


@pytest.fixture
def checked(monkeypatch) -> list[bool]:
    """Records each check of a real password hash (a refused attempt checks a dummy hash)."""
    seen: list[bool] = []
    real = service.verify_password
    lock = threading.Lock()

    def counting(password: str, password_hash: str | None) -> bool:
        ok = real(password, password_hash)
        if password_hash is not None:
            with lock:
                seen.append(ok)
        return ok

    monkeypatch.setattr(service, "verify_password", counting)
    return seen


def _in_parallel(engine, attempts: list[Callable[[Session], object]]) -> list[object]:
    """Run each attempt on its own thread and connection, all released at the same moment."""
    barrier = threading.Barrier(len(attempts))

    def run(attempt: Callable[[Session], object]) -> object:
        with Session(engine) as s:
            barrier.wait()
            return attempt(s)

    with ThreadPoolExecutor(max_workers=len(attempts)) as pool:
        return list(pool.map(run, attempts))


def _account(engine, name: str) -> User:
    with Session(engine) as s:
        return s.exec(select(User).where(User.username == name)).one()


def test_thirty_parallel_wrong_passwords_check_three_and_pause(engine, target, clock, checked):
    results = _in_parallel(engine, [lambda s: service.authenticate(s, target, WRONG)] * PARALLEL)
    assert results == [None] * PARALLEL
    # The 3rd failure pauses sign-in: the 27 others were refused without checking the password.
    assert checked == [False] * 3
    user = _account(engine, target)
    assert user.failed_logins == 3
    assert user.locked_until == clock.now + timedelta(seconds=5)


def test_parallel_attempts_on_a_locked_account_refuse_right_password(engine, target, clock, checked):
    # Five failures in a row, each after the pause of the one before: the account locks.
    for _ in range(service.MAX_FAILURES):
        with Session(engine) as s:
            assert service.authenticate(s, target, WRONG) is None
        clock.now += timedelta(seconds=31)
    user = _account(engine, target)
    assert user.locked_until == clock.now - timedelta(seconds=31) + timedelta(minutes=15)
    locked_until = user.locked_until
    checked.clear()
    attempts = [lambda s: service.authenticate(s, target, WRONG)] * (PARALLEL - 1)
    attempts.append(lambda s: service.authenticate(s, target, RIGHT))
    results = _in_parallel(engine, attempts)
    assert results == [None] * PARALLEL  # the right password too
    assert checked == []  # none of the 30 got as far as a password check
    assert _account(engine, target).locked_until == locked_until  # not extended


def test_twenty_wrong_and_the_right_one_in_parallel_bounded(engine, target, clock, checked):
    """At most the first three attempts are checked; a right password among them may sign in
    (it came before the pause), and if it does, at most three more wrong guesses are checked."""
    attempts = [lambda s: service.authenticate(s, target, WRONG)] * 20
    attempts.insert(10, lambda s: service.authenticate(s, target, RIGHT))
    results = _in_parallel(engine, attempts)
    signed_in = [r for r in results if r is not None]
    wrong_checked = checked.count(False)
    if signed_in:
        # At most two wrong before the right one (a third pauses sign-in, and the right one
        # would be refused), and the success starts the count again: at most three after it.
        assert checked.count(True) == 1 and wrong_checked <= 2 + 3
    else:
        assert checked == [False] * 3  # the right one came after the pause: refused unchecked
        assert _account(engine, target).locked_until == clock.now + timedelta(seconds=5)
        assert wrong_checked < service.MAX_FAILURES  # the attacker never got to five guesses


def test_thirty_parallel_hits_count_one_to_thirty(engine):
    key = f"login:test-{uuid.uuid4().hex[:8]}"
    now = utcnow()
    try:
        counts = _in_parallel(engine, [lambda s: (throttle.hit(s, key, 86400, now), s.commit())[0]] * PARALLEL)
        assert sorted(counts) == list(range(1, PARALLEL + 1))
    finally:
        with Session(engine) as s:
            s.execute(delete(RateCounter).where(RateCounter.key == key))
            s.commit()


def test_rate_counter_new_window_starts_again(db):
    now = utcnow()
    assert [throttle.hit(db, "login:10.0.0.9", 60, now) for _ in range(3)] == [1, 2, 3]
    assert throttle.hit(db, "login:10.0.0.9", 60, now + timedelta(seconds=60)) == 1
    assert throttle.hit(db, "login:10.0.0.10", 60, now + timedelta(seconds=60)) == 1
