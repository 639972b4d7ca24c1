"""Campaign reports: indicators over the participation log, rendered for the commune.

Entry point: `bot.reports.exports.build_report(database, commune_id, period, fmt, ...)`
(xlsx, csv, docx, pdf, html), used by the CLI (`hocvuso report`), chat and scheduler.
Layers: `periods` (reporting periods) -> `indicators` (SQL) -> `compute` (a `Report`)
-> `tables` / `document` (what the files say) -> `render_*` (the files).
"""
