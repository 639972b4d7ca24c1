"""The nightly housekeeping job deletes what is kept only for a while (old update ids,
spent linking codes and guesses, expired download files) and nothing still in use."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from bot.scheduling.housekeeping import run_housekeeping
from storage import downloads
from storage.delivery_models import CodeAttempt, FileDownload, LinkCode
from storage.models import Person, ProcessedUpdate
from tests.support import make_app


@pytest.fixture
async def app(db_url, tmp_path, clock):
    built = await make_app(db_url, tmp_path, clock)
    yield built
    await built.close()


async def count(app, model) -> int:
    async with app.database.session() as session:
        return int(await session.scalar(select(func.count()).select_from(model)))


async def test_old_records_go_and_recent_ones_stay(app, clock):
    now = clock()
    commune_id = app.engine.services.communes.only.id
    async with app.database.transaction() as session:
        person = Person(commune_id=commune_id, created_at=now)
        session.add(person)
        await session.flush()
        for key, age in (("old", timedelta(days=15)), ("recent", timedelta(days=13))):
            session.add(ProcessedUpdate(channel="telegram", update_key=key, processed_at=now - age))
        for code, expired_ago in (("111111", timedelta(days=2)), ("222222", timedelta(hours=1))):
            session.add(
                LinkCode(
                    code=code,
                    person_id=person.id,
                    channel="zalo",
                    created_at=now - expired_ago - timedelta(minutes=10),
                    expires_at=now - expired_ago,
                )
            )
        session.add(CodeAttempt(channel="zalo", external_id="z1", at=now - timedelta(days=2)))
        session.add(CodeAttempt(channel="zalo", external_id="z1", at=now - timedelta(hours=2)))
        for hours in (-1, 1):  # one link expired an hour ago, one still valid for an hour
            await downloads.create(
                session,
                commune_id=commune_id,
                person_id=person.id,
                filename="bao-cao.csv",
                content_type="text/csv",
                data=b"a,b\n",
                now=now - timedelta(hours=24),
                ttl=timedelta(hours=24 + hours),
            )

    run = await run_housekeeping(app, now)
    assert (run.updates, run.codes, run.downloads) == (1, 2, 1)
    for model in (ProcessedUpdate, LinkCode, CodeAttempt, FileDownload):
        assert await count(app, model) == 1, model.__name__
    assert set((await run_housekeeping(app, now)).as_log().values()) == {0}
