"""Deletion deletes: every column that can hold personal data is listed, and a real
/xoadulieu through the console leaves none of the person's data in any of them.

The subject's data carries a marker ("zelda", or their phone number) wherever it is
free text, so that after deletion the whole database can be searched for it."""

from __future__ import annotations

import io
import json
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import func, select

from bot.channels.console.chat import run_jsonl
from bot.core.messages import Outbound
from bot.scheduling.housekeeping import run_housekeeping
from storage import downloads, outbox, resume, team_repo
from storage.delivery_models import CodeAttempt, LinkCode, OutboxMessage
from storage.models import ChannelAccount, ParticipationEvent, Person, ProcessedUpdate
from storage.personal_data import NOT_PERSONAL, PERSONAL, text_columns
from storage.schema import metadata
from storage.team_models import AssistedLearning, StaffRole, SupportVisit, TeamQuestion
from tests.support import make_app
from tests.team_support import add_households, onboarded, person_of, queued, village_id

NAME = "Bà Zelda Trần"
PHONE = "0987654321"
QUESTION = f"Con tôi cài VNeID không được, gọi giúp số {PHONE} nhé"
MARKERS = ("zelda", PHONE)
CONSOLE_ID = "zelda-console"
TELEGRAM_ID = "zelda-telegram"


def test_every_text_column_is_declared_personal_or_not():
    columns = text_columns(metadata)
    assert not set(PERSONAL) & set(NOT_PERSONAL), "a column cannot be both"
    undeclared = columns - set(PERSONAL) - set(NOT_PERSONAL)
    assert not undeclared, (
        f"declare these in storage/personal_data.py (PERSONAL or NOT_PERSONAL): {undeclared}"
    )
    assert not (set(PERSONAL) | set(NOT_PERSONAL)) - columns, "declared columns that do not exist"
    assert all(reason.strip() for reason in NOT_PERSONAL.values())


@pytest.fixture
async def app(db_url, tmp_path, clock):
    built = await make_app(db_url, tmp_path, clock)
    yield built
    await built.close()


async def console(app, *lines: dict[str, Any]) -> list[dict[str, Any]]:
    """Lines through the console's JSONL mode, as `hocvuso chat --jsonl` reads them."""
    src = io.StringIO("".join(json.dumps(line, ensure_ascii=False) + "\n" for line in lines))
    out = io.StringIO()
    await run_jsonl(app.engine, CONSOLE_ID, NAME, src, out)
    return [json.loads(raw) for raw in out.getvalue().splitlines()]


def _has_marker(value: Any) -> bool:
    if value is None:
        return False
    if isinstance(value, bytes):
        text = value.decode("utf-8", "replace")
    elif isinstance(value, str):
        text = value
    else:
        text = json.dumps(value, ensure_ascii=False)
    return any(marker in text.lower() for marker in MARKERS)


def _filled(value: Any) -> bool:
    return value not in (None, "", {}, [], {"messages": []})


async def subject_values(app, subject_id: int) -> dict[str, list[Any]]:
    """For each personal column, the values that are the subject's: those carrying a
    marker, plus every filled field of their own person row and accounts."""
    found: dict[str, list[Any]] = {}
    async with app.database.session() as session:
        for name in PERSONAL:
            table_name, column = name.split(".")
            table = metadata.tables[table_name]
            for row in (await session.execute(select(table))).mappings():
                value = row[column]
                own = (table_name == "people" and row["id"] == subject_id) or (
                    table_name == "channel_accounts" and row["person_id"] == subject_id
                )
                if (own and _filled(value)) or _has_marker(value):
                    found.setdefault(name, []).append(value)
    return found


async def marked_anywhere(app) -> dict[str, list[Any]]:
    """Every text column of every table, searched for the subject's markers."""
    found: dict[str, list[Any]] = {}
    async with app.database.session() as session:
        for name in sorted(text_columns(metadata)):
            table_name, column = name.split(".")
            rows = await session.execute(select(metadata.tables[table_name].c[column]))
            hits = [value for (value,) in rows if _has_marker(value)]
            if hits:
                found[name] = hits
    return found


async def seed_the_rest(app, subject_id: int, clock) -> None:
    """What the console alone cannot produce: a second messenger, a phone number, a
    staff past (referral code, visit note, assisted learner, admin invite, a report)
    and messages queued and sent to them."""
    now = clock()
    commune_id = app.engine.services.communes.only.id
    [household] = await add_households(app, "T01", [("H-ZZ", None)])
    t01 = await village_id(app, "T01")
    async with app.database.transaction() as session:
        person = await session.get(Person, subject_id)
        person.phone = PHONE
        session.add(
            ChannelAccount(
                channel="telegram",
                external_id=TELEGRAM_ID,
                person_id=subject_id,
                screen={"name": "menu", "args": {}, "offered": []},
                active=True,
                created_at=now - timedelta(days=1),
                last_seen_at=now - timedelta(days=1),
            )
        )
        team = await team_repo.team_by_code(session, commune_id, "TCN-T01")
        role = await team_repo.grant_role(
            session, person_id=subject_id, role="member", commune_id=commune_id,
            team_id=team.id, now=now,
        )  # fmt: skip
        role.referral_code = "ZELDA-REF"
        session.add(
            SupportVisit(
                household_id=household, member_person_id=subject_id, team_id=team.id,
                village_id=t01, commune_id=commune_id, services=["cashless"],
                note=f"Zelda hướng dẫn, gọi {PHONE}", visited_at=now,
            )
        )  # fmt: skip
        session.add(
            AssistedLearning(
                member_person_id=subject_id, team_id=team.id, village_id=t01,
                commune_id=commune_id, household_id=household, learner_key=f"{household}:zelda",
                lesson_id="vneid-co-ban", at=now,
            )
        )  # fmt: skip
        team_repo.audit(session, "cli:officer", "invite.create", commune_id, at=now,
                        invite_id=991, role="commune_admin", name="Zelda Trần")  # fmt: skip
        team_repo.audit(session, f"person:{subject_id}", "invite.claim", commune_id, at=now,
                        invite_id=991, role="commune_admin")  # fmt: skip
        await downloads.create(
            session, commune_id=commune_id, person_id=subject_id, filename="zelda-bao-cao.csv",
            content_type="text/csv", data="Tổ viên,Zelda Trần\n".encode(), now=now,
            ttl=timedelta(hours=24),
        )  # fmt: skip
        session.add(
            LinkCode(code="zelda1", person_id=subject_id, channel="console", created_at=now,
                     expires_at=now + timedelta(minutes=10))
        )  # fmt: skip
        session.add(CodeAttempt(channel="console", external_id=CONSOLE_ID, at=now))
        # A reply to them kept for re-sending after a crash, never confirmed sent.
        session.add(
            ProcessedUpdate(channel="telegram", update_key="777", processed_at=now,
                            reply=[{"text": f"Chào {NAME}"}], reply_to=TELEGRAM_ID)
        )  # fmt: skip
        # A visit entry they left half-done while they were a member, with its note.
        await resume.save(
            session, subject_id, "visit",
            {"name": "visit_note", "args": {"household": household, "note": f"Gọi {PHONE}"}},
            now,
        )  # fmt: skip
        for key, status in (("nudge:subject", "pending"), ("broadcast:subject", "sent")):
            await outbox.enqueue(
                session, dedupe_key=key, kind=key.split(":")[0], channel="telegram",
                external_id=TELEGRAM_ID, messages=[Outbound(f"Chào {NAME}")], now=now,
            )  # fmt: skip
            await session.flush()
            if status == "sent":
                row = await session.scalar(
                    select(OutboxMessage).where(OutboxMessage.dedupe_key == key)
                )
                await outbox.mark(session, row.id, status="sent", now=now)


async def test_deletion_through_the_console_clears_every_personal_column(app, clock):
    member = await onboarded(app, "member-1", "member")
    out = await console(
        app,
        {"start": "zelda-poster"},
        {"choice": "agree"},
        {"choice": "v:T01"},
        {"choice": "age:tu60"},
        {"text": "/hoicanbo"},
        {"text": QUESTION},
    )
    assert not [line for line in out if "error" in line]
    async with app.database.session() as session:
        account = await session.scalar(
            select(ChannelAccount).where(ChannelAccount.external_id == CONSOLE_ID)
        )
        subject_id = account.person_id
        question = await session.scalar(select(TeamQuestion))
    assert question is not None and PHONE in question.text
    # The team's answer, relayed back to the resident, naming them.
    await member.text("/cauhoi")
    await member.choose(f"q:{question.id}")
    await member.text("Chào bà Zelda, tổ sẽ gọi lại ngay.")
    # The question relayed to the member was sent; the answer to the resident is queued.
    [to_member] = await queued(app, member, kind="relay")
    async with app.database.transaction() as session:
        await outbox.mark(session, to_member.id, status="sent", now=clock())
    await seed_the_rest(app, subject_id, clock)
    # A bystander's own data, which must stay.
    member_person = await person_of(app, member)
    async with app.database.transaction() as session:
        await outbox.enqueue(
            session, dedupe_key="nudge:member", kind="nudge", channel="console",
            external_id=member.user, messages=[Outbound("Chào Lan")], now=clock(),
        )  # fmt: skip

    before = await subject_values(app, subject_id)
    missing = set(PERSONAL) - set(before)
    assert not missing, f"the test put no data of the subject in: {missing}"
    events_before = len(await _events(app, subject_id))

    out = await console(app, {"text": "/xoadulieu"}, {"choice": "yes"})
    assert any("Đã xóa" in line.get("text", "") for line in out)

    assert await marked_anywhere(app) == {}
    after = await subject_values(app, subject_id)
    assert after == {}, after
    async with app.database.session() as session:
        person = await session.get(Person, subject_id)
        assert person.deleted_at is not None
        roles = list(
            await session.scalars(select(StaffRole).where(StaffRole.person_id == subject_id))
        )
        assert roles and all(r.revoked_at is not None for r in roles)
        # Sent messages keep their status (broadcast tallies stay right); unsent ones went.
        statuses = dict(
            (await session.execute(select(OutboxMessage.dedupe_key, OutboxMessage.status))).all()
        )
        assert statuses["broadcast:subject"] == "sent" and "nudge:subject" not in statuses
        assert statuses[to_member.dedupe_key] == "sent"
        # The bystander keeps everything.
        bystander = await session.get(Person, member_person.id)
        assert bystander.display_name == "Lan"
        nudge = await session.scalar(
            select(OutboxMessage).where(OutboxMessage.dedupe_key == "nudge:member")
        )
        assert nudge.external_id == member.user and "Chào Lan" in json.dumps(
            nudge.payload, ensure_ascii=False
        )
    # The event log still counts them, anonymously, with the deletion itself.
    kinds = [e.kind for e in await _events(app, subject_id)]
    assert len(kinds) == events_before + 1 and kinds[-1] == "data_deleted"


async def _events(app, person_id: int) -> list[ParticipationEvent]:
    async with app.database.session() as session:
        return list(
            await session.scalars(
                select(ParticipationEvent)
                .where(ParticipationEvent.person_id == person_id)
                .order_by(ParticipationEvent.id)
            )
        )


async def test_housekeeping_blanks_messages_once_sent(app, clock):
    now = clock()
    async with app.database.transaction() as session:
        for key in ("sent", "blocked", "pending"):
            await outbox.enqueue(
                session, dedupe_key=key, kind="relay", channel="telegram", external_id=f"tg-{key}",
                messages=[Outbound(f"Số của bà: {PHONE}")], now=now,
            )  # fmt: skip
        await session.flush()
        for key in ("sent", "blocked"):
            row = await session.scalar(select(OutboxMessage).where(OutboxMessage.dedupe_key == key))
            await outbox.mark(session, row.id, status=key, now=now)
    run = await run_housekeeping(app, now)
    assert run.messages == 2
    async with app.database.session() as session:
        rows = {r.dedupe_key: r for r in await session.scalars(select(OutboxMessage))}
    assert [k for k, r in rows.items() if PHONE in json.dumps(r.payload)] == ["pending"]
    assert rows["pending"].external_id == "tg-pending"
    assert rows["sent"].external_id == "" and rows["sent"].status == "sent"
    # The dedupe key still stops the same message being queued again.
    async with app.database.transaction() as session:
        assert not await outbox.enqueue(
            session, dedupe_key="sent", kind="relay", channel="telegram", external_id="tg-sent",
            messages=[Outbound("lại")], now=now,
        )  # fmt: skip
        count = await session.scalar(select(func.count()).select_from(OutboxMessage))
    assert count == 3
