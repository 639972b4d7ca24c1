"""The dashboard's pages. Each handler reads through the read model or calls an
operation of `bot.operations` (the same ones the chat screens call) and renders a
template; none of them counts or writes on its own."""

from __future__ import annotations

import asyncio
from typing import Any

from aiohttp import web

from bot.operations import NotAllowed, NotFound, web_access
from bot.operations import broadcasts as bc_ops
from bot.operations import questions as q_ops
from bot.operations import reports as report_ops
from bot.operations import visits as visit_ops
from bot.reports.exports import CONTENT_TYPES, report_filename
from bot.team import broadcast_service
from bot.team import questions as question_service
from bot.webui import audit_view, views
from bot.webui.auth import Page
from bot.webui.render import render
from bot.webui.svg import trend_svg
from storage import repo, team_repo, web_repo
from storage.models import Village
from storage.team_models import VISIT_SERVICES, Household

PERIOD_LABELS = {
    "m": "Tháng báo cáo hiện tại",
    "q": "Quý hiện tại",
    "y0": "Năm báo cáo hiện tại",
    "y1": "Năm báo cáo trước",
    "all": "Từ khi bắt đầu",
}
FORMAT_LABELS = {"xlsx": "Excel (.xlsx)", "docx": "Word (.docx)", "pdf": "PDF", "csv": "CSV"}


async def _scope(page: Page, village_code: str | None = None) -> report_ops.Scope:
    async with page.database.session() as session:
        return await report_ops.scope_for(session, page.actor, page.commune, village_code)


async def _village(page: Page, code: str | None) -> Village | None:
    if code is None:
        return None
    async with page.database.session() as session:
        return await team_repo.village_by_code(session, page.commune.id, code)


async def overview(page: Page) -> web.StreamResponse:
    scope = await _scope(page)
    village = await _village(page, scope.village_code)
    # Separate connections: SQLite runs each statement on one core.
    shown, digital = await asyncio.gather(
        views.overview(page.database, page.services, page.commune, village, page.now),
        views.digital_block(page.database, page.services, page.commune, village, page.now),
    )
    return render(
        page,
        "overview.html",
        "tong-quan",
        scope=scope,
        period=shown.period,
        previous=shown.previous,
        now=shown.now,
        prev=shown.prev,
        funnel=views.funnel(shown.now),
        digital=digital,
        behind=views.furthest_behind(shown.villages) if village is None else [],
        weeks=shown.weeks,
        trend=trend_svg(shown.weeks, "Người dân đăng ký (lũy kế) và đăng ký mới theo tuần"),
    )


async def villages(page: Page) -> web.StreamResponse:
    scope = await _scope(page)
    if scope.village_code is not None:  # a team member has one village: show it
        raise web.HTTPSeeOther(f"/web/thon/{scope.village_code}")
    table = await views.villages_table(page.database, page.services, page.commune, page.now)
    return render(page, "villages.html", "thon", scope=scope, table=table)


async def village(page: Page) -> web.StreamResponse:
    scope = await _scope(page, page.request.match_info["code"])
    current, _ = views.month_periods(page.now)
    place = await _village(page, scope.village_code)
    assert place is not None  # scope_for found it
    report, digital, behind = await asyncio.gather(
        views.report(page.database, page.services, page.commune, scope, current, page.now),
        views.digital_block(page.database, page.services, page.commune, place, page.now),
        views.village_behind(page.database, page.services, page.commune, place, page.now),
    )
    row = next((v for v in report.villages if v.code == scope.village_code), None)
    teams = [t for t in report.teams if t.village_code == scope.village_code]
    members = [m for m in report.members if m.team_code in {t.code for t in teams}]
    return render(
        page,
        "village.html",
        "thon",
        scope=scope,
        period=current,
        report=report,
        row=row,
        teams=teams,
        members=members,
        show_names=scope.include_names,
        digital=digital,
        behind=behind,
        idle_weeks=page.services.scheduler.idle_weeks,
    )


async def questions(page: Page) -> web.StreamResponse:
    async with page.database.session() as session:
        if not page.actor.may(page.commune, q_ops.ACTION):
            raise NotAllowed(q_ops.ACTION)
        found = await q_ops.answerable(session, page.actor, page.commune, limit=50)
        items = []
        for q in found:
            name, village_name = await question_service.asker_labels(
                session, page.services.texts, q.person_id
            )
            items.append((q, name, village_name))
    return render(page, "questions.html", "cau-hoi", items=items, done=page.request.query.get("da"))


async def answer(page: Page) -> web.StreamResponse:
    question_id = int(page.request.match_info["id"])
    try:
        async with page.database.transaction() as session:
            await q_ops.answer_question(
                session,
                page.actor,
                page.commune,
                question_id=question_id,
                text=str(page.form.get("answer", "")),
                now=page.now,
                texts=page.services.texts,
            )
    except q_ops.AlreadyAnswered:
        raise web.HTTPSeeOther("/web/cau-hoi?da=truoc") from None
    except ValueError:
        raise web.HTTPSeeOther("/web/cau-hoi?da=trong") from None
    raise web.HTTPSeeOther("/web/cau-hoi?da=gui")


def _draft_fields(page: Page) -> dict[str, Any]:
    """The draft as the form carries it (the preview keeps it in hidden fields)."""
    return {
        "text": str(page.form.get("text", "")),
        "image": str(page.form.get("image", "")).strip() or None,
        "village_codes": [c for c in str(page.form.get("villages", "")).split(",") if c],
    }


async def _villages(page: Page) -> list[Village]:
    async with page.database.session() as session:
        return await repo.villages(session, page.commune.id)


async def broadcasts(page: Page) -> web.StreamResponse:
    async with page.database.session() as session:
        recent = await bc_ops.recent(session, page.actor, page.commune)
        tallies = [(b, await broadcast_service.progress(session, b)) for b in recent]
    return render(
        page,
        "broadcasts.html",
        "thong-bao",
        recent=tallies,
        villages=await _villages(page),
        max_text=bc_ops.MAX_TEXT,
        error=None,
        draft={},
    )


async def preview(page: Page) -> web.StreamResponse:
    draft = _draft_fields(page)
    draft["village_codes"] = [str(v) for v in page.form.getall("v", [])]
    try:
        async with page.database.session() as session:
            shown = await bc_ops.prepare(session, page.actor, page.commune, **_env(page, draft))
    except bc_ops.BadDraft as exc:
        async with page.database.session() as session:
            recent = await bc_ops.recent(session, page.actor, page.commune)
            tallies = [(b, await broadcast_service.progress(session, b)) for b in recent]
        return render(
            page,
            "broadcasts.html",
            "thong-bao",
            recent=tallies,
            villages=await _villages(page),
            max_text=bc_ops.MAX_TEXT,
            error=str(exc),
            draft=draft,
            status=400,
        )
    settings = page.services.scheduler
    return render(
        page,
        "broadcast_preview.html",
        "thong-bao",
        preview=shown,
        draft=draft,
        codes=",".join(draft["village_codes"]),
        quiet_start=settings.quiet_start,
        quiet_end=settings.quiet_end,
    )


def _env(page: Page, draft: dict[str, Any]) -> dict[str, Any]:
    return {
        **draft,
        "now": page.now,
        "texts": page.services.texts,
        "scheduler": page.services.scheduler,
        "tz": page.services.tz,
    }


async def send(page: Page) -> web.StreamResponse:
    draft = _draft_fields(page)
    try:
        async with page.database.transaction() as session:
            broadcast, _accounts = await bc_ops.confirm(
                session, page.actor, page.commune, **_env(page, draft)
            )
    except bc_ops.BadDraft:
        raise web.HTTPSeeOther("/web/thong-bao") from None
    raise web.HTTPSeeOther(f"/web/thong-bao/{broadcast.id}")


async def broadcast(page: Page) -> web.StreamResponse:
    async with page.database.session() as session:
        found = await bc_ops.of_commune(
            session, page.actor, page.commune, int(page.request.match_info["id"])
        )
        state = await broadcast_service.progress(session, found)
    return render(page, "broadcast.html", "thong-bao", broadcast=found, state=state)


async def stop(page: Page) -> web.StreamResponse:
    broadcast_id = int(page.request.match_info["id"])
    async with page.database.transaction() as session:
        await bc_ops.cancel(
            session, page.actor, page.commune, broadcast_id=broadcast_id, now=page.now
        )
    raise web.HTTPSeeOther(f"/web/thong-bao/{broadcast_id}")


async def reports(page: Page) -> web.StreamResponse:
    scope = await _scope(page)
    admin = scope.village_code is None
    return render(
        page,
        "reports.html",
        "bao-cao",
        scope=scope,
        villages=await _villages(page) if admin else [],
        periods=PERIOD_LABELS,
        formats=FORMAT_LABELS,
        schedule=await views.schedule_status(page.database, page.services, page.now),
    )


async def download(page: Page) -> web.StreamResponse:
    query = page.request.query
    code, fmt = query.get("ky", "m"), query.get("dang", "xlsx")
    village_code = query.get("thon") or None
    scope = await _scope(page, village_code)
    async with page.database.session() as session:
        period = await report_ops.resolve_period(session, page.commune, code, page.now)
    if period is None or fmt not in report_ops.FORMAT_CODES:
        raise web.HTTPSeeOther("/web/bao-cao")
    export = await report_ops.request_report(
        page.database,
        page.actor.audit_name,
        page.commune,
        scope,
        period,
        fmt,
        curriculum=page.services.curriculum,
        now=page.now,
    )
    from bot.web import _attachment  # the same header as the chat's download links

    name = report_filename(page.commune.code, period, fmt, scope.village_code)
    return web.Response(
        body=export.data,
        headers={
            "Content-Type": CONTENT_TYPES[fmt],
            "Content-Disposition": _attachment(name),
            "Cache-Control": "no-store",
            "X-Content-Type-Options": "nosniff",
        },
    )


async def audit_log(page: Page) -> web.StreamResponse:
    if not page.actor.may(page.commune, "admin_tools"):
        raise NotAllowed("admin_tools")
    action = page.request.query.get("hanh_dong", "").strip()[:48] or None
    actor = page.request.query.get("nguoi", "").strip()[:64] or None
    async with page.database.session() as session:
        entries = await web_repo.audit_entries(session, page.commune.id, action=action, actor=actor)
        ids = {
            int(e.actor.split(":")[1])
            for e in entries
            if e.actor.startswith("person:") and e.actor[7:].isdigit()
        }
        names = await web_repo.display_names(session, ids)
    return render(
        page,
        "audit.html",
        "nhat-ky",
        entries=entries,
        names=names,
        action=action or "",
        actor=actor or "",
        actions=audit_view.action_choices(page.services.texts),
    )


async def sign_out(page: Page) -> web.StreamResponse:
    async with page.database.transaction() as session:
        await web_access.sign_out(session, page.actor, page.commune, page.now)
    response = web.HTTPSeeOther("/web/da-thoat")
    response.del_cookie("hvs_web", path="/web")
    raise response


HOUSEHOLDS_PER_PAGE = 30


async def households(page: Page) -> web.StreamResponse:
    """A village's households: search by code or head's name, open one."""
    query = page.request.query
    scope = await _scope(page, query.get("thon") or None)
    if scope.village_code is None:  # an admin picks the village first
        return render(page, "households.html", "ho", scope=scope, village=None,
                      villages=await _villages(page), rows=[], total=0, q="", page_no=0,
                      pages=0)  # fmt: skip
    search = query.get("q", "").strip()[:80]
    page_no = int(query["trang"]) if query.get("trang", "").isdigit() else 0
    async with page.database.session() as session:
        village = await team_repo.village_by_code(session, page.commune.id, scope.village_code)
        assert village is not None  # scope_for found it
        rows, total = await team_repo.households_page(
            session, village.id, offset=page_no * HOUSEHOLDS_PER_PAGE,
            limit=HOUSEHOLDS_PER_PAGE, query=search or None,
        )  # fmt: skip
    return render(
        page, "households.html", "ho", scope=scope, village=village, villages=[], rows=rows,
        total=total, q=search, page_no=page_no, pages=-(-total // HOUSEHOLDS_PER_PAGE),
    )  # fmt: skip


async def _household(page: Page, session: Any) -> tuple[Household, Village]:
    household = await session.get(Household, int(page.request.match_info["id"]))
    village = await session.get(Village, household.village_id) if household else None
    if household is None or village is None:
        if page.actor.may(page.commune, "admin_tools"):  # sees every village's households
            raise NotFound("village_view", "household")
        raise NotAllowed("village_view")
    await report_ops.scope_for(session, page.actor, page.commune, village.code)
    return household, village


async def household(page: Page) -> web.StreamResponse:
    async with page.database.session() as session:
        home, village = await _household(page, session)
        visits = await web_repo.household_visits(session, home.id)
        names = await web_repo.display_names(session, {v.member_person_id for v in visits})
    return render(
        page, "household.html", "ho", household=home, village=village, visits=visits,
        names=names, may_log=page.actor.may(page.commune, visit_ops.ACTION, village),
        services=VISIT_SERVICES, done=page.request.query.get("da"),
    )  # fmt: skip


async def add_visit(page: Page) -> web.StreamResponse:
    household_id = int(page.request.match_info["id"])
    try:
        async with page.database.transaction() as session:
            await visit_ops.log_visit(
                session, page.actor, page.commune, household_id=household_id,
                services=[str(s) for s in page.form.getall("dv", [])],
                note=str(page.form.get("note", "")), now=page.now,
                texts=page.services.texts, tz=page.services.tz,
            )  # fmt: skip
    except visit_ops.BadVisit as exc:
        raise web.HTTPSeeOther(f"/web/ho/{household_id}?da=thieu-{exc}") from None
    raise web.HTTPSeeOther(f"/web/ho/{household_id}?da=ghi")
