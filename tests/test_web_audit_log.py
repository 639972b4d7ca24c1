"""The dashboard's Nhật ký speaks Vietnamese: every action code the code base audits has
a label, every detail field too, and the page shows neither codes nor Python values."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from bot.core.roles import MATRIX
from bot.core.texts import Texts
from bot.reports.exports import EXPORT_ACTION
from bot.webui import audit_view
from tests.support import make_app
from tests.team_support import onboarded
from tests.web_support import signed_in, web_client

BOT = Path(__file__).resolve().parents[1] / "bot"
NOT_DETAIL = {"at", "succeeded"}


def _audited() -> tuple[set[str], set[str]]:
    """(action codes, detail fields) written by the code base, read from its source:
    `team_repo.audit(session, actor, "code", ..., field=...)` and `detail` dicts."""
    actions, fields = {EXPORT_ACTION}, set()
    for path in BOT.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call) and getattr(node.func, "attr", None) == "audit":
                code = node.args[2]
                if isinstance(code, ast.Constant):
                    actions.add(code.value)
                else:  # f"denied:{action}": labelled through the permissions
                    assert isinstance(code, ast.JoinedStr), ast.dump(code)
                    assert code.values[0].value == audit_view.DENIED  # type: ignore[attr-defined]
                fields |= {k.arg for k in node.keywords if k.arg} - NOT_DETAIL
            elif isinstance(node, ast.Assign) and any(
                getattr(t, "id", None) == "detail" for t in node.targets
            ):
                for value in ast.walk(node.value):  # also `{...} if name else {}`
                    if isinstance(value, ast.Dict):
                        fields |= {k.value for k in value.keys if isinstance(k, ast.Constant)}
            elif (
                isinstance(node, ast.Subscript)
                and getattr(node.value, "id", None) == "detail"
                and isinstance(node.slice, ast.Constant)
            ):
                fields.add(node.slice.value)
    return actions, fields


def test_every_audited_action_and_field_has_a_vietnamese_label() -> None:
    texts = Texts.load()
    actions, fields = _audited()
    assert {"web.sign_in", "invite.claim", "report_export", "visit.log"} <= actions
    assert actions <= set(audit_view.known_actions(texts)), actions - set(
        audit_view.known_actions(texts)
    )
    assert {"include_names", "bytes", "village", "name"} <= fields
    keys = set(texts.keys())
    missing = {f for f in fields - {"period"} if f"web.audit.fields.{f}" not in keys}
    assert not missing
    for permission in MATRIX:
        assert not audit_view.action_label(texts, f"denied:{permission}").endswith(permission)


def test_details_read_as_words() -> None:
    texts = Texts.load()
    detail = {"period": "2026-Q2", "village": None, "include_names": True, "bytes": 86235}
    assert audit_view.detail_text(texts, detail) == "Thôn: toàn xã; Kèm tên: có; Dung lượng: 84 KB"
    assert audit_view.detail_text(texts, {"role": "commune_admin", "team": None}) == (
        "Vai trò: cán bộ quản trị xã; Tổ: không thuộc tổ"
    )
    assert audit_view.action_label(texts, "web.sign_in") == "Đăng nhập trang quản lý"
    assert audit_view.action_label(texts, "denied:admin_tools").startswith("Bị từ chối")
    assert "old.code" in audit_view.action_label(texts, "old.code")  # old rows stay readable
    assert audit_view.actor_label(texts, "person:12", {12: "Bà Lan"}) == "Bà Lan"
    assert audit_view.actor_label(texts, "cli:root", {}) == "Dòng lệnh trên máy chủ (root)"
    assert audit_view.actor_label(texts, "scheduler", {}) == "Hệ thống (việc tự động)"


@pytest.fixture
async def app(db_url, tmp_path, clock):
    built = await make_app(db_url, tmp_path, clock)
    yield built
    await built.close()


async def test_the_log_page_shows_labels_not_codes(app) -> None:
    admin = await onboarded(app, "a1", "commune_admin", name="Cán bộ Hòa")
    async with web_client(app) as client:
        await signed_in(client, admin)
        assert (await client.get("/web/bao-cao/tai?ky=m&dang=csv")).status == 200
        page = await (await client.get("/web/nhat-ky")).text()
        filtered = await (await client.get("/web/nhat-ky?hanh_dong=report_export")).text()
    for code in ("web.sign_in", "web.link", "invite.claim", "report_export"):
        assert f">{code}<" not in page
    assert "Đăng nhập trang quản lý" in page and "Nhận vai trò bằng mã mời" in page
    assert "Tạo báo cáo" in page and "Thôn: toàn xã" in page and " KB" in page
    assert "None" not in page and "True" not in page and "False" not in page
    assert "Đăng nhập trang quản lý</td>" not in filtered and "Tạo báo cáo</td>" in filtered
