"""The dashboard's "Công dân số" (SQLite and PostgreSQL): households surveyed through the
console show on the overview and the village page with exactly the figures, targets and
progress of the CSV report for the same reporting year; the village page says what is
still missing before the deadline, and Báo cáo what the scheduler sends and sent."""

from __future__ import annotations

import csv
import io
import re
from datetime import datetime

import pytest
from sqlalchemy import update

from bot.reports import periods
from bot.reports import targets as tg
from bot.reports.model import ratio
from bot.scheduling import reports as scheduled
from bot.webui.render import number
from config.commune import TargetInfo
from storage.delivery_models import OutboxMessage
from tests.support import make_app
from tests.team_support import add_households, household_id, onboarded
from tests.test_digital_status import survey
from tests.web_support import signed_in, web_client

# The page's rows (`data-k`) and the CSV column holding each row's denominator.
DENOMINATOR = {
    "households_surveyed": "households_total",
    "households_one_proficient_team": "households_total",
    "households_one_proficient_bot": "households_total",
    "households_one_proficient": "households_total",
    "adults_smartphone": "adults_total",
    "adults_vneid_level2": "adults_total",
    "adults_payment_account": "adults_total",
    "adults_used_public_service": "adults_total",
    "adults_health_book": "adults_total",
    "residents_course_self": "residents_registered",
    "residents_platform_certified_self": "residents_registered",
}
SOURCE = {key: "Tổ" for key in DENOMINATOR} | {
    "households_one_proficient_bot": "Chatbot",
    "households_one_proficient": "Tổ hoặc chatbot (mỗi hộ một lần)",
    "residents_course_self": "Người dân tự báo",
    "residents_platform_certified_self": "Người dân tự báo",
}
TARGETED = ("adults_smartphone", "households_one_proficient")


@pytest.fixture
async def app(db_url, tmp_path, clock):
    built = await make_app(db_url, tmp_path, clock)
    commune_code = built.engine.services.communes.only.code
    saved = tg.targets_for(commune_code)
    year = periods.current_report_year(clock.now)
    tg.register(
        commune_code,
        [
            TargetInfo(indicator="adults_smartphone", year=year, percent=80),
            TargetInfo(indicator="adults_smartphone", year=year, percent=50, village="T02"),
            TargetInfo(indicator="households_one_proficient", year=year + 4, percent=40),
        ],
    )
    yield built
    tg.register(commune_code, saved.entries)
    await built.close()


def shown_rows(html: str) -> dict[str, list[str]]:
    """The Công dân số table as a person reads it: each row's cells, tags removed."""
    block = html.split('id="h-cds"', 1)[1].split("</section>", 1)[0]
    rows = {}
    for key, body in re.findall(r'<tr data-k="([a-z0-9_]+)">(.*?)</tr>', block, re.S):
        cells = re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", body, re.S)
        rows[key] = [" ".join(re.sub(r"<[^>]+>", " ", c).split()) for c in cells]
    return rows


def expected(count: int, whole: int, target: tg.Target | None) -> list[str]:
    """Count / denominator, %, target, progress, as the report computes them."""
    pct = ratio(count, whole)
    shown_pct = f"{number(pct)}%" if pct is not None else "–"
    if target is None:
        return [f"{number(count)} / {number(whole)}", shown_pct, "–", "–"]
    progress = target.progress(pct)
    return [
        f"{number(count)} / {number(whole)}",
        shown_pct,
        f"{number(target.percent)}% năm {target.year}",
        f"{number(progress)}%" if progress is not None else "chưa có số liệu",
    ]


async def surveyed(app) -> None:
    """Two households of Thôn Đông (one surveyed), one of Thôn Tây (surveyed)."""
    await add_households(app, "T01", [("H001", None), ("H002", None)])
    await add_households(app, "T02", [("H001", None)])
    east = await onboarded(app, "m1", "member", village="T01")
    south = await onboarded(app, "m2", "member", village="T02")
    await survey(east, await household_id(app, "T01", "H001"), ["4", "3", "2", "1", "1", "0"], True)
    await survey(
        south, await household_id(app, "T02", "H001"), ["2", "2", "1", "1", "0", "0"], False
    )


async def csv_rows(client) -> dict[str, dict[str, str]]:
    """The CSV report of the current reporting year, downloaded from Báo cáo."""
    response = await client.get("/web/bao-cao/tai?ky=y0&dang=csv")
    assert response.status == 200
    text = (await response.read()).decode("utf-8-sig")
    return {r["village_code"]: r for r in csv.DictReader(io.StringIO(text))}


async def test_the_overview_and_village_pages_show_the_csv_figures_with_targets(app, clock):
    await surveyed(app)
    admin = await onboarded(app, "a1", "commune_admin")
    year = periods.current_report_year(clock.now)
    targets = tg.targets_for(app.engine.services.communes.only.code)
    async with web_client(app) as client:
        await signed_in(client, admin)
        rows = await csv_rows(client)
        overview = shown_rows(await (await client.get("/web/")).text())
        villages = {code: shown_rows(await (await client.get(f"/web/thon/{code}")).text())
                    for code in ("T01", "T02")}  # fmt: skip

    assert set(overview) == set(DENOMINATOR)
    # Households and adults count in one village each: the commune is the villages' sum.
    for key, whole_key in DENOMINATOR.items():
        count = sum(int(r[key]) for r in rows.values())
        whole = sum(int(r[whole_key]) for r in rows.values())
        target = targets.of(key, year) if key in TARGETED else None
        assert overview[key][0].endswith(f"Nguồn: {SOURCE[key]}"), key
        assert overview[key][1:] == expected(count, whole, target), key
        for code, shown in villages.items():
            row = rows[code]
            target = targets.of(key, year, code) if key in TARGETED else None
            if target is not None:  # the CSV names the same target, the village's own first
                assert float(row[f"{key}_target"]) == target.percent
            assert shown[key][1:] == expected(int(row[key]), int(row[whole_key]), target), (
                code,
                key,
            )

    # What a leader would read, spelled out once: 3 of 4 adults with a smartphone in
    # Thôn Đông against the commune's 80%; Thôn Tây's own 50% wins there.
    surveyed_of = f"2 / {number(sum(int(r['households_total']) for r in rows.values()))}"
    assert overview["households_surveyed"][1] == surveyed_of
    east = villages["T01"]
    assert east["adults_smartphone"] == [
        "Người trưởng thành có điện thoại thông minh Nguồn: Tổ",
        "3 / 4",
        "75,0%",
        "80,0% năm 2026",
        "93,8%",
    ]
    assert villages["T02"]["adults_smartphone"][1:] == [
        "2 / 2",
        "100,0%",
        "50,0% năm 2026",
        "200,0%",
    ]
    # Team and chatbot stay on their own rows; the plan's target is on the combined one.
    east_total = number(int(rows["T01"]["households_total"]))
    assert east["households_one_proficient_team"][:2] == [
        "Hộ có ít nhất một người thành thạo 5 kỹ năng số cơ bản (Tổ) Nguồn: Tổ",
        f"1 / {east_total}",
    ]
    assert east["households_one_proficient_bot"][1:] == [f"0 / {east_total}", "0,0%", "–", "–"]
    assert east["households_one_proficient"][3] == "40,0% năm 2030"


async def test_the_village_page_says_what_is_missing_before_the_deadline(app):
    await surveyed(app)
    admin = await onboarded(app, "a1", "commune_admin")
    async with web_client(app) as client:
        await signed_in(client, admin)
        pages = {code: await (await client.get(f"/web/thon/{code}")).text()
                 for code in ("T01", "T03")}  # fmt: skip
    east, quiet = (p.split('id="h-thieu"', 1)[1].split("</section>", 1)[0] for p in pages.values())
    # Thôn Đông has 312 households in the commune file; one is surveyed this year.
    assert "311 / 312 hộ chưa được cập nhật phiếu tình trạng số" in east
    assert "Chưa có hoạt động" not in east  # its team surveyed today
    assert "198 / 198 hộ chưa được cập nhật" in quiet
    assert "Chưa có hoạt động trong 2 tuần qua: " in quiet  # Thôn Nam's team did nothing yet


async def test_the_reports_page_shows_the_next_and_the_last_scheduled_report(
    app, clock, monkeypatch
):
    monkeypatch.setattr(scheduled, "_annual_report_builder", None)  # the message alone
    admin = await onboarded(app, "a1", "commune_admin")
    async with web_client(app) as client:
        await signed_in(client, admin)
        before = await (await client.get("/web/bao-cao")).text()
        assert "Báo cáo năm 2026</th><td>08:00 ngày 10/12/2026" in before
        assert (
            "Nhắc hạn nộp báo cáo năm 2026 (trước hạn 3 ngày)</th><td>08:00 ngày 12/12/2026"
            in before
        )
        assert "Chưa có báo cáo định kỳ nào được gửi." in before

        clock.now = datetime(2026, 12, 10, 8, 15, tzinfo=periods.TZ)
        assert (await scheduled.run_report_jobs(app, clock.now)).annual == 1
        await signed_in(client, admin)  # three weeks later: the first session has expired
        queued = await (await client.get("/web/bao-cao")).text()
        assert "Chưa có báo cáo định kỳ nào được gửi." in queued  # queued is not sent
        async with app.database.transaction() as session:  # as the outbox worker marks it
            await session.execute(
                update(OutboxMessage)
                .where(OutboxMessage.kind == "report")
                .values(status="sent", sent_at=clock.now)
            )
        after = await (await client.get("/web/bao-cao")).text()
    assert "Lần gửi gần nhất: Báo cáo năm 2026, lúc 08:15 ngày 10/12/2026." in after
    assert "Báo cáo năm 2027</th><td>08:00 ngày 10/12/2027" in after  # the next one
    assert "Nhắc hạn nộp báo cáo năm 2026 (trước hạn 3 ngày)</th><td>08:00 ngày 12/12/2026" in after
