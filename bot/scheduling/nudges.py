"""The daily lesson nudge: at each resident's chosen hour, a short message naming the
next lesson, with a button to open it.

One hourly job selects who is due; nobody gets a job of their own. Nothing is sent
twice: `ReminderState.last_sent_on` (local date) keeps a resident out of later runs that
day, and the outbox's dedupe key `nudge:<person>:<local date>` makes a repeated run (a
restart, a second scheduler during a lease hand-over) enqueue nothing new.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from bot.app import App
from bot.core.context import Context
from bot.core.messages import Outbound
from bot.core.screens.learning import next_lesson
from bot.core.screens.reminders import NudgeScreen, nudge_args
from bot.scheduling.common import at_hour, in_grace, sending_window_end
from storage import outbox
from storage import scheduling_repo as repo
from storage.models import ChannelAccount, LessonProgress, Person

log = logging.getLogger(__name__)

BATCH = 100


@dataclass
class NudgeRun:
    due: int = 0  # selected by hour, reminders on, not sent today
    enqueued: int = 0
    finished: int = 0  # nothing left to learn
    busy: int = 0  # wrote to the bot while the nudge was being prepared

    def as_log(self) -> dict[str, int]:
        return dict(vars(self))


def due_slots(
    local_now: datetime, hours: Sequence[int], grace: timedelta
) -> list[tuple[int, date]]:
    """The (hour, local day) slots whose grace window holds `local_now`: normally just
    this hour's; a run delayed by downtime still serves a slot it is late for by less
    than `grace`, and never one further back."""
    today = local_now.date()
    return [
        (hour, day)
        for day in (today - timedelta(days=1), today)
        for hour in hours
        if in_grace(local_now, at_hour(day, hour, local_now), grace)
    ]


async def run_nudges(app: App, now: datetime) -> NudgeRun:
    """Enqueue the nudges due at `now` (an aware UTC time). Safe to run any number of
    times: a resident gets at most one nudge per local day."""
    settings = app.settings.scheduler
    services = app.engine.services
    local = now.astimezone(services.tz)
    run = NudgeRun()
    if settings.is_quiet(local.hour):
        return run
    hours = [h for h in range(24) if not settings.is_quiet(h)]
    for hour, day in due_slots(local, hours, timedelta(minutes=settings.grace_minutes)):
        day_start = datetime.combine(day, time(0), tzinfo=services.tz)
        async with app.database.session() as session:
            ids = []
            for commune in services.communes.all():
                ids += await repo.due_for_nudge(
                    session,
                    commune_id=commune.id,
                    hour=hour,
                    default_hour=settings.nudge_hour,
                    day=day,
                    seen_since=day_start,
                )
        run.due += len(ids)
        for start in range(0, len(ids), BATCH):
            await _nudge_batch(app, ids[start : start + BATCH], day, now, run)
    return run


async def _nudge_batch(
    app: App, person_ids: Sequence[int], day: date, now: datetime, run: NudgeRun
) -> None:
    async with app.database.transaction() as session:
        people = await repo.people(session, person_ids)
        accounts = await repo.reachable_accounts(session, person_ids)
        progress = await repo.progress_of(session, person_ids)
        for person_id in person_ids:
            person, account = people.get(person_id), accounts.get(person_id)
            if person is None or account is None:
                continue
            ctx = Context(
                session=session,
                services=app.engine.services,
                account=account,
                person=person,
                channel=account.channel,
                now=now,
            )
            await _nudge_one(ctx, person, account, progress[person_id], day, run)


async def _nudge_one(
    ctx: Context,
    person: Person,
    account: ChannelAccount,
    progress: dict[str, LessonProgress],
    day: date,
    run: NudgeRun,
) -> None:
    lesson = next_lesson(ctx, progress)
    if lesson is None:
        run.finished += 1
        return
    key = f"nudge:{person.id}:{day.isoformat()}"
    state = await repo.reminder_state(ctx.session, person.id)
    if await repo.queued(ctx.session, key):
        state.last_sent_on = day
        return
    args = nudge_args(lesson.id, lesson.id in progress, dict(account.screen or {}))
    view = await NudgeScreen().render(ctx, args or {"lesson": lesson.id})
    if args is None:  # mid-way through something else: text only, their screen stays
        view = Outbound(f"{view.text}\n{ctx.t('reminders.nudge.hint')}")
    else:
        screen = {
            "name": NudgeScreen.name,
            "args": args,
            "offered": [[c.id, c.label] for c in view.choices],
        }
        if not await repo.set_screen_if_idle(ctx.session, account.id, account.last_seen_at, screen):
            run.busy += 1  # they wrote to the bot meanwhile: no nudge needed today
            return
    await outbox.enqueue(
        ctx.session,
        dedupe_key=key,
        kind="nudge",
        channel=account.channel,
        external_id=account.external_id,
        messages=[view],
        now=ctx.now,
        # Still queued when quiet hours begin (a long backlog): better none than late.
        expires_at=sending_window_end(
            ctx.now.astimezone(ctx.services.tz),
            ctx.services.scheduler.quiet_start,
            ctx.services.scheduler.quiet_end,
        ),
    )
    state.last_sent_on = day
    run.enqueued += 1
