"""Digests: a weekly one for each team member (their village's week against the week
before) and a monthly one for commune admins (the commune's villages, last month).

Counts are small portable queries (`storage.scheduling_repo.village_counts`): people who
joined, lessons completed, support visits logged. The full report indicators live in
`bot.reports`. Dedupe keys name the period, so a repeated or late run adds nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from bot.app import App
from bot.core.messages import Outbound
from bot.scheduling.common import (
    day_month,
    in_grace,
    monthly_slot,
    send_to,
    split_lines,
    weekly_slot,
)
from storage import scheduling_repo as repo
from storage.scheduling_repo import Counts


@dataclass
class DigestRun:
    weekly: int = 0
    monthly: int = 0

    def as_log(self) -> dict[str, int]:
        return dict(vars(self))


async def run_digests(app: App, now: datetime) -> DigestRun:
    """Queue the weekly and monthly digests whose slot `now` is within the grace of."""
    settings = app.settings.scheduler
    local = now.astimezone(app.engine.services.tz)
    run = DigestRun()
    if settings.is_quiet(local.hour):
        return run
    grace = timedelta(hours=settings.digest_grace_hours)
    week = weekly_slot(local, settings.digest_weekday, settings.digest_hour)
    if in_grace(local, week, grace):
        run.weekly = await weekly_digests(app, week.date(), now)
    month = monthly_slot(local, settings.monthly_digest_day, settings.digest_hour)
    if in_grace(local, month, grace):
        first = month.date().replace(day=1)
        previous = (first - timedelta(days=1)).replace(day=1)
        run.monthly = await monthly_digests(app, previous, now)
    return run


def _bounds(app: App, first: date, last_exclusive: date) -> tuple[datetime, datetime]:
    tz = app.engine.services.tz
    return (
        datetime.combine(first, time(0), tzinfo=tz),
        datetime.combine(last_exclusive, time(0), tzinfo=tz),
    )


async def weekly_digests(app: App, until: date, now: datetime) -> int:
    """Each team member's digest for the 7 days before `until` (local dates)."""
    services = app.engine.services
    commune = services.commune.id
    week = _bounds(app, until - timedelta(days=7), until)
    before = _bounds(app, until - timedelta(days=14), until - timedelta(days=7))
    queued = 0
    async with app.database.transaction() as session:
        recipients = await repo.team_recipients(session, commune)
        if not recipients:
            return 0
        this_week = await repo.village_counts(session, commune, *week)
        last_week = await repo.village_counts(session, commune, *before)
        accounts = await repo.reachable_accounts(session, [r.person_id for r in recipients])
        for r in recipients:
            now_counts = this_week.get(r.village_id, Counts())
            then = last_week.get(r.village_id, Counts())
            text = services.texts(
                "digests.weekly",
                team=r.team_name,
                start=day_month(until - timedelta(days=7)),
                end=day_month(until - timedelta(days=1)),
                new=now_counts.new_residents,
                new_prev=then.new_residents,
                lessons=now_counts.lessons_completed,
                lessons_prev=then.lessons_completed,
                visits=now_counts.visits,
                visits_prev=then.visits,
            )
            queued += await send_to(
                session,
                accounts.get(r.person_id),
                dedupe_key=f"digest:w:{r.person_id}:{r.team_id}:{until.isoformat()}",
                kind="digest",
                messages=[Outbound(text)],
                now=now,
            )
    return queued


async def monthly_digests(app: App, first: date, now: datetime) -> int:
    """The commune admins' digest for the calendar month starting on `first`."""
    services = app.engine.services
    commune = services.commune
    following = (first + timedelta(days=32)).replace(day=1)
    preceding = (first - timedelta(days=1)).replace(day=1)
    queued = 0
    async with app.database.transaction() as session:
        admins = await repo.commune_admins(session, commune.id)
        if not admins:
            return 0
        month = await repo.village_counts(session, commune.id, *_bounds(app, first, following))
        prior = await repo.village_counts(session, commune.id, *_bounds(app, preceding, first))
        lines = [
            services.texts(
                "digests.monthly_title", month=first.month, year=first.year, commune=commune.name
            ),
            services.texts("digests.monthly_legend", unit=commune.unit_label),
        ]
        for village_id, name in await repo.active_villages(session, commune.id):
            counts = month.get(village_id, Counts())
            lines.append(
                services.texts(
                    "digests.monthly_line",
                    village=name,
                    new=counts.new_residents,
                    lessons=counts.lessons_completed,
                    visits=counts.visits,
                )
            )
        total, total_prior = sum(month.values(), Counts()), sum(prior.values(), Counts())
        lines.append(
            services.texts(
                "digests.monthly_total",
                new=total.new_residents,
                lessons=total.lessons_completed,
                visits=total.visits,
                new_prev=total_prior.new_residents,
                lessons_prev=total_prior.lessons_completed,
                visits_prev=total_prior.visits,
            )
        )
        messages = split_lines(lines)
        accounts = await repo.reachable_accounts(session, admins)
        for person_id in admins:
            queued += await send_to(
                session,
                accounts.get(person_id),
                dedupe_key=f"digest:m:{person_id}:{first:%Y-%m}",
                kind="digest",
                messages=messages,
                now=now,
            )
    return queued
