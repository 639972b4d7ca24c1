"""The escalation job hands overdue questions to `bot.team.escalation` with the
configured delay, every 15 minutes, and never in quiet hours."""

from __future__ import annotations

import pytest

from bot.scheduling import escalations
from bot.scheduling.scheduler import Scheduler
from tests.test_scheduling_helpers import (
    app,  # noqa: F401  (fixture)
    local,
    sqlite_only,
)

pytestmark = pytest.mark.skipif(
    not escalations.available(), reason="bot.team.escalation (team feature) is not there"
)


@sqlite_only
async def test_escalations_run_with_the_configured_delay_outside_quiet_hours(
    app,  # noqa: F811
    clock,
    monkeypatch,
):
    import bot.team.escalation as team_escalation

    calls = []

    async def escalate_overdue(database, now, *, hours, texts):
        calls.append((now, hours))
        return 2

    monkeypatch.setattr(team_escalation, "escalate_overdue", escalate_overdue)
    scheduler = Scheduler(app)
    assert "escalations" in scheduler.specs
    clock.now = local(2026, 11, 23, 10, 15)
    assert await scheduler.run_job("escalations") == {"escalated": 2}
    clock.now = local(2026, 11, 23, 22, 15)  # quiet hours: wait for the morning
    assert await scheduler.run_job("escalations") == {"escalated": 0}
    assert calls == [(local(2026, 11, 23, 10, 15), 48.0)]
