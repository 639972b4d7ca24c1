"""The console is a real channel: what the outbox holds for a console user shows in
`hocvuso chat --jsonl` when it is due. And a broadcast preview says who it reaches and
why the others are not reached. SQLite and PostgreSQL."""

from __future__ import annotations

import io
import json
from datetime import timedelta

import pytest

from bot.channels.console.chat import run_jsonl
from bot.reports import demo
from storage.models import Person
from tests.support import Chat, make_app
from tests.team_support import onboarded, queued, village_id


@pytest.fixture
async def app(db_url, tmp_path, clock):
    built = await make_app(db_url, tmp_path, clock)
    yield built
    await built.close()


async def jsonl(app, user: str, *lines: dict) -> list[list[dict]]:
    """Feed lines to `hocvuso chat --jsonl` as `user`; the objects written per line."""
    out = io.StringIO()
    src = io.StringIO("".join(json.dumps(line, ensure_ascii=False) + "\n" for line in lines))
    await run_jsonl(app.engine, user, "Cô Ba", src, out)
    per_line: list[list[dict]] = [[]]
    for raw in out.getvalue().splitlines():
        obj = json.loads(raw)
        if obj == {"waiting": True}:
            per_line.append([])
        else:
            per_line[-1].append(obj)
    return per_line[:-1]


def queued_texts(objects: list[dict]) -> list[str]:
    return [o["text"] for o in objects if o.get("queued") is True]


async def test_a_team_answer_reaches_a_console_resident_between_inputs(app):
    member = await onboarded(app, "mem", "member")
    [_start, _agree, _village, _age, _ask, sent] = await jsonl(
        app,
        "res",
        {"start": ""},
        {"choice": "agree"},
        {"choice": "v:T01"},
        {"choice": "age:tu60"},
        {"text": "/hoicanbo"},
        {"text": "Cách chuyển tiền bằng mã QR thế nào ạ?"},
    )
    assert any("Đã gửi câu hỏi" in o["text"] for o in sent)
    assert queued_texts(sent) == []  # nothing for the resident yet
    await member.text("/cauhoi")
    await member.choose(next(c.id for c in member.last.choices if c.id.startswith("q:")))
    await member.text("Cô mở ứng dụng ngân hàng, chọn Quét QR rồi xác nhận số tiền nhé.")

    [menu, again] = await jsonl(app, "res", {"text": "/menu"}, {"text": "/menu"})
    # It arrived while the resident was away: shown before the reply to what they typed.
    assert menu[0]["queued"] is True and "queued" not in menu[-1]
    [answer] = queued_texts(menu)
    assert answer.startswith("💬 Tổ công nghệ số cộng đồng Thôn Đông trả lời")
    assert "Quét QR" in answer
    assert queued_texts(again) == []  # shown once
    assert [row.status for row in await queued(app, Chat(app, user="res"), kind="relay")] == [
        "sent"
    ]


async def test_a_broadcast_is_seen_in_console_chat_and_waits_for_the_morning(app, clock):
    await jsonl(
        app, "res", {"start": ""}, {"choice": "agree"}, {"choice": "v:T02"}, {"choice": "age:tu60"}
    )
    admin = await onboarded(app, "admin", "commune_admin")

    async def announce(text: str) -> None:
        await admin.text("/quantri")
        await admin.choose("bc_compose")
        await admin.text(text)
        await admin.choose("none")
        await admin.choose("all")
        assert "✅ Số người nhận: 2 người (2 tài khoản: 2 Máy tính)." in admin.last.text
        await admin.choose("send")

    await announce("Tối thứ Sáu 19h họp thôn, mời bà con đến dự!")
    [[shown]] = await jsonl(app, "res", {"poll": True})  # just looking at the screen
    assert shown["queued"] is True
    assert shown["text"].startswith("📣 Thông báo của Xã Hòa An:")
    assert "mời bà con đến dự" in shown["text"]

    clock.now = clock.now.replace(hour=15)  # 22:00 local: quiet hours
    await announce("Sáng mai 7h tiêm phòng cho trẻ.")
    [at_night] = await jsonl(app, "res", {"text": "/menu"})
    assert queued_texts(at_night) == []  # unasked-for: held until morning, as on Zalo
    clock.advance(hours=9)  # 07:00 local
    [morning] = await jsonl(app, "res", {"text": "/menu"})
    assert [t.split("\n")[-1] for t in queued_texts(morning)] == ["Sáng mai 7h tiêm phòng cho trẻ."]


async def test_a_visit_to_confirm_arrives_in_console_chat_and_one_tap_confirms(app):
    from sqlalchemy import select

    from storage.models import ChannelAccount
    from storage.team_models import SupportVisit
    from tests.team_support import add_households

    [hid] = await add_households(app, "T01", [("H001", "Lê Văn Cường")])
    await jsonl(
        app, "res", {"start": ""}, {"choice": "agree"}, {"choice": "v:T01"}, {"choice": "age:tu60"}
    )
    async with app.database.transaction() as session:  # the resident's household
        account = await session.scalar(
            select(ChannelAccount).where(ChannelAccount.external_id == "res")
        )
        (await session.get(Person, account.person_id)).household_id = hid
    member = await onboarded(app, "mem", "member")
    await member.text("/to")
    await member.choose("visit")
    await member.choose(f"h:{hid}")
    await member.choose("s:vneid_level2")
    await member.choose("done")
    await member.choose("skip")
    assert "nhờ người trong hộ bấm xác nhận" in member.all_text()

    [[ask], [*thanks]] = await jsonl(app, "res", {"poll": True}, {"choice": "vok"})
    assert ask["queued"] is True and "VNeID mức 2" in ask["text"]
    assert "vok" in [c["id"] for c in ask["choices"]]
    assert any("Cảm ơn bạn đã xác nhận" in o["text"] for o in thanks)
    async with app.database.session() as session:
        visit = await session.scalar(select(SupportVisit))
    assert visit.verified_at is not None


async def test_an_expired_reminder_is_not_shown_late(app, clock):
    """A reminder still waiting when quiet hours begin is dropped, never shown late."""
    from bot.core.messages import Outbound
    from storage import outbox

    await jsonl(app, "res", {"start": ""}, {"choice": "agree"}, {"choice": "v:T01"})
    async with app.database.transaction() as session:
        await outbox.enqueue(
            session,
            dedupe_key="nudge:test",
            kind="nudge",
            channel="console",
            external_id="res",
            messages=[Outbound("Hôm nay mình học tiếp nhé!")],
            now=clock(),
            expires_at=clock() + timedelta(hours=1),
        )
    clock.advance(hours=2)
    [late] = await jsonl(app, "res", {"text": "/menu"})
    assert queued_texts(late) == []
    assert [row.status for row in await queued(app, kind="nudge")] == ["expired"]


async def test_preview_says_who_cannot_be_reached_and_demo_accounts_fix_it(app, clock):
    """Residents entered without any messenger account (as demo-data made them) are
    registered but unreachable: the preview says so instead of "nobody registered"."""
    commune_id = app.engine.services.communes.only.id
    t01 = await village_id(app, "T01")
    async with app.database.transaction() as session:
        for n in range(5):
            name = f"Bác {n}"
            session.add(
                Person(commune_id=commune_id, display_name=name, village_id=t01, created_at=clock())
            )
        session.add(Person(commune_id=commune_id, display_name="Chú Tư", created_at=clock()))
    admin = await onboarded(app, "admin", "commune_admin", village="T02")
    await admin.text("/quantri")
    await admin.choose("bc_compose")
    await admin.text("Họp thôn tối nay.")
    await admin.choose("none")
    await admin.choose("some")
    await admin.choose("v:T01")
    await admin.choose("done")
    preview = admin.last.text
    assert "Chưa có người dân nào đăng ký" not in preview
    assert "Có 5 người dân đã đăng ký ở nơi bạn chọn nhưng chưa ai nhận được tin" in preview
    assert "• 5 người chưa từng nhắn tin với bot" in preview
    assert "send" not in admin.choice_ids

    async with app.database.engine.begin() as conn:
        added = await demo.add_console_accounts(conn, commune_id, clock())
    assert added == 6  # the five, and the one without a village; the admin has one
    await admin.choose("edit")
    await admin.text("Họp thôn tối nay.")
    await admin.choose("none")
    await admin.choose("all")
    preview = admin.last.text
    assert "✅ Số người nhận: 6 người (6 tài khoản: 6 Máy tính)." in preview
    assert "⚠️ Không nhận được: 1 người, vì:\n• 1 người chưa chọn thôn" in preview
    await admin.choose("send")
    [[shown, *_reply]] = await jsonl(app, "demo-1", {"text": "/menu"})
    assert shown["queued"] is True and "Họp thôn tối nay." in shown["text"]


def test_hocvuso_chat_shows_a_team_answer_and_a_broadcast(sqlite_url, tmp_path):
    """The real command, three people in three terminals: a resident asks, a member
    answers, an admin announces; the resident's next line shows both, marked queued.
    (Subprocesses are slow: SQLite only; the tests above run on both databases.)"""
    import re

    from tests.test_cli import run

    env = {
        "HOCVUSO_DATABASE__URL": sqlite_url,
        # The real clock may be at night: no quiet hours, so the broadcast is due now.
        "HOCVUSO_SCHEDULER__QUIET_START": "0",
        "HOCVUSO_SCHEDULER__QUIET_END": "0",
    }

    def chat(user: str, *lines: dict) -> list[dict]:
        script = "".join(json.dumps(line, ensure_ascii=False) + "\n" for line in lines)
        result = run(["chat", "--jsonl", "--user", user], tmp_path, script, **env)
        assert result.returncode == 0, result.stderr
        return [json.loads(line) for line in result.stdout.splitlines()]

    def invite(*args: str) -> str:
        result = run(["invite", "create", *args, "--uses", "1"], tmp_path, **env)
        assert result.returncode == 0, result.stderr
        return re.findall(r"inv_\w+", result.stdout)[-1]

    member_code = invite("--role", "member", "--team", "TCN-T01")
    admin_code = invite("--role", "commune_admin")
    chat(
        "res",
        {"start": ""},
        {"choice": "agree"},
        {"choice": "v:T01"},
        {"choice": "age:tu60"},
        {"text": "/hoicanbo"},
        {"text": "Cách cài VNeID mức 2 thế nào ạ?"},
    )
    out = chat("mem", {"start": member_code}, {"choice": "agree"}, {"text": "/cauhoi"})
    question = next(c["id"] for c in out[-2]["choices"] if c["id"].startswith("q:"))
    chat("mem", {"choice": question}, {"text": "Bác mang CCCD ra nhà văn hóa tối thứ Sáu nhé."})
    out = chat(
        "adm",
        {"start": admin_code},
        {"choice": "agree"},
        {"text": "/quantri"},
        {"choice": "bc_compose"},
        {"text": "Tối thứ Sáu 19h, nhà văn hóa hướng dẫn cài VNeID."},
        {"choice": "none"},
        {"choice": "all"},
        {"choice": "send"},
    )
    assert any(
        "✅ Số người nhận: 2 người (2 tài khoản: 2 Máy tính)." in o.get("text", "") for o in out
    )

    out = chat("res", {"text": "/menu"})
    queued = [o["text"] for o in out if o.get("queued")]
    assert len(queued) == 2 and out[-1] == {"waiting": True}
    assert "Bác mang CCCD ra nhà văn hóa" in queued[0]
    assert queued[1].startswith("📣 Thông báo của Xã Hòa An:")
    assert [o for o in chat("res", {"text": "/menu"}) if o.get("queued")] == []
