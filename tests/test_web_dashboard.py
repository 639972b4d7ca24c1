"""The web dashboard over HTTP: sign-in by one-time link, sessions, CSRF, scope by role,
and the pages answering on the same services as the chat (SQLite and PostgreSQL)."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from storage.team_models import AuditEntry, SupportVisit, TeamQuestion
from tests.support import make_app
from tests.team_support import add_households, onboarded, queued, texts_of
from tests.web_support import csrf_of, path_of, signed_in, web_client, web_link

PAGES = ["/web/", "/web/thon", "/web/cau-hoi", "/web/thong-bao", "/web/bao-cao", "/web/nhat-ky"]


@pytest.fixture
async def app(db_url, tmp_path, clock):
    built = await make_app(db_url, tmp_path, clock)
    yield built
    await built.close()


async def audit_actions(app) -> list[tuple[str, bool]]:
    async with app.database.session() as session:
        rows = await session.scalars(select(AuditEntry).order_by(AuditEntry.id))
        return [(r.action, r.succeeded) for r in rows]


async def test_a_link_signs_in_once_and_every_page_opens_for_an_admin(app) -> None:
    admin = await onboarded(app, "a1", "commune_admin", name="Cán bộ Hòa")
    link = await web_link(admin)
    assert link.startswith("http://127.0.0.1:8080/web/vao/")
    async with web_client(app) as client:
        first = await client.get(path_of(link))
        assert first.status == 200
        assert "Tổng quan" in await first.text()
        cookie = first.history[0].headers["Set-Cookie"]
        assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Secure" not in cookie
        for path in PAGES:
            page = await client.get(path)
            assert page.status == 200, path
            assert "Đăng xuất" in await page.text()
    async with web_client(app) as other:  # the same link in another browser: refused
        replay = await other.get(path_of(link))
        assert replay.status == 403
        assert "đã được dùng" in await replay.text()
    actions = await audit_actions(app)
    assert ("web.link", True) in actions
    assert ("web.sign_in", True) in actions and ("web.sign_in", False) in actions


async def test_residents_get_a_polite_refusal_and_no_link(app) -> None:
    resident = await onboarded(app, "r1")
    reply = await resident.text("/web")
    text = "\n".join(m.text for m in reply.messages)
    assert "chỉ dành cho cán bộ" in text and "/web/vao/" not in text


async def test_a_member_sees_their_village_only(app) -> None:
    member = await onboarded(app, "m1", "member", village="T01")
    async with web_client(app) as client:
        await signed_in(client, member)
        own = await client.get("/web/thon", allow_redirects=True)
        assert own.status == 200 and own.url.path == "/web/thon/T01"
        other = await client.get("/web/thon/T02")
        assert other.status == 403
        assert "thôn khác" in await other.text()
        assert ("denied:village_view", False) in await audit_actions(app)
        assert (await client.get("/web/nhat-ky")).status == 403
        assert (await client.get("/web/bao-cao/tai?ky=m&dang=csv&thon=T02")).status == 403
        mine = await client.get("/web/bao-cao/tai?ky=m&dang=csv")
        assert mine.status == 200 and b"T01" in await mine.read()


async def test_a_form_without_its_csrf_token_changes_nothing(app, clock) -> None:
    resident = await onboarded(app, "r1", village="T01")
    member = await onboarded(app, "m1", "member", village="T01")
    await resident.text("/hoicanbo")
    await resident.text("Làm sao cài VNeID?")
    async with app.database.session() as session:
        question = await session.scalar(select(TeamQuestion))
    async with web_client(app) as client:
        await signed_in(client, member)
        forged = await client.post(f"/web/cau-hoi/{question.id}", data={"answer": "Xin chào"})
        assert forged.status == 403
        assert "Biểu mẫu" in await forged.text()
        async with app.database.session() as session:
            assert (await session.get(TeamQuestion, question.id)).answered_at is None
        page = await client.get("/web/cau-hoi")
        html = await page.text()
        assert "Làm sao cài VNeID?" in html
        sent = await client.post(
            f"/web/cau-hoi/{question.id}",
            data={"answer": "Anh/chị mang CCCD ra nhà văn hóa nhé.", "csrf": csrf_of(html)},
        )
        assert sent.status == 200 and "Đã gửi câu trả lời" in await sent.text()
    relayed = texts_of(await queued(app, resident))
    assert any("mang CCCD ra nhà văn hóa" in t for t in relayed)
    assert ("question.answer", True) in await audit_actions(app)


async def test_sessions_end_after_inactivity_and_from_chat(app, clock) -> None:
    admin = await onboarded(app, "a1", "commune_admin")
    async with web_client(app) as client:
        await signed_in(client, admin)
        clock.advance(minutes=29)
        assert (await client.get("/web/bao-cao")).status == 200
        clock.advance(minutes=31)
        assert (await client.get("/web/bao-cao")).status == 401
        await signed_in(client, admin)
        await admin.text("/web")
        reply = await admin.choose("signout")
        assert "Đã đăng xuất 1 phiên web" in "\n".join(m.text for m in reply.messages)
        assert (await client.get("/web/")).status == 401


async def test_a_link_expires_after_ten_minutes(app, clock) -> None:
    admin = await onboarded(app, "a1", "commune_admin")
    link = await web_link(admin)
    clock.advance(minutes=10, seconds=1)
    async with web_client(app) as client:
        assert (await client.get(path_of(link))).status == 403


async def test_the_cookie_is_secure_behind_https(db_url, tmp_path, clock) -> None:
    app = await make_app(db_url, tmp_path, clock, web={"public_url": "https://bot.xa.vn"})
    try:
        admin = await onboarded(app, "a1", "commune_admin")
        link = await web_link(admin)
        assert link.startswith("https://bot.xa.vn/web/vao/")
        async with web_client(app) as client:
            first = await client.get(path_of(link), allow_redirects=False)
            assert "Secure" in first.headers["Set-Cookie"]
    finally:
        await app.close()


async def test_the_overview_counts_residents_not_staff_now_and_by_week(app) -> None:
    admin = await onboarded(app, "a1", "commune_admin")
    await onboarded(app, "r1", village="T01")
    await onboarded(app, "r2", village="T02")
    async with web_client(app) as client:
        html = await (await signed_in(client, admin)).text()
    assert 'data-k="registered">2<' in html  # the admin is not a resident
    html = re.sub(r' data-label="[^"]*"', "", html)  # the phone layout's column labels
    assert "<td>16/11</td><td>2</td>" in html  # this week (Monday 16/11), cumulative
    assert "<td>09/11</td><td>0</td>" in html


async def test_a_member_logs_a_visit_from_the_household_page(app) -> None:
    member = await onboarded(app, "m1", "member", village="T01", name="Anh Tùng")
    admin = await onboarded(app, "a1", "commune_admin")
    (home,) = await add_households(app, "T01", [("H015", "Nguyễn Văn An")])
    (away,) = await add_households(app, "T02", [("H001", "Trần Thị Bình")])
    async with web_client(app) as client:
        await signed_in(client, member)
        listing = await (await client.get("/web/ho?q=an")).text()
        assert "H015" in listing and "Nguyễn Văn An" in listing
        html = await (await client.get(f"/web/ho/{home}")).text()
        assert "Chưa có lần hỗ trợ nào" in html
        empty = await client.post(f"/web/ho/{home}/tham", data={"csrf": csrf_of(html)})
        assert "Chọn ít nhất một việc" in await empty.text()
        saved = await client.post(
            f"/web/ho/{home}/tham",
            data={"csrf": csrf_of(html), "dv": ["vneid_install", "scam_awareness"], "note": "ok"},
        )
        page = await saved.text()
        assert "Đã ghi lần hỗ trợ" in page and "Anh Tùng" in page and "Cài VNeID" in page
        assert (await client.get(f"/web/ho/{away}")).status == 403
        forged = await client.post(
            f"/web/ho/{away}/tham", data={"csrf": csrf_of(html), "dv": "vneid_install"}
        )
        assert forged.status == 403
    async with app.database.session() as session:
        visits = list(await session.scalars(select(SupportVisit)))
    assert [(v.household_id, v.services) for v in visits] == [
        (home, ["vneid_install", "scam_awareness"])
    ]
    assert ("visit.log", True) in await audit_actions(app)
    async with web_client(app) as client:  # an admin sees the history, logs nothing
        await signed_in(client, admin)
        html = await (await client.get(f"/web/ho/{home}")).text()
        assert "Anh Tùng" in html and "Ghi lần hỗ trợ mới" not in html


async def test_an_admin_can_stop_a_broadcast_going_out(app) -> None:
    admin = await onboarded(app, "a1", "commune_admin")
    for n in range(3):
        await onboarded(app, f"r{n}", village="T02")
    async with web_client(app) as client:
        html = await (await signed_in(client, admin)).text()
        preview = await client.post(
            "/web/thong-bao/xem-truoc",
            data={"csrf": csrf_of(html), "text": "Họp thôn tối nay", "v": "T02"},
        )
        text = await preview.text()
        assert "Qua Máy tính: 3 tài khoản" in text
        going = await client.post(
            "/web/thong-bao/gui",
            data={"csrf": csrf_of(text), "text": "Họp thôn tối nay", "villages": "T02"},
        )
        assert "Đang gửi" in await going.text()
        stopped = await client.post(f"{going.url.path}/dung", data={"csrf": csrf_of(text)})
        assert "Đã dừng" in await stopped.text()
    assert ("broadcast.confirm", True) in await audit_actions(app)
    assert ("broadcast.cancel", True) in await audit_actions(app)
    assert not [r for r in await queued(app, kind="broadcast") if r.status == "pending"]


async def test_what_does_not_exist_is_a_404_for_an_admin_and_a_403_for_a_member(app) -> None:
    admin = await onboarded(app, "a1", "commune_admin")
    async with web_client(app) as client:
        await signed_in(client, admin)
        unknown = await client.get("/web/thon/XX")
        assert unknown.status == 404 and "Không có thôn này" in await unknown.text()
        assert (await client.get("/web/thon/T02")).status == 200
        assert (await client.get("/web/ho/99999")).status == 404
        assert (await client.get("/web/thong-bao/99999")).status == 404
        assert (await client.get("/web/bao-cao/tai?ky=m&dang=csv&thon=XX")).status == 404
    member = await onboarded(app, "m1", "member", village="T01")
    async with web_client(app) as client:  # the same answer for another and an unknown village
        await signed_in(client, member)
        for path in ("/web/thon/XX", "/web/thon/T02", "/web/ho/99999"):
            refused = await client.get(path)
            assert refused.status == 403, path
            assert "Không có thôn này" not in await refused.text()
