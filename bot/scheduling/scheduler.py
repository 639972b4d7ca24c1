"""The scheduler: a few periodic jobs on an APScheduler 3 AsyncIOScheduler, run by the
one process that holds the "scheduler" lease, together with the outbox drain.

Jobs select who is due when they run; nobody has a job of their own:
- `nudges`, every hour at :00 local: residents whose reminder hour has come;
- `digests`, daily at the digest hours: the weekly and monthly digests when due;
- `reports`, daily at the digest hours: the annual report and deadline reminders;
  (each commune has its own calendar, `bot.scheduling.calendar`: the jobs run at every
  commune's digest hour and serve the communes whose slot has come);
- `escalations`, every 15 minutes: questions the team left unanswered (`bot.team`);
- `housekeeping`, daily at 03:00 local: expired download links, codes, old update ids.

Missed runs: the job store is in memory, so every job also runs once when the
scheduler starts (after a restart or a lease hand-over). Each job serves only the slots
it is late for by less than its grace window, and every message has a dedupe key, so a
repeated or late run never sends anything twice; APScheduler's `coalesce` and
`misfire_grace_time` cover a stalled event loop in the same way.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.cron import CronTrigger
from sqlalchemy.exc import IntegrityError

from bot.app import App
from bot.channels.base import Channel
from bot.outbox import run_outbox
from bot.scheduling import escalations
from bot.scheduling.calendar import digest_hours
from bot.scheduling.digests import run_digests
from bot.scheduling.escalations import run_escalations
from bot.scheduling.housekeeping import run_housekeeping
from bot.scheduling.leader import LeaseKeeper
from bot.scheduling.nudges import run_nudges
from bot.scheduling.reports import run_report_jobs
from bot.team.broadcast_service import run_broadcast_progress

log = logging.getLogger(__name__)

LEASE_NAME = "scheduler"


class JobRun(Protocol):
    def as_log(self) -> dict[str, int]: ...


JobFn = Callable[[App, datetime], Awaitable[JobRun]]


@dataclass(frozen=True)
class JobSpec:
    id: str
    run: JobFn
    trigger: CronTrigger
    grace: timedelta


def job_specs(app: App) -> list[JobSpec]:
    settings = app.settings.scheduler
    tz = app.engine.services.tz
    daily = timedelta(hours=settings.digest_grace_hours)
    # Every hour some commune's calendar sends digests or report messages at; each run
    # serves the communes whose slot it falls in.
    codes = [commune.code for commune in app.engine.services.communes.all()]
    hours = ",".join(str(hour) for hour in digest_hours(codes, settings))
    specs = [
        JobSpec(
            "nudges",
            run_nudges,
            CronTrigger(minute=0, timezone=tz),
            timedelta(minutes=settings.grace_minutes),
        ),
        JobSpec("digests", run_digests, CronTrigger(hour=hours, timezone=tz), daily),
        JobSpec("reports", run_report_jobs, CronTrigger(hour=hours, timezone=tz), daily),
        JobSpec("housekeeping", run_housekeeping, CronTrigger(hour=3, timezone=tz), daily),
    ]
    if escalations.available():
        quarter = CronTrigger(minute="*/15", timezone=tz)
        specs.append(JobSpec("escalations", run_escalations, quarter, timedelta(minutes=15)))
    return specs


class Scheduler:
    """The app's periodic jobs. `run_job` is what APScheduler calls; tests call it too,
    with the app's (fake) clock deciding what is due."""

    def __init__(self, app: App, specs: Sequence[JobSpec] | None = None) -> None:
        self.app = app
        self.specs = {spec.id: spec for spec in (specs or job_specs(app))}
        self.aps = AsyncIOScheduler(
            timezone=app.engine.services.tz,
            job_defaults={"coalesce": True, "max_instances": 1},
        )
        self._running: set[asyncio.Task[Any]] = set()

    def start(self, *, catch_up: bool = True) -> None:
        """Start the timers; with `catch_up` every job also runs once right away."""
        extra: dict[str, Any] = {}
        if catch_up:
            extra["next_run_time"] = datetime.now(self.app.engine.services.tz)
        for spec in self.specs.values():
            self.aps.add_job(
                self.run_job,
                spec.trigger,
                args=[spec.id],
                id=spec.id,
                name=spec.id,
                misfire_grace_time=int(spec.grace.total_seconds()),
                replace_existing=True,
                **extra,
            )
        self.aps.start()
        log.info("scheduler started", extra={"jobs": ",".join(self.specs)})

    async def run_job(self, job_id: str) -> dict[str, int] | None:
        """Run one job now; returns its counts, or None if it failed (logged)."""
        spec = self.specs[job_id]
        task = asyncio.current_task()
        if task is not None:
            self._running.add(task)
        started = time.monotonic()
        try:
            for attempt in (1, 2):
                try:
                    run = await spec.run(self.app, self.app.engine.services.clock())
                    break
                except IntegrityError:
                    # Another scheduler queued the same message a moment ago (a lease
                    # hand-over): the transaction rolled back; the rerun skips those keys.
                    if attempt == 2:
                        raise
        except asyncio.CancelledError:  # stopping or lost the lease: rolled back, no error
            log.info("job interrupted", extra={"job": job_id})
            return None
        except Exception as exc:
            # Type only: SQL errors can quote parameters, and those may hold names.
            log.error("job failed", extra={"job": job_id, "error": type(exc).__name__})
            log.debug("job failure detail", exc_info=True)
            return None
        finally:
            if task is not None:
                self._running.discard(task)
        counts = run.as_log()
        log.info(
            "job done",
            extra={"job": job_id, **counts, "seconds": round(time.monotonic() - started, 3)},
        )
        return counts

    async def shutdown(self) -> None:
        """Stop the timers and cancel running jobs (each job's transaction rolls back;
        whatever it had committed stays, and the next run skips it)."""
        if self.aps.running:
            self.aps.shutdown(wait=False)
        running = list(self._running)
        for task in running:
            task.cancel()
        await asyncio.gather(*running, return_exceptions=True)


async def run_scheduler(app: App, channels: list[Channel], stop: asyncio.Event) -> None:
    """Service worker (roles `all` and `scheduler`): while this process holds the
    "scheduler" lease, run the periodic jobs and drain the outbox.

    Draining belongs to the lease holder too: the platforms' rate limits are per bot,
    and one throttled sender is how they hold however many processes are running."""
    settings = app.settings.scheduler

    async def leading(lost: asyncio.Event) -> None:
        scheduler = Scheduler(app) if settings.enabled else None
        drain = asyncio.create_task(run_outbox(app, channels, lost))
        # Broadcasts are fed to the outbox in batches and reported to the admin here.
        feed = asyncio.create_task(run_broadcast_progress(app, channels, lost))
        try:
            if scheduler is not None:
                scheduler.start()
            await lost.wait()
        finally:
            if scheduler is not None:
                await scheduler.shutdown()
            await asyncio.gather(drain, feed, return_exceptions=True)  # gives back claims

    keeper = LeaseKeeper(
        app.database, name=LEASE_NAME, ttl=timedelta(seconds=settings.lease_seconds)
    )
    await keeper.lead_while_held(stop, leading)
