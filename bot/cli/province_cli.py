"""`hocvuso report province`: the province's roll-up, one row per commune (audited)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path

import typer
from sqlalchemy import func, select

from bot.cli import common
from bot.cli.report_cli import REPORTS_DIR, _actor, choose_period, done_figures
from bot.cli.texts import c, num


def province_report(
    *,
    fmt: str,
    out: Path | None,
    body: str | None,
    config: Path | None,
    **period_options: object,
) -> None:
    from bot.reports import province
    from storage.models import Commune

    if fmt not in province.FORMATS:
        typer.echo(c("province_format_bad", formats=", ".join(province.FORMATS)), err=True)
        raise typer.Exit(2)
    settings = common.settings_or_exit(config)
    common.setup_logging(quiet=True)
    name = (body if body is not None else settings.province_name).strip()

    async def _go() -> int:
        built = await common.build_or_exit(settings)
        try:
            async with built.database.session() as session:
                launch = await session.scalar(select(func.min(Commune.launch_date)))
            try:
                chosen = choose_period(launch=launch, now=datetime.now(UTC), **period_options)  # type: ignore[arg-type]
            except ValueError as exc:
                typer.echo(str(exc), err=True)
                return 2
            target = out or settings.data_dir / REPORTS_DIR / province.filename(chosen, fmt)
            export = await province.export_province(
                built.database,
                chosen,
                fmt,
                actor=_actor(),
                body=name,
                curriculum=built.engine.services.curriculum,
            )
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(export.data)
            total = export.report.total
            typer.echo(
                c(
                    "province_done",
                    path=target,
                    fmt=fmt,
                    size=num(len(export.data)),
                    body=name or "–",
                    communes=num(len(export.report.communes)),
                    period=chosen.label,
                    **done_figures(total),
                )
            )
            return 0
        finally:
            await built.close()

    code = asyncio.run(_go())
    if code:
        raise typer.Exit(code)
