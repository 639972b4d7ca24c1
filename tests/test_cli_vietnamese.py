"""The command line in Vietnamese, Typer's and Click's own words included; `admin add`
naming roles and valid commune codes; `demo-data` suggesting commands that work."""

from __future__ import annotations

import re

from bot.cli.click_vi import translate
from bot.cli.texts import c
from bot.core.texts import Texts
from tests.test_cli import run
from tests.test_import import app, invoke  # noqa: F401 - the fixture, on SQLite and PG

ENGLISH = ("Show this message", "Usage:", "No such", "Missing option", "Error", "Invalid value")


def test_help_and_usage_errors_are_vietnamese(tmp_path) -> None:  # type: ignore[no-untyped-def]
    shown = run(["admin", "add", "--help"], tmp_path, COLUMNS="100")
    assert shown.returncode == 0
    assert "Xem hướng dẫn này rồi thoát." in shown.stdout and "Cách dùng:" in shown.stdout
    assert "xã mẫu: hoa-an" in shown.stdout
    for args, said in [
        (["admin", "add", "--bogus"], "Không có tùy chọn --bogus."),
        (["admin", "add", "--commune", "hoa-an"], "Thiếu tùy chọn --name."),
        (["admin", "add", "--name", "A", "--commune", "x", "--days", "abc"], "--days cần một số"),
        (["nosuch"], "Không có lệnh 'nosuch'."),
        (["households", "codes", "--out"], "Tùy chọn --out cần một giá trị"),
    ]:
        refused = run(args, tmp_path, COLUMNS="100")
        assert refused.returncode == 2, args
        assert said in refused.stderr, refused.stderr
        assert not [word for word in ENGLISH if word in refused.stderr + refused.stdout], args
    households = run(["households", "--help"], tmp_path, COLUMNS="100").stdout
    assert "Household" not in households and "Mã hộ gia đình" in households


def test_click_messages_map_to_the_catalog() -> None:
    assert translate("No such command 'ad'. Did you mean 'add'?") == (
        "Không có lệnh 'ad'. Có phải ý anh/chị là 'add'?"
    )
    assert translate("Missing argument 'FILE'.") == "Thiếu tham số FILE."
    assert translate("Got unexpected extra argument (x)") == "Thừa tham số: x."
    assert translate("Something new from Click") == "Something new from Click"


def test_cli_role_names_are_the_chat_role_names() -> None:
    texts = Texts.load()
    for role in ("member", "leader", "commune_admin", "deployment_admin"):
        assert c(f"role_names.{role}") == texts(f"team.roles.{role}")


async def test_admin_add_names_the_role_and_the_valid_communes(app, db_url, tmp_path):  # noqa: F811
    made = await invoke(
        db_url, tmp_path, "admin", "add", "--name", "Chị Lan", "--commune", "HOA-AN"
    )
    assert made.exit_code == 0, made.output
    assert "(vai trò: cán bộ quản trị xã)" in made.output and "commune_admin" not in made.output
    wrong = await invoke(db_url, tmp_path, "admin", "add", "--name", "Chị Lan", "--commune", "XX")
    assert wrong.exit_code == 2
    assert "Không có xã mã 'XX'. Các mã xã có: hoa-an." in wrong.output


def test_demo_data_hints_are_commands_that_work(tmp_path) -> None:  # type: ignore[no-untyped-def]
    demo_dir = {"HOCVUSO_DATA_DIR": "data-demo"}
    small = ["demo-data", "--seed", "1", "--residents", "60", "--months", "3"]
    made = run(small, tmp_path, **demo_dir)
    assert made.returncode == 0, made.stderr
    hint = re.search(r"HOCVUSO_DATA_DIR=data-demo \./run chat --user (demo-\d+)", made.stdout)
    assert hint, made.stdout
    chat = run(
        ["chat", "--jsonl", "--user", hint.group(1)], tmp_path, '{"start": ""}\n', **demo_dir
    )
    assert "quay lại" in chat.stdout  # a person the demo made, not a new stranger

    again = run(small, tmp_path, **demo_dir)
    assert again.returncode == 1
    assert "HOCVUSO_DATA_DIR=data-demo-2 ./run demo-data --seed 1" in again.stderr
    assert "HOCVUSO_DATA_DIR=data-demo ./run demo-data" not in again.stderr
    assert "xóa thư mục data-demo" in again.stderr
