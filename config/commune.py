"""The commune file: the commune, its villages (thôn / tổ dân phố ...) and their teams.

A YAML file an officer can edit. It is validated before anything starts and every
fault is reported as `file: field: what is wrong`.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

UnitLabel = Literal["thôn", "tổ dân phố", "ấp", "bản", "buôn", "khu phố", "thị tứ", "làng"]
CODE_PATTERN = r"^[A-Za-z0-9_-]{1,16}$"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class CommuneInfo(_Strict):
    code: str = Field(pattern=CODE_PATTERN)
    name: str = Field(min_length=2, max_length=80)
    unit_label: UnitLabel = "thôn"
    launch_date: date


class VillageInfo(_Strict):
    code: str = Field(pattern=CODE_PATTERN)
    name: str = Field(min_length=1, max_length=80)
    households: int = Field(ge=0, le=100_000)
    active: bool = True  # false: closed (merged, renamed); its past counts remain


class TeamInfo(_Strict):
    code: str = Field(pattern=CODE_PATTERN)
    village: str
    name: str = Field(min_length=2, max_length=120)


class ReportInfo(_Strict):
    """Optional wording the commune adds to its reports; figures are never typed here."""

    number: str | None = Field(None, max_length=40)  # số/ký hiệu, e.g. "125/BC-UBND"
    plan: str | None = Field(None, max_length=200)  # the plan implemented: "số 45/KH-UBND ..."
    leadership: str | None = Field(None, max_length=3000)  # leadership, propaganda work
    difficulties: str | None = Field(None, max_length=3000)
    tasks: str | None = Field(None, max_length=3000)  # the commune's own next tasks
    proposals: str | None = Field(None, max_length=3000)
    recipients: list[str] = []  # "Nơi nhận" lines, e.g. "- UBND tỉnh (để báo cáo);"
    signer_org: str | None = Field(None, max_length=80)  # "TM. ỦY BAN NHÂN DÂN"
    signer_title: str | None = Field(None, max_length=80)  # "CHỦ TỊCH", "KT. CHỦ TỊCH..."
    signer_name: str | None = Field(None, max_length=80)


# Indicators the commune's plan can set a target for (percentages of their denominator,
# docs/glossary.md "Digital citizens").
TARGET_INDICATORS = (
    "households_one_proficient",
    "adults_smartphone",
    "adults_vneid_level2",
    "adults_payment_account",
    "adults_used_public_service",
    "adults_health_book",
    "residents_platform_certified_self",
)


class TargetInfo(_Strict):
    """One milestone of the commune's plan: `percent` of the indicator by the end of
    `year`, for the whole commune or (with `village`) one village."""

    indicator: Literal[TARGET_INDICATORS]  # type: ignore[valid-type]
    year: int = Field(ge=2020, le=2100)
    percent: float = Field(ge=0, le=100)
    village: str | None = None


DAY_MONTH_PATTERN = r"^\d{1,2}/\d{1,2}$"


class CalendarInfo(_Strict):
    """The commune's own report calendar; a field left out follows the deployment's
    `[scheduler]` settings. Quiet hours stay deployment-wide."""

    annual_report_date: str | None = Field(None, pattern=DAY_MONTH_PATTERN)  # DD/MM
    report_deadline: str | None = Field(None, pattern=DAY_MONTH_PATTERN)  # DD/MM
    deadline_reminder_days: list[int] | None = Field(None, min_length=1, max_length=10)
    digest_weekday: int | None = Field(None, ge=0, le=6)  # 0 = Monday
    digest_hour: int | None = Field(None, ge=0, le=23)
    monthly_digest_day: int | None = Field(None, ge=1, le=28)
    behind_weeks: int | None = Field(None, ge=0, le=26)

    @model_validator(mode="after")
    def _dates(self) -> CalendarInfo:
        for name in ("annual_report_date", "report_deadline"):
            value = getattr(self, name)
            if value is None:
                continue
            day, month = (int(part) for part in value.split("/"))
            try:
                date(2023, month, day)  # not a leap year: 29/02 is refused
            except ValueError:
                raise ValueError(f"{name}: no such day {value!r} (DD/MM)") from None
        if any(not 1 <= days <= 60 for days in self.deadline_reminder_days or ()):
            raise ValueError("deadline_reminder_days: each must be 1..60")
        return self


class CommuneFile(_Strict):
    commune: CommuneInfo
    villages: list[VillageInfo] = Field(min_length=1)
    teams: list[TeamInfo] = []
    report: ReportInfo = ReportInfo()
    targets: list[TargetInfo] = []
    calendar: CalendarInfo = CalendarInfo()

    @model_validator(mode="after")
    def _references(self) -> CommuneFile:
        village_codes = [v.code for v in self.villages]
        if len(set(village_codes)) != len(village_codes):
            dupes = sorted({c for c in village_codes if village_codes.count(c) > 1})
            raise ValueError(f"duplicate village codes: {', '.join(dupes)}")
        team_codes = [t.code for t in self.teams]
        if len(set(team_codes)) != len(team_codes):
            raise ValueError("duplicate team codes")
        for team in self.teams:
            if team.village not in village_codes:
                raise ValueError(f"team {team.code} names unknown village {team.village}")
        seen = set()
        for target in self.targets:
            if target.village is not None and target.village not in village_codes:
                raise ValueError(
                    f"target {target.indicator} names unknown village {target.village}"
                )
            key = (target.indicator, target.year, target.village)
            if key in seen:
                raise ValueError(f"target {target.indicator} {target.year} given twice")
            seen.add(key)
        return self


class CommuneFileError(Exception):
    """The commune file cannot be used; the message says where and why."""


def load_commune_file(path: Path) -> CommuneFile:
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise CommuneFileError(f"{path}: commune file not found") from None
    except yaml.YAMLError as exc:
        raise CommuneFileError(f"{path}: not valid YAML: {exc}") from None
    if not isinstance(raw, dict):
        raise CommuneFileError(f"{path}: expected a mapping with commune, villages, teams")
    try:
        return CommuneFile.model_validate(raw)
    except ValidationError as exc:
        lines = []
        for error in exc.errors():
            field = ".".join(str(part) for part in error["loc"]) or "(file)"
            lines.append(f"{path}: {field}: {error['msg']}")
        raise CommuneFileError("\n".join(lines)) from None
