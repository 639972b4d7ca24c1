"""A province deployment for tests: three communes, two bots (one shared).

- "hoa-an" (Xã Hòa An, the demo commune: villages T01..T12, teams TCN-T01..);
- "tan-phu" (Xã Tân Phú: villages P01..P04, teams TP-P01..);
- "tan-hoa" (Phường Tân Hòa, tổ dân phố K01..K03, teams TH-K01..).
Bot "tg-hoaan" (Telegram) serves Hòa An alone; bot "zl-tan" (Zalo) serves Tân Phú and
Tân Hòa. The legacy console channel serves all three.
"""

from __future__ import annotations

from pathlib import Path

import yaml

from bot.app import App
from bot.core.communes import CommuneRef
from config.settings import BUNDLED_COMMUNE, BotSettings
from tests.support import FakeClock, make_app

ALONE_BOT = "tg-hoaan"
SHARED_BOT = "zl-tan"


def _commune(code: str, name: str, unit: str, prefix: str, team: str, villages: list[str]) -> dict:
    return {
        "commune": {"code": code, "name": name, "unit_label": unit, "launch_date": "2025-10-10"},
        "villages": [
            {"code": f"{prefix}{n:02d}", "name": village, "households": 100 + 10 * n}
            for n, village in enumerate(villages, start=1)
        ],
        "teams": [
            {
                "code": f"{team}-{prefix}{n:02d}",
                "village": f"{prefix}{n:02d}",
                "name": f"Tổ công nghệ số cộng đồng {village}",
            }
            for n, village in enumerate(villages, start=1)
        ],
    }


def write_communes(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "hoa-an.yaml").write_text(BUNDLED_COMMUNE.read_text(encoding="utf-8"), "utf-8")
    files = {
        "tan-phu": _commune(
            "tan-phu", "Xã Tân Phú", "thôn", "P", "TP",
            ["Thôn Phú Lợi", "Thôn Phú Mỹ", "Thôn Bình An", "Thôn Suối Đá"],
        ),
        "tan-hoa": _commune(
            "tan-hoa", "Phường Tân Hòa", "tổ dân phố", "K", "TH",
            ["Tổ dân phố 1", "Tổ dân phố 2", "Tổ dân phố 3"],
        ),
    }  # fmt: skip
    for code, data in files.items():
        text = yaml.safe_dump(data, allow_unicode=True, sort_keys=False)
        (folder / f"{code}.yaml").write_text(text, encoding="utf-8")
    return folder


async def province_app(db_url: str, tmp_path: Path, clock: FakeClock | None = None) -> App:
    bots = [
        BotSettings(name=ALONE_BOT, messenger="telegram", token="1:x", communes=["hoa-an"]),
        BotSettings(name=SHARED_BOT, messenger="zalo", token="z", communes=["tan-phu", "tan-hoa"]),
    ]
    return await make_app(
        db_url, tmp_path, clock, communes_dir=write_communes(tmp_path / "communes"), bots=bots
    )


def commune(app: App, code: str) -> CommuneRef:
    found = app.engine.services.communes.by_code(code)
    assert found is not None, code
    return found
