"""The web dashboard in a real browser (Debian's Chromium through Selenium): what an
officer and a team member do with it, end to end against the console chat.

Selenium blocks, so every browser call runs in a worker thread while this test's event
loop serves the pages. One browser for the module; screenshots of every page go to
tests/artifacts/web/ (look at them). Without Chromium the tests skip, unless
HOCVUSO_REQUIRE_BROWSER=1 (CI) makes that a failure.
"""

from __future__ import annotations

import asyncio
import csv
import io
import os
import shutil
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestServer

from bot.team import broadcast_service
from bot.web import build_web_app
from tests.support import Chat, make_app
from tests.team_support import add_households, onboarded, queued, texts_of
from tests.web_support import path_of, web_link

ARTIFACTS = Path(__file__).parent / "artifacts" / "web"
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMEDRIVER = shutil.which("chromedriver")


def _browser_or_skip() -> None:
    missing = []
    if CHROMIUM is None or CHROMEDRIVER is None:
        missing.append("chromium and chromium-driver (apt install chromium chromium-driver)")
    try:
        import selenium  # noqa: F401
    except ImportError:
        missing.append("selenium (pip install -e '.[test]')")
    if missing:
        reason = "browser tests need " + " and ".join(missing)
        if os.environ.get("HOCVUSO_REQUIRE_BROWSER") == "1":
            pytest.fail(reason + " (HOCVUSO_REQUIRE_BROWSER=1)")
        pytest.skip(reason)


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    _browser_or_skip()
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    downloads = tmp_path_factory.mktemp("downloads")
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--lang=vi"):
        options.add_argument(flag)
    options.add_argument("--window-size=1280,900")
    options.add_experimental_option(
        "prefs",
        {"download.default_directory": str(downloads), "download.prompt_for_download": False},
    )
    driver = webdriver.Chrome(service=Service(executable_path=CHROMEDRIVER), options=options)
    driver.downloads = downloads
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    try:
        yield driver
    finally:
        driver.quit()


class Web:
    """The browser, driven from async tests."""

    def __init__(self, driver: Any, base: str) -> None:
        self.driver, self.base = driver, base

    async def run(self, fn: Any, *args: Any) -> Any:
        return await asyncio.to_thread(fn, *args)

    async def open(self, path: str) -> str:
        await self.run(self.driver.get, self.base + path)
        return await self.text()

    async def text(self) -> str:
        from selenium.common.exceptions import StaleElementReferenceException

        def read() -> str:
            for _ in range(20):  # a form post may still be loading the next page
                try:
                    return self.driver.find_element("tag name", "body").text
                except StaleElementReferenceException:
                    time.sleep(0.05)
            raise AssertionError("the page kept changing")

        return await self.run(read)

    async def shot(self, name: str, width: int = 1280) -> None:
        def take() -> None:
            self.driver.set_window_size(width, 900)
            height = self.driver.execute_script("return document.documentElement.scrollHeight")
            self.driver.set_window_size(width, min(max(height + 120, 600), 4000))
            self.driver.save_screenshot(str(ARTIFACTS / f"{name}.png"))
            self.driver.set_window_size(1280, 900)

        await self.run(take)

    async def screen(self, name: str, width: int, height: int) -> int:
        """A screenshot of what a screen of that size shows; returns how many pixels
        the page or a table's scroll box is wider than it shows (0: nothing hidden
        sideways behind a scrollbar)."""

        def take() -> int:
            self.driver.set_window_size(width, height)
            self.driver.save_screenshot(str(ARTIFACTS / f"{name}.png"))
            wider = self.driver.execute_script(
                "const boxes = [...document.querySelectorAll('.table-wrap')];"
                "return Math.max(document.documentElement.scrollWidth - window.innerWidth,"
                " ...boxes.map(b => b.scrollWidth - b.clientWidth));"
            )
            self.driver.set_window_size(1280, 900)
            return int(wider)

        return await self.run(take)

    async def fill(self, css: str, value: str) -> None:
        await self.run(lambda: self.driver.find_element("css selector", css).send_keys(value))

    async def click(self, css: str) -> None:
        """Click, and when that leaves the page, wait for the next one."""

        def go() -> None:
            element = self.driver.find_element("css selector", css)
            submits = element.get_attribute("type") == "submit"
            element.click()
            deadline = time.monotonic() + 10
            while submits and time.monotonic() < deadline:
                try:
                    element.is_enabled()  # raises once the old page is gone
                except Exception:
                    return
                time.sleep(0.05)

        await self.run(go)

    async def cell(self, css: str) -> str:
        return await self.run(lambda: self.driver.find_element("css selector", css).text)

    async def sign_in(self, chat: Chat) -> str:
        await self.run(self.driver.delete_all_cookies)
        link = await web_link(chat)
        await self.open(path_of(link))
        return link


@pytest.fixture
async def site(sqlite_url, tmp_path, clock, browser):
    app = await make_app(sqlite_url, tmp_path, clock)
    services = app.engine.services
    server = TestServer(
        build_web_app(app.database, [], texts=services.texts, clock=clock, services=services)
    )
    await server.start_server()
    try:
        yield app, Web(browser, str(server.make_url("")).rstrip("/"))
    finally:
        await server.close()
        await app.close()


async def _commune(app) -> dict[str, Any]:
    people = {
        "admin": await onboarded(app, "a1", "commune_admin", name="Chủ tịch Hòa"),
        "member": await onboarded(app, "m1", "member", village="T01", name="Anh Tùng"),
        "lan": await onboarded(app, "r1", village="T01", name="Bà Lan"),
        "minh": await onboarded(app, "r2", village="T02", name="Ông Minh"),
    }
    lesson = next(iter(app.engine.services.curriculum.lessons))
    await people["lan"].read_lesson(lesson)
    await people["lan"].text("/hoicanbo")
    await people["lan"].text("Cháu ơi, cài VNeID ở đâu?")
    (home,) = await add_households(app, "T01", [("H015", "Nguyễn Văn An")])
    people["home"] = home
    return people


ADMIN_PAGES = {
    "tong-quan": "/web/",
    "thon": "/web/thon",
    "thon-T01": "/web/thon/T01",
    "ho": "/web/ho",
    "ho-T01": "/web/ho?thon=T01",
    "cau-hoi": "/web/cau-hoi",
    "thong-bao": "/web/thong-bao",
    "bao-cao": "/web/bao-cao",
    "nhat-ky": "/web/nhat-ky",
}
MEMBER_PAGES = {"tong-quan": "/web/", "thon": "/web/thon", "ho": "/web/ho",
                "ho-H015": "/web/ho/{home}", "cau-hoi": "/web/cau-hoi",
                "bao-cao": "/web/bao-cao"}  # fmt: skip


async def test_every_page_opens_for_an_admin_and_a_member(site) -> None:
    app, web = site
    people = await _commune(app)
    link = await web.sign_in(people["admin"])
    assert "Tổng quan" in await web.text()
    for name, path in ADMIN_PAGES.items():
        text = await web.open(path)
        assert "Đăng xuất" in text and "Traceback" not in text, name
        await web.shot(f"admin-{name}")
    await web.shot("admin-tong-quan-phone", width=390)
    for name, path in ADMIN_PAGES.items():  # a 412 px phone and a 1366 px desk screen
        await web.open(path)
        assert await web.screen(f"admin-{name}-412x915", 412, 915) <= 0, name
        assert await web.screen(f"admin-{name}-1366x768", 1366, 768) <= 0, name
    await web.run(web.driver.delete_all_cookies)
    replay = await web.open(path_of(link))  # the used link, again
    assert "Liên kết không dùng được" in replay
    await web.shot("link-used")

    await web.sign_in(people["member"])
    for name, path in MEMBER_PAGES.items():
        text = await web.open(path.format(home=people["home"]))
        assert "Đăng xuất" in text, name
        assert "Nhật ký" not in text and "Thông báo" not in text  # not in a member's menu
        await web.shot(f"member-{name}", width=390)
        assert await web.screen(f"member-{name}-412x915", 412, 915) <= 0, name
    refused = await web.open("/web/thon/T02")
    assert "Không có quyền xem trang này" in refused
    await web.shot("member-thon-khac")


async def test_an_answer_from_the_page_reaches_the_resident(site) -> None:
    app, web = site
    people = await _commune(app)
    await web.sign_in(people["member"])
    assert "cài VNeID ở đâu" in await web.open("/web/cau-hoi")
    await web.fill("textarea[name=answer]", "Bà mang CCCD ra nhà văn hóa thôn sáng thứ Bảy nhé.")
    await web.click(".question button[type=submit]")
    assert "Đã gửi câu trả lời" in await web.text()
    relayed = texts_of(await queued(app, people["lan"]))
    assert any("sáng thứ Bảy" in text for text in relayed)  # waits in Bà Lan's console


async def test_a_form_without_its_csrf_token_is_refused(site) -> None:
    app, web = site
    people = await _commune(app)
    await web.sign_in(people["member"])
    await web.open("/web/cau-hoi")
    await web.run(
        web.driver.execute_script,
        "document.querySelectorAll('input[name=csrf]').forEach(e => e.remove())",
    )
    await web.fill("textarea[name=answer]", "Trả lời giả mạo")
    await web.click(".question button[type=submit]")
    assert "Biểu mẫu không hợp lệ" in await web.text()
    await web.shot("csrf-refused")
    assert not any("giả mạo" in t for t in texts_of(await queued(app, people["lan"])))


async def test_a_broadcast_goes_out_and_its_tally_is_shown(site, clock) -> None:
    app, web = site
    people = await _commune(app)
    await web.sign_in(people["admin"])
    await web.open("/web/thong-bao")
    await web.fill("#text", "Chiều thứ Bảy có lớp cài VNeID tại nhà văn hóa.")
    await web.click("input[name=v][value=T01]")
    await web.click("form.compose button[type=submit]")
    preview = await web.text()
    assert "Xem trước thông báo" in preview and "Qua Máy tính: 3 tài khoản" in preview
    await web.shot("admin-thong-bao-xem-truoc")
    await web.click("form.inline button[type=submit]")
    assert "Đang gửi" in await web.text()
    await web.shot("admin-thong-bao-dang-gui")
    services = app.engine.services
    await broadcast_service.step(app.database, services.texts, clock())  # the worker's round
    await web.run(web.driver.refresh)
    assert "Đã xong" in await web.text()
    await web.shot("admin-thong-bao-xong")
    got = texts_of(await queued(app, people["lan"], kind="broadcast"))
    assert any("lớp cài VNeID" in t for t in got)
    assert not texts_of(await queued(app, people["minh"], kind="broadcast"))  # T02: not chosen


async def test_a_downloaded_report_says_what_the_page_says(site) -> None:
    app, web = site
    people = await _commune(app)
    await web.sign_in(people["admin"])
    await web.open("/web/thon")
    shown = {
        code: await web.cell(f"tr[data-code={code}] td[data-k=registered]")
        for code in ("T01", "T02")
    }
    reached = await web.cell("tr[data-code=T01] td[data-k=households_reached]")
    await web.open("/web/bao-cao")
    await web.run(
        lambda: web.driver.find_element("css selector", "#dang option[value=csv]").click()
    )
    await web.click("form.compose button[type=submit]")
    found = await web.run(_downloaded, web.driver.downloads)
    rows = {r["village_code"]: r for r in csv.DictReader(io.StringIO(found.read_text("utf-8-sig")))}
    assert {code: rows[code]["residents_registered"] for code in shown} == shown
    assert shown["T01"] == "1" and shown["T02"] == "1"
    assert reached.split(" / ")[0] == rows["T01"]["households_reached"]


def _downloaded(folder: Path, timeout: float = 15.0) -> Path:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        done = [p for p in folder.glob("*.csv") if p.stat().st_size]
        if done and not list(folder.glob("*.crdownload")):
            return done[0]
        time.sleep(0.1)
    raise AssertionError(f"no CSV downloaded into {folder}")


async def test_the_province_page_fits_a_phone_and_a_desk_screen(site) -> None:
    from storage.registry import sync_commune
    from tests.test_province import commune_file

    app, web = site
    async with app.database.transaction() as session:
        for code, name in (("phu-my", "Phường Phú Mỹ"), ("an-binh", "Xã An Bình")):
            await sync_commune(session, commune_file(code, name, "thôn", [("A1", 120)]))
    officer = await onboarded(app, "p1", "province_officer", name="Cán bộ Tỉnh")
    await onboarded(app, "r1", village="T01", name="Bà Lan")
    await web.sign_in(officer)
    text = await web.text()
    assert "Phường Phú Mỹ" in text and "Xã An Bình" in text and "Toàn tỉnh" in text
    assert "Bà Lan" not in text and "Hộ gia đình" not in text  # nothing personal, no menu
    await web.shot("province-tinh")
    assert await web.screen("province-tinh-412x915", 412, 915) <= 0
    assert await web.screen("province-tinh-1366x768", 1366, 768) <= 0
    refused = await web.open("/web/ho")
    assert "Không có quyền xem trang này" in refused
