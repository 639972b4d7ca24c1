"""Digests: a weekly one for each team member (their village's week against the week
before) and a monthly one for commune admins (the commune's villages, last month).

The figures come from the read model (`bot.reports.read_model`), as the reports count
them "trong kỳ" (docs/glossary.md): new registered residents, lessons completed,
support visits. The commune's total is its own figure, not the sum of its villages.
Dedupe keys name the period, so a repeated or late run adds nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from bot.app import App
from bot.core.communes import CommuneRef
from bot.core.messages import Outbound
from bot.reports import indicators as ind
from bot.reports import read_model
from bot.scheduling.behind import admin_notes, behind_this_week, leader_note
from bot.scheduling.common import (
    day_month,
    in_grace,
    monthly_slot,
    send_to,
    split_lines,
    weekly_slot,
)
from storage import scheduling_repo as repo


@dataclass
class DigestRun:
    weekly: int = 0
    monthly: int = 0
    behind: int = 0  # admins' "who is behind" notes, in the last weeks before the deadline

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
        run.behind = await admin_notes(app, week.date(), now)
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
    queued = 0
    for commune in app.engine.services.communes.all():
        queued += await _weekly_digests(app, commune, until, now)
    return queued


async def _weekly_digests(app: App, place: CommuneRef, until: date, now: datetime) -> int:
    services = app.engine.services
    commune = place.id
    week = _bounds(app, until - timedelta(days=7), until)
    before = _bounds(app, until - timedelta(days=14), until - timedelta(days=7))
    queued = 0
    async with app.database.transaction() as session:
        recipients = await repo.team_recipients(session, commune)
        if not recipients:
            return 0
        # In the last weeks before the deadline, leaders also read what their village misses.
        behind = await behind_this_week(app, session, place, until, now)
        leaders = {
            (r.person_id, r.team_id)
            for r in await repo.team_recipients(session, commune, roles=("leader",))
        }
        this_week = await read_model.villages_in_period(session, commune, *week)
        last_week = await read_model.villages_in_period(session, commune, *before)
        accounts = await repo.reachable_accounts(session, [r.person_id for r in recipients])
        for r in recipients:
            now_counts = read_model.of(this_week, ind.VILLAGE, r.village_id)
            then = read_model.of(last_week, ind.VILLAGE, r.village_id)
            text = services.texts(
                "digests.weekly",
                team=r.team_name,
                start=day_month(until - timedelta(days=7)),
                end=day_month(until - timedelta(days=1)),
                new=now_counts.new,
                new_prev=then.new,
                lessons=now_counts.completions,
                lessons_prev=then.completions,
                visits=now_counts.visits,
                visits_prev=then.visits,
            )
            if behind is not None and (r.person_id, r.team_id) in leaders:
                note = leader_note(app, behind, r.village_id)
                text = f"{text}\n\n{note}" if note else text
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
    """Each commune's admins' digest for the calendar month starting on `first`."""
    queued = 0
    for commune in app.engine.services.communes.all():
        queued += await _monthly_digests(app, commune, first, now)
    return queued


async def _monthly_digests(app: App, commune: CommuneRef, first: date, now: datetime) -> int:
    services = app.engine.services
    following = (first + timedelta(days=32)).replace(day=1)
    preceding = (first - timedelta(days=1)).replace(day=1)
    queued = 0
    async with app.database.transaction() as session:
        admins = await repo.commune_admins(session, commune.id)
        if not admins:
            return 0
        bounds = _bounds(app, first, following)
        month = await read_model.villages_in_period(session, commune.id, *bounds)
        prior = await read_model.villages_in_period(
            session, commune.id, *_bounds(app, preceding, first)
        )
        lines = [
            services.texts(
                "digests.monthly_title", month=first.month, year=first.year, commune=commune.name
            ),
            services.texts("digests.monthly_legend", unit=commune.unit_label),
        ]
        for village_id, name in await repo.active_villages(session, commune.id):
            counts = read_model.of(month, ind.VILLAGE, village_id)
            lines.append(
                services.texts(
                    "digests.monthly_line",
                    village=name,
                    new=counts.new,
                    lessons=counts.completions,
                    visits=counts.visits,
                )
            )
        total = read_model.of(month, ind.COMMUNE)
        total_prior = read_model.of(prior, ind.COMMUNE)
        lines.append(
            services.texts(
                "digests.monthly_total",
                commune=commune.name,
                new=total.new,
                lessons=total.completions,
                visits=total.visits,
                new_prev=total_prior.new,
                lessons_prev=total_prior.completions,
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
