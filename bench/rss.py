"""Benchmark: resident memory of `hocvuso run` serving Zalo only, Telegram only, both.

Starts the real service in a subprocess (SQLite in a temporary folder, polling the
fake Zalo and Telegram APIs of tests/fakes on 127.0.0.1), waits for "service running",
lets it settle, and reads VmRSS and VmHWM (peak) from /proc. Also measures a bare
`import aiogram` for comparison (the aim with Telegram: at most that + 60 MB).
Linux only. The last line is one JSON object.

    .venv/bin/python -m bench.rss [--settle 3]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from tests.fakes.telegram_api import DEFAULT_TOKEN as TELEGRAM_TOKEN
from tests.fakes.telegram_api import FakeTelegramAPI
from tests.fakes.zalo_api import FakeZaloAPI

ROOT = Path(__file__).resolve().parents[1]


def status_mb(pid: int) -> dict[str, float]:
    fields = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, value = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            fields[key] = round(int(value.split()[0]) / 1024, 1)
    return fields


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def serve_and_measure(env: dict[str, str], settle: float) -> dict[str, float]:
    with tempfile.TemporaryDirectory(prefix="hocvuso-rss-") as data_dir:
        full_env = {
            **os.environ,
            "HOCVUSO_DATA_DIR": data_dir,
            "HOCVUSO_WEB__PORT": str(free_port()),
            **env,
        }
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot.cli.main", "run",
            cwd=ROOT, env=full_env,
            stdout=subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE,
        )  # fmt: skip
        assert process.stderr is not None
        try:
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline:
                line = await asyncio.wait_for(process.stderr.readline(), 60)
                if not line:
                    raise RuntimeError("the service exited before it ran")
                if b"service running" in line:
                    break
            drain = asyncio.create_task(process.stderr.read())  # keep the pipe flowing
            await asyncio.sleep(settle)
            figures = status_mb(process.pid)
        finally:
            process.terminate()
            await process.wait()
        drain.cancel()
        return figures


def import_only_mb(module: str) -> float:
    code = f"import {module}, pathlib; print(pathlib.Path('/proc/self/status').read_text())"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    line = next(x for x in out.stdout.splitlines() if x.startswith("VmRSS:"))
    return round(int(line.split()[1]) / 1024, 1)


async def main(settle: float) -> dict:
    zalo = await FakeZaloAPI().start()
    telegram = await FakeTelegramAPI(rate_limits=False, spec_check=False).start()
    zalo_env = {"HOCVUSO_ZALO__TOKEN": zalo.token, "HOCVUSO_ZALO__API_BASE": zalo.base_url}
    telegram_env = {
        "HOCVUSO_TELEGRAM__TOKEN": TELEGRAM_TOKEN,
        "HOCVUSO_TELEGRAM__API_BASE": telegram.base_url,
    }
    try:
        zalo_only = await serve_and_measure(zalo_env, settle)
        telegram_only = await serve_and_measure(telegram_env, settle)
        both = await serve_and_measure({**zalo_env, **telegram_env}, settle)
    finally:
        await zalo.stop()
        await telegram.close()
    result = {
        "zalo_only_rss_mb": zalo_only["VmRSS"],
        "zalo_only_peak_mb": zalo_only["VmHWM"],
        "telegram_only_rss_mb": telegram_only["VmRSS"],
        "telegram_only_peak_mb": telegram_only["VmHWM"],
        "both_rss_mb": both["VmRSS"],
        "both_peak_mb": both["VmHWM"],
        "import_aiogram_rss_mb": import_only_mb("aiogram"),
        "python_rss_mb": import_only_mb("sys"),
    }
    for key, value in result.items():
        print(f"{key}: {value}")
    return result


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--settle", type=float, default=3.0, help="seconds after start")
    args = parser.parse_args()
    print(json.dumps(asyncio.run(main(args.settle))))
