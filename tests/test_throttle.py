"""The fair-use bucket and the outage classifier, without a network or a database."""

from __future__ import annotations

from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError, ProgrammingError

from bot.channels.throttle import Throttle, Verdict
from storage.outage import is_outage


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_a_burst_passes_one_word_when_it_trips_then_silence_until_a_pause():
    clock = Clock()
    throttle = Throttle(5.0, 10, clock=clock)
    assert [throttle.check("a") for _ in range(10)] == [Verdict.PASS] * 10
    assert throttle.check("a") is Verdict.TRIP
    for _ in range(300):  # 100 a second for 3 s: each message drains what refilled
        clock.now += 0.01
        assert throttle.check("a") is Verdict.DROP
    assert throttle.check("b") is Verdict.PASS  # others are not affected
    clock.now += 2.0  # a pause long enough to fill the bucket
    assert throttle.check("a") is Verdict.PASS


def test_a_steady_resident_never_trips():
    clock = Clock()
    throttle = Throttle(5.0, 10, clock=clock)
    for _ in range(200):
        clock.now += 0.25  # four a second, for almost a minute
        assert throttle.check("a") is Verdict.PASS


def test_buckets_are_bounded():
    clock = Clock()
    throttle = Throttle(5.0, 10, clock=clock, max_accounts=100)
    for n in range(1000):
        throttle.check(n)
    assert len(throttle._buckets) <= 100


def _wrapped(orig: Exception, cls=DBAPIError, invalidated: bool = False) -> DBAPIError:
    return cls("SELECT 1", None, orig, connection_invalidated=invalidated)


class _PgError(Exception):
    def __init__(self, sqlstate: str) -> None:
        super().__init__(sqlstate)
        self.sqlstate = sqlstate


def test_outages_are_told_from_bugs():
    assert is_outage(_wrapped(Exception("database is locked"), OperationalError))
    assert is_outage(_wrapped(Exception("lost"), invalidated=True))  # cut mid-query
    assert is_outage(_wrapped(_PgError("53100")))  # disk full
    assert is_outage(_wrapped(_PgError("25006")))  # read-only transaction
    assert is_outage(ConnectionRefusedError())
    assert not is_outage(_wrapped(_PgError("23505"), IntegrityError))
    assert not is_outage(_wrapped(_PgError("22021")))  # bad bytes: fails every time
    assert not is_outage(_wrapped(_PgError("42P01"), ProgrammingError))
    assert not is_outage(RuntimeError("a bug"))
