"""Importing the village registry and household lists from CSV or XLSX.

Headers are Vietnamese, with or without diacritics ("Mã thôn", "Ma thon", "Tên tổ dân
phố", "Tổng số hộ"; "Mã hộ", "Chủ hộ"); other columns (STT, Ghi chú...) are ignored.
Every row is checked before anything is written, and every problem is reported as
`file:line: reason`; the caller writes all rows in one transaction or none.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.matching import fold
from storage import team_repo
from storage.models import Team, Village
from storage.team_models import Household

VILLAGE_CODE = re.compile(r"^[A-Za-z0-9_-]{1,16}$")  # as in the commune file
COUNT = re.compile(r"^\d{1,3}(?:[.,]\d{3})+$|^\d+$")  # 312, 1.234, 1,234
MAX_NAME = 80
MAX_HOUSEHOLDS = 100_000
# The names a commune may give its villages (folded: no diacritics, lower case).
UNITS = {
    "thon", "to", "to dan pho", "ap", "ban", "buon", "khu pho", "thi tu", "lang",
    "khu dan cu", "thon to", "thon to dan pho", "xom",
}  # fmt: skip


@dataclass(frozen=True)
class Problem:
    file: str
    line: int
    reason: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.reason}"


class ImportProblems(Exception):
    """The file cannot be imported; nothing was written."""

    def __init__(self, problems: list[Problem]) -> None:
        super().__init__("\n".join(str(p) for p in problems))
        self.problems = problems


def header_kind(header: str) -> str | None:
    """What a column holds, from its header; None for columns we do not read."""
    text = fold(header)
    if text in ("ma ho", "ma ho gia dinh", "household code"):
        return "household_code"
    if text in ("chu ho", "ten chu ho", "ho ten chu ho", "ho va ten chu ho", "head"):
        return "head"
    if text in ("tong so ho", "so ho", "tong ho", "tong so ho gia dinh", "households"):
        return "households"
    if text in ("ma", "code", "village code") or (text.startswith("ma ") and text[3:] in UNITS):
        return "village_code"
    if text in ("ten", "name", "village name") or (text.startswith("ten ") and text[4:] in UNITS):
        return "village_name"
    return None


# ----------------------------------------------------------------- reading


Row = tuple[int, list[str]]  # (line number in the file, cells)


def _cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))  # spreadsheets store 312 as 312.0
    return str(value).strip()


def read_table(path: Path) -> tuple[list[str], list[Row]]:
    """The header row and the data rows (blank rows skipped) of a CSV or XLSX file."""
    suffix = path.suffix.lower()
    if suffix == ".csv":
        return _read_csv(path)
    if suffix in (".xlsx", ".xlsm"):
        return _read_xlsx(path)
    raise ImportProblems([Problem(str(path), 1, "unsupported file type: use .csv or .xlsx")])


def _read_csv(path: Path) -> tuple[list[str], list[Row]]:
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError:
        raise ImportProblems(
            [Problem(str(path), 1, "not UTF-8 text: save it as 'CSV UTF-8' or as .xlsx")]
        ) from None
    first = text.split("\n", 1)[0]
    # Vietnamese Excel writes ';' (the decimal mark is ','); others write ','.
    delimiter = max((",", ";", "\t"), key=first.count)
    reader = csv.reader(io.StringIO(text), delimiter=delimiter)
    rows: list[Row] = []
    header: list[str] | None = None
    for cells in reader:
        cells = [c.strip() for c in cells]
        if not any(cells):
            continue
        if header is None:
            header = cells
        else:
            rows.append((reader.line_num, cells))
    return header or [], rows


def _read_xlsx(path: Path) -> tuple[list[str], list[Row]]:
    from openpyxl import load_workbook  # imported here: only imports need it
    from openpyxl.utils.exceptions import InvalidFileException

    try:
        book = load_workbook(path, read_only=True, data_only=True)
    except (InvalidFileException, OSError, KeyError, ValueError) as exc:
        raise ImportProblems(
            [Problem(str(path), 1, f"not a readable .xlsx file ({type(exc).__name__})")]
        ) from None
    try:
        sheet = book.worksheets[0]
        header: list[str] | None = None
        rows: list[Row] = []
        for line, values in enumerate(sheet.iter_rows(values_only=True), start=1):
            cells = [_cell(v) for v in values]
            if not any(cells):
                continue
            if header is None:
                header = cells
            else:
                rows.append((line, cells))
        return header or [], rows
    finally:
        book.close()


def _columns(
    path: Path, header: list[str], required: Iterable[str], optional: Iterable[str] = ()
) -> dict[str, int]:
    columns: dict[str, int] = {}
    problems = []
    for index, name in enumerate(header):
        kind = header_kind(name)
        if kind is None:
            continue
        if kind in columns:
            problems.append(Problem(str(path), 1, f"two columns for the same field: {name!r}"))
        columns[kind] = index
    wanted = {*required, *optional}
    for kind in required:
        if kind not in columns:
            problems.append(Problem(str(path), 1, f"missing column: {HEADER_HINT[kind]}"))
    if problems:
        raise ImportProblems(problems)
    return {k: v for k, v in columns.items() if k in wanted}


HEADER_HINT = {
    "village_code": "'Mã thôn' (or Mã tổ / Mã ấp / Mã bản...)",
    "village_name": "'Tên thôn' (or Tên tổ / Tên ấp...)",
    "households": "'Tổng số hộ'",
    "household_code": "'Mã hộ'",
    "head": "'Chủ hộ'",
}


def _get(cells: list[str], columns: dict[str, int], kind: str) -> str:
    index = columns.get(kind)
    return cells[index].strip() if index is not None and index < len(cells) else ""


# ----------------------------------------------------------------- validating


@dataclass(frozen=True)
class VillageRow:
    line: int
    code: str
    name: str
    households: int


@dataclass(frozen=True)
class HouseholdRow:
    line: int
    village_code: str
    code: str
    head: str | None


def parse_villages(path: Path) -> list[VillageRow]:
    """Every row checked; raises ImportProblems listing all of them, by line."""
    header, rows = read_table(path)
    columns = _columns(path, header, ("village_code", "village_name", "households"))
    out: list[VillageRow] = []
    problems: list[Problem] = []
    first_line: dict[str, int] = {}
    for line, cells in rows:
        code = _get(cells, columns, "village_code")
        name = " ".join(_get(cells, columns, "village_name").split())
        total = _get(cells, columns, "households").replace(" ", "")
        reasons = []
        if not VILLAGE_CODE.match(code):
            reasons.append(f"village code {code!r}: 1-16 letters, digits, '-' or '_'")
        elif code.upper() in first_line:
            reasons.append(f"village code {code} repeats line {first_line[code.upper()]}")
        if not 1 <= len(name) <= MAX_NAME:
            reasons.append(f"village name: 1-{MAX_NAME} characters")
        count = int(re.sub(r"[.,]", "", total)) if COUNT.match(total) else None
        if count is None or count > MAX_HOUSEHOLDS:
            reasons.append(f"total households {total!r}: a whole number from 0 to {MAX_HOUSEHOLDS}")
        problems += [Problem(str(path), line, reason) for reason in reasons]
        if not reasons:
            first_line[code.upper()] = line
            out.append(VillageRow(line, code, name, count or 0))
    if problems:
        raise ImportProblems(problems)
    if not out:
        raise ImportProblems([Problem(str(path), 2, "no villages in the file")])
    return out


def parse_households(path: Path, village_codes: set[str]) -> list[HouseholdRow]:
    """Every row checked against the commune's villages; raises ImportProblems."""
    header, rows = read_table(path)
    columns = _columns(path, header, ("household_code", "village_code"), ("head",))
    known = {c.upper(): c for c in village_codes}
    out: list[HouseholdRow] = []
    problems: list[Problem] = []
    first_line: dict[tuple[str, str], int] = {}
    for line, cells in rows:
        code = _get(cells, columns, "household_code")
        village = _get(cells, columns, "village_code")
        head = " ".join(_get(cells, columns, "head").split()) or None
        reasons = []
        if not team_repo.HOUSEHOLD_CODE.match(code):
            reasons.append(f"household code {code!r}: letters and digits, at most 32")
        if village.upper() not in known:
            reasons.append(f"village code {village!r} is not a village of this commune")
        key = (village.upper(), code.upper())
        if not reasons and key in first_line:
            reasons.append(f"household {code} of {village} repeats line {first_line[key]}")
        if head is not None and len(head) > MAX_NAME:
            reasons.append(f"head of household: at most {MAX_NAME} characters")
        problems += [Problem(str(path), line, reason) for reason in reasons]
        if not reasons:
            first_line[key] = line
            out.append(HouseholdRow(line, known[village.upper()], code.upper(), head))
    if problems:
        raise ImportProblems(problems)
    if not out:
        raise ImportProblems([Problem(str(path), 2, "no households in the file")])
    return out


# ----------------------------------------------------------------- writing


@dataclass(frozen=True)
class ImportResult:
    added: int
    updated: int
    teams_added: int = 0


async def write_villages(
    session: AsyncSession,
    commune_id: int,
    rows: list[VillageRow],
    *,
    team_name: Callable[[str], str],
    now: datetime,
    actor: str,
    file: str,
) -> ImportResult:
    """Insert or update villages by code; a village without a team gets one
    (`TCN-<code>`, named by `team_name(village name)` from the message catalog)."""
    existing = {
        v.code.upper(): v
        for v in await session.scalars(select(Village).where(Village.commune_id == commune_id))
    }
    position = int(
        await session.scalar(
            select(func.max(Village.position)).where(Village.commune_id == commune_id)
        )
        or 0
    )
    added = updated = teams = 0
    for row in rows:
        village = existing.get(row.code.upper())
        if village is None:
            position += 1
            village = Village(commune_id=commune_id, code=row.code, position=position)
            session.add(village)
            added += 1
        else:
            updated += 1
        village.name = row.name
        village.households_total = row.households
        village.active = True
    await session.flush()
    with_team = set(
        await session.scalars(select(Team.village_id).where(Team.commune_id == commune_id))
    )
    team_codes = set(await session.scalars(select(Team.code).where(Team.commune_id == commune_id)))
    for village in await session.scalars(select(Village).where(Village.commune_id == commune_id)):
        code = f"TCN-{village.code}"
        if village.id in with_team or code in team_codes or not village.active:
            continue
        session.add(
            Team(
                commune_id=commune_id,
                village_id=village.id,
                code=code,
                name=team_name(village.name)[:120],
            )
        )
        teams += 1
    team_repo.audit(
        session,
        actor,
        "import.villages",
        commune_id,
        at=now,
        file=file,
        added=added,
        updated=updated,
        teams_added=teams,
    )
    return ImportResult(added, updated, teams)


async def write_households(
    session: AsyncSession,
    commune_id: int,
    rows: list[HouseholdRow],
    *,
    now: datetime,
    actor: str,
    file: str,
) -> ImportResult:
    """Insert households, or update the head's name of those already listed."""
    villages = {
        v.code: v.id
        for v in await session.scalars(select(Village).where(Village.commune_id == commune_id))
    }
    existing = {
        (h.village_id, h.code.upper()): h
        for h in await session.scalars(
            select(Household).where(Household.village_id.in_(list(villages.values())))
        )
    }
    added = updated = 0
    for row in rows:
        village_id = villages[row.village_code]
        household = existing.get((village_id, row.code))
        if household is None:
            session.add(
                Household(village_id=village_id, code=row.code, head_name=row.head, created_at=now)
            )
            added += 1
        else:
            household.head_name = row.head or household.head_name
            updated += 1
    team_repo.audit(
        session,
        actor,
        "import.households",
        commune_id,
        at=now,
        file=file,
        added=added,
        updated=updated,
    )
    return ImportResult(added, updated)
