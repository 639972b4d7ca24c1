"""`hocvuso run`: the long-running service.

One process serves the configured channels (polling or webhook), `/healthz` and, unless
split out with `--role`, the background workers. SIGTERM stops intake, lets in-flight
updates finish, then closes the database.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import json
import logging
import signal
import time
from collections.abc import Awaitable, Callable
from typing import Literal

from aiohttp import web

from bot.app import App, build_app
from bot.channels.base import Channel
from bot.channels.registry import build_channels
from bot.web import build_web_app
from config.settings import Settings

log = logging.getLogger(__name__)

Role = Literal["all", "web", "scheduler"]
# Background workers (outbox drain, scheduler) register here; each gets the app, the
# channels and a stop event, and returns when the event is set.
Worker = Callable[[App, list[Channel], asyncio.Event], Awaitable[None]]
WORKERS: dict[str, Worker] = {}


def _register_workers() -> None:
    # One worker: the process holding the scheduler lease runs the periodic jobs and
    # drains the outbox (bot/scheduling/scheduler.py); web-only processes run neither.
    from bot.scheduling.scheduler import run_scheduler

    WORKERS.setdefault("scheduler", run_scheduler)


class KeyValueFormatter(logging.Formatter):
    """`ts=... level=info logger=... msg="..." key=value`, one line per record; fields
    given with `extra=` become keys. Log counts and kinds, never names, phones or
    messenger ids."""

    converter = time.gmtime
    _STANDARD = frozenset(vars(logging.makeLogRecord({}))) | {"message", "asctime"}

    def format(self, record: logging.LogRecord) -> str:
        fields = {
            "ts": self.formatTime(record, "%Y-%m-%dT%H:%M:%SZ"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": record.getMessage(),
        }
        for key, value in vars(record).items():
            if key not in self._STANDARD and not key.startswith("_"):
                fields[key] = value
        if record.exc_info:
            fields["exc"] = self.formatException(record.exc_info)
        return " ".join(f"{key}={_kv_value(value)}" for key, value in fields.items())


def _kv_value(value: object) -> str:
    text = str(value)
    if not text or any(c in text for c in ' "=\n\\'):
        return json.dumps(text, ensure_ascii=False)
    return text


def _structured_logs() -> None:
    """Switch the console handlers set up by the CLI to key=value lines, at INFO."""
    root = logging.getLogger()
    if root.getEffectiveLevel() > logging.INFO:  # `python -m bot.cli.main` sets WARNING
        root.setLevel(logging.INFO)
    for handler in root.handlers:
        if type(handler) is logging.StreamHandler:
            handler.setFormatter(KeyValueFormatter())
    # Our jobs log their own results; a line per Telegram update is noise at scale.
    # aiohttp's access log is one line per webhook POST, i.e. per update: the same noise.
    for chatty in ("apscheduler", "aiogram.event", "aiohttp.access"):
        logging.getLogger(chatty).setLevel(logging.WARNING)


async def serve(settings: Settings, role: Role = "all", stop: asyncio.Event | None = None) -> None:
    _structured_logs()
    # A schema upgrade runs in a child process: Alembic stays out of this one (12 MB).
    app = await build_app(settings, migrate_in_child=True)
    _register_workers()
    # Start-up objects live as long as the process (content, catalogs, mappers): keep
    # them out of the collector's full scans, which paused page requests by ~100 ms
    # (bench/web.py).
    gc.collect()
    gc.freeze()
    stop = stop or asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        with contextlib.suppress(NotImplementedError, RuntimeError):  # not main thread
            loop.add_signal_handler(sig, stop.set)
    channels = build_channels(app)
    runner: web.AppRunner | None = None
    tasks: list[asyncio.Task[None]] = []
    try:
        if role in ("all", "web"):
            services = app.engine.services
            web_app = build_web_app(
                app.database,
                channels,
                texts=services.texts,
                clock=services.clock,
                services=services,
                province_name=settings.province_name,
            )
            runner = web.AppRunner(web_app, shutdown_timeout=10)
            await runner.setup()
            await web.TCPSite(runner, settings.web.host, settings.web.port).start()
            log.info("web listening", extra={"host": settings.web.host, "port": settings.web.port})
            for channel in channels:
                await channel.start()
        if role in ("all", "scheduler"):
            tasks = [
                asyncio.create_task(worker(app, channels, stop)) for worker in WORKERS.values()
            ]
        if not channels:
            log.warning(
                "no channel has a token: set HOCVUSO_TELEGRAM__TOKEN or HOCVUSO_ZALO__TOKEN"
            )
        log.info(
            "service running",
            extra={"role": role, "channels": ",".join(c.name for c in channels) or "none"},
        )
        await stop.wait()
        log.info("stopping")
    finally:
        for channel in channels:
            await channel.stop()  # no new updates; in-flight ones finish
        if runner is not None:
            await runner.cleanup()
        if tasks:
            await asyncio.gather(*tasks, return_exceptions=True)
        await app.close()
