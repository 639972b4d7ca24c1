"""The commune file's optional report wording, kept per commune code for every renderer.

Reports are built from the CLI, the chat and the scheduler, which all start through
`bot.app.build_app`; it registers the commune file's `report:` section here once, so no
caller has to thread it through."""

from __future__ import annotations

from config.commune import ReportInfo

_NOTES: dict[str, ReportInfo] = {}


def register(commune_code: str, info: ReportInfo) -> None:
    _NOTES[commune_code] = info


def notes_for(commune_code: str) -> ReportInfo:
    return _NOTES.get(commune_code, ReportInfo())
