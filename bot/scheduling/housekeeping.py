"""Daily housekeeping: delete what is kept only for a while.

- report files handed over by link, once their link has expired (they may hold names);
- one-time codes for linking messengers, and the record of wrong guesses;
- the record of processed inbound updates, kept long enough to drop any redelivery; a
  reply kept with one for re-sending after a crash goes after `REPLY_WINDOW`;
- the words and recipient of outbox messages already sent (or given up on): only the
  status and dedupe key are needed after that.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete

from bot.app import App
from storage import downloads, erasure, replies
from storage.delivery_models import CodeAttempt, LinkCode
from storage.models import ProcessedUpdate

# Telegram retries a webhook for at most about a day, and Zalo documents no redelivery.
KEEP_PROCESSED_UPDATES = timedelta(days=14)
KEEP_CODES = timedelta(days=1)


@dataclass
class HousekeepingRun:
    downloads: int = 0
    codes: int = 0
    updates: int = 0
    messages: int = 0

    def as_log(self) -> dict[str, int]:
        return dict(vars(self))


async def run_housekeeping(app: App, now: datetime) -> HousekeepingRun:
    run = HousekeepingRun()
    async with app.database.transaction() as session:
        run.downloads = await downloads.purge_expired(session, now)
        codes = await session.execute(
            delete(LinkCode).where(LinkCode.expires_at < now - KEEP_CODES)
        )
        attempts = await session.execute(
            delete(CodeAttempt).where(CodeAttempt.at < now - KEEP_CODES)
        )
        run.codes = int(codes.rowcount or 0) + int(attempts.rowcount or 0)
        updates = await session.execute(
            delete(ProcessedUpdate).where(
                ProcessedUpdate.processed_at < now - KEEP_PROCESSED_UPDATES
            )
        )
        run.updates = int(updates.rowcount or 0)
        run.messages = await erasure.blank_finished_messages(session)
        await replies.clear_older_than(session, now - replies.REPLY_WINDOW)
    return run
