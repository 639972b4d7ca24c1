"""Village and household lists from CSV and XLSX: Vietnamese headers with or without
diacritics, every bad row reported as `file:line: reason`, all rows or none; and the
`hocvuso import | admin add | invite create` commands on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import re
from pathlib import Path

import pytest
from openpyxl import Workbook
from sqlalchemy import func, select
from typer.testing import CliRunner

from bot.cli.main import app as cli
from storage.imports import ImportProblems, header_kind, parse_households, parse_villages
from storage.models import Team, Village
from storage.team_models import AuditEntry, Household, Invite
from tests.support import Chat, make_app


def write(path: Path, text: str, encoding: str = "utf-8") -> Path:
    path.write_text(text, encoding=encoding)
    return path


def xlsx(path: Path, rows: list[list[object]]) -> Path:
    book = Workbook()
    sheet = book.active
    for row in rows:
        sheet.append(row)
    book.save(path)
    return path


@pytest.mark.parametrize(
    ("header", "kind"),
    [
        ("Mã thôn", "village_code"),
        ("ma thon", "village_code"),
        ("MÃ TỔ DÂN PHỐ", "village_code"),
        ("Mã ấp", "village_code"),
        ("Tên thôn", "village_name"),
        ("Ten to dan pho", "village_name"),
        ("Tổng số hộ", "households"),
        ("Tong so ho", "households"),
        ("Mã hộ", "household_code"),
        ("Chủ hộ", "head"),
        ("Họ tên chủ hộ", "head"),
        ("STT", None),
        ("Ghi chú", None),
    ],
)
def test_headers_are_read_with_or_without_diacritics(header, kind):
    assert header_kind(header) == kind


def test_csv_villages_with_semicolons_bom_and_grouped_numbers(tmp_path):
    path = write(
        tmp_path / "thon.csv",
        "\ufeffSTT;Mã thôn;Tên thôn;Tổng số hộ;Ghi chú\n"
        "1;T01;Thôn Đông;1.234;\n\n2;T02;Thôn Tây;275;x\n",
    )
    rows = parse_villages(path)
    assert [(r.line, r.code, r.name, r.households) for r in rows] == [
        (2, "T01", "Thôn Đông", 1234),
        (4, "T02", "Thôn Tây", 275),
    ]


def test_every_bad_row_is_reported_by_line(tmp_path):
    path = write(
        tmp_path / "thon.csv",
        "Ma thon,Ten thon,Tong so ho\nT01,Thôn Đông,312\nT 2,,-5\nT01,Thôn Lặp,3\nT04,Thôn Bắc,\n",
    )
    with pytest.raises(ImportProblems) as caught:
        parse_villages(path)
    lines = [str(p) for p in caught.value.problems]
    assert lines == [
        f"{path}:3: village code 'T 2': 1-16 letters, digits, '-' or '_'",
        f"{path}:3: village name: 1-80 characters",
        f"{path}:3: total households '-5': a whole number from 0 to 100000",
        f"{path}:4: village code T01 repeats line 2",
        f"{path}:5: total households '': a whole number from 0 to 100000",
    ]


def test_missing_columns_and_unknown_files(tmp_path):
    with pytest.raises(ImportProblems) as caught:
        parse_villages(write(tmp_path / "a.csv", "Mã thôn,Tên\nT01,Đông\n"))
    assert str(caught.value.problems[0]).endswith(":1: missing column: 'Tổng số hộ'")
    with pytest.raises(ImportProblems) as caught:
        parse_villages(write(tmp_path / "a.txt", "x"))
    assert "unsupported file type" in str(caught.value)
    with pytest.raises(ImportProblems) as caught:
        parse_villages(write(tmp_path / "b.csv", "Mã thôn,Tên thôn,Tổng số hộ\n", "utf-8"))
    assert "no villages" in str(caught.value)
    with pytest.raises(ImportProblems) as caught:
        parse_villages(
            write(tmp_path / "c.csv", "Mã thôn,Tên thôn,Tổng số hộ\nT1,Đông,1\n", "utf-16")
        )
    assert "not UTF-8" in str(caught.value)


def test_xlsx_households(tmp_path):
    path = xlsx(
        tmp_path / "ho.xlsx",
        [
            ["Mã hộ", "Chủ hộ", "Mã thôn"],
            ["h001", "Nguyễn Văn An", "T01"],
            [None, None, None],
            [12, None, "t02"],  # a number as code, no head, village in lower case
            ["H001", "Lặp lại", "T01"],
            ["H009", "Ai đó", "T99"],
        ],
    )
    with pytest.raises(ImportProblems) as caught:
        parse_households(path, {"T01", "T02"})
    assert [str(p) for p in caught.value.problems] == [
        f"{path}:5: household H001 of T01 repeats line 2",
        f"{path}:6: village code 'T99' is not a village of this commune",
    ]
    good = xlsx(
        tmp_path / "ok.xlsx",
        [["Ma ho", "Chu ho", "Ma thon"], ["h001", "An", "T01"], [12, None, "t02"]],
    )
    rows = parse_households(good, {"T01", "T02"})
    assert [(r.line, r.village_code, r.code, r.head) for r in rows] == [
        (2, "T01", "H001", "An"),
        (3, "T02", "12", None),
    ]


def test_xlsx_villages_with_numbers_as_floats(tmp_path):
    path = xlsx(
        tmp_path / "v.xlsx", [["Mã thôn", "Tên thôn", "Tổng số hộ"], ["T01", "Thôn Đông", 312.0]]
    )
    assert parse_villages(path)[0].households == 312


# ----------------------------------------------------------------- the commands


async def invoke(db_url: str, tmp_path: Path, *args: str):
    env = {"HOCVUSO_DATABASE__URL": db_url, "HOCVUSO_DATA_DIR": str(tmp_path / "data")}
    return await asyncio.to_thread(CliRunner().invoke, cli, list(args), env=env)


@pytest.fixture
async def app(db_url, tmp_path, clock):
    built = await make_app(db_url, tmp_path, clock)
    yield built
    await built.close()


async def count(app, model, *where) -> int:
    async with app.database.session() as session:
        return int(await session.scalar(select(func.count()).select_from(model).where(*where)))


async def test_import_commands_are_all_or_nothing(app, db_url, tmp_path):
    bad = write(
        tmp_path / "thon.csv", "Mã thôn,Tên thôn,Tổng số hộ\nT01,Thôn Đông Mới,400\nT13,,5\n"
    )
    result = await invoke(db_url, tmp_path, "import", "villages", str(bad))
    assert result.exit_code == 1
    assert f"{bad}:3: village name: 1-80 characters" in result.output
    async with app.database.session() as session:
        t01 = await session.scalar(select(Village).where(Village.code == "T01"))
    assert (t01.name, t01.households_total) == ("Thôn Đông", 312)  # untouched

    good = xlsx(
        tmp_path / "thon.xlsx",
        [["Mã thôn", "Tên thôn", "Tổng số hộ"], ["T01", "Thôn Đông", 320], ["T13", "Thôn Mới", 88]],
    )
    result = await invoke(db_url, tmp_path, "import", "villages", str(good))
    assert result.exit_code == 0, result.output
    assert "thêm 1, cập nhật 1, tạo 1 tổ" in result.output
    async with app.database.session() as session:
        team = await session.scalar(select(Team).where(Team.code == "TCN-T13"))
    assert team.name == "Tổ công nghệ số cộng đồng Thôn Mới"

    households = write(
        tmp_path / "ho.csv", "Mã hộ,Chủ hộ,Mã thôn\nH001,Nguyễn Văn An,T01\nH002,Lê Thị Bé,T13\n"
    )
    result = await invoke(db_url, tmp_path, "import", "households", str(households))
    assert result.exit_code == 0, result.output
    assert await count(app, Household) == 2
    bad_households = write(tmp_path / "ho2.csv", "Mã hộ,Chủ hộ,Mã thôn\nH003,A,T01\nH004,B,T77\n")
    result = await invoke(db_url, tmp_path, "import", "households", str(bad_households))
    assert result.exit_code == 1 and f"{bad_households}:3: village code 'T77'" in result.output
    assert await count(app, Household) == 2
    actions = await count(
        app, AuditEntry, AuditEntry.action.in_(["import.villages", "import.households"])
    )
    assert actions == 2


async def test_admin_add_then_claim_in_chat(app, db_url, tmp_path):
    result = await invoke(
        db_url, tmp_path, "admin", "add", "--name", "Chị Mai", "--commune", "hoa-an"
    )
    assert result.exit_code == 0, result.output
    payload = re.search(r"inv_[A-Z0-9]{8}", result.output).group(0)
    assert f"/start {payload}" in result.output and f"tin nhắn  {payload}" in result.output
    chat = Chat(app, user="mai")
    await chat.start(payload)
    await chat.choose("agree")
    assert chat.last.text.startswith("🏛")
    async with app.database.session() as session:
        entry = await session.scalar(select(AuditEntry).where(AuditEntry.action == "invite.create"))
    assert entry.actor.startswith("cli:") and entry.detail["name"] == "Chị Mai"


async def test_invite_create_command(app, db_url, tmp_path):
    result = await invoke(
        db_url,
        tmp_path,
        "invite",
        "create",
        "--role",
        "member",
        "--team",
        "TCN-T04",
        "--uses",
        "5",
        "--days",
        "7",
    )
    assert result.exit_code == 0, result.output
    assert "vai trò: thành viên, Tổ TCN-T04" in result.output and "Số lượt dùng: 5" in result.output
    assert await count(app, Invite, Invite.uses_left == 5) == 1
    for wrong in (["--role", "member"], ["--role", "boss"], ["--role", "member", "--team", "NOPE"]):
        result = await invoke(db_url, tmp_path, "invite", "create", *wrong)
        assert result.exit_code == 2, (wrong, result.output)
