"""Residents' questions their village team left unanswered go to the commune admins:
`bot.team.escalation.escalate_overdue`, run every 15 minutes outside quiet hours (a
question that falls due at night goes in the morning). Each question is taken by a
conditional UPDATE and each message has a dedupe key, so a repeated run sends nothing
twice."""

from __future__ import annotations

import importlib.util
from dataclasses import dataclass
from datetime import datetime

from bot.app import App

DEFAULT_HOURS = 48.0


def available() -> bool:
    """Whether the team feature that owns escalation is installed."""
    return importlib.util.find_spec("bot.team.escalation") is not None


@dataclass
class EscalationRun:
    escalated: int = 0

    def as_log(self) -> dict[str, int]:
        return dict(vars(self))


async def run_escalations(app: App, now: datetime) -> EscalationRun:
    from bot.team.escalation import escalate_overdue

    if app.settings.scheduler.is_quiet(now.astimezone(app.engine.services.tz).hour):
        return EscalationRun()
    hours = float(getattr(app.settings, "questions_escalate_hours", DEFAULT_HOURS))
    count = await escalate_overdue(app.database, now, hours=hours, texts=app.engine.services.texts)
    return EscalationRun(count)
