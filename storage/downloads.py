"""Files handed over by link instead of as an attachment (Zalo sends no files).

The link carries a random token; the table holds only its SHA-256, so a copy of the
database does not yield working links. A file can be fetched until it expires, then
`purge_expired` deletes it with the data it holds.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.delivery_models import FileDownload


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


async def create(
    session: AsyncSession,
    *,
    commune_id: int,
    person_id: int,
    filename: str,
    content_type: str,
    data: bytes,
    now: datetime,
    ttl: timedelta,
) -> str:
    """Store the file and return the token for its link."""
    token = secrets.token_urlsafe(24)
    session.add(
        FileDownload(
            token_sha256=_digest(token),
            commune_id=commune_id,
            person_id=person_id,
            filename=filename,
            content_type=content_type,
            data=data,
            created_at=now,
            expires_at=now + ttl,
            downloads=0,
        )
    )
    return token


async def fetch(session: AsyncSession, token: str, now: datetime) -> FileDownload | None:
    """The file behind `token` if it has not expired, counting the download."""
    if not token or len(token) > 64:
        return None
    row = await session.scalar(
        select(FileDownload).where(FileDownload.token_sha256 == _digest(token))
    )
    if row is None or row.expires_at <= now:
        return None
    row.downloads += 1
    return row


async def purge_expired(session: AsyncSession, now: datetime) -> int:
    result = await session.execute(delete(FileDownload).where(FileDownload.expires_at <= now))
    return int(result.rowcount or 0)
