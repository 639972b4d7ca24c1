"""`hocvuso run`: configuration is validated before anything starts (exit 2, the file
and the field, no traceback), and the split roles do what they say: `--role web` serves
/healthz and runs no background work, `--role scheduler` takes the lease and serves no
web port; both stop cleanly on SIGTERM."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from tests.test_service_cluster import free_port

ROOT = Path(__file__).resolve().parents[1]
HOCVUSO = [sys.executable, "-m", "bot.cli.main"]


def clean_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("HOCVUSO_")}
    env.update(PYTHONPATH=str(ROOT), HOCVUSO_DATA_DIR=str(tmp_path / "data"), **extra)
    return env


def run(args: list[str], env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        HOCVUSO + args, env=env, cwd=cwd, capture_output=True, text=True, timeout=60
    )


def test_a_broken_commune_file_stops_the_service_with_file_and_field(tmp_path):
    commune = tmp_path / "communes" / "hoa-an.yaml"
    commune.parent.mkdir()
    commune.write_text(
        "commune: {code: hoa-an, name: Xã Hòa An, unit_label: thôn, launch_date: 2025-10-10}\n"
        "villages:\n  - {code: T01, name: Thôn Đông, households: -3}\n",
        encoding="utf-8",
    )
    env = clean_env(tmp_path, HOCVUSO_COMMUNE_FILE=str(commune))
    result = run(["run"], env, tmp_path)
    assert result.returncode == 2
    assert "hoa-an.yaml" in result.stderr and "villages.0.households" in result.stderr
    assert "Traceback" not in result.stderr + result.stdout


def test_bad_scheduler_settings_stop_the_service_with_the_field(tmp_path):
    env = clean_env(tmp_path, HOCVUSO_SCHEDULER__NUDGE_HOUR="22")
    result = run(["run", "--role", "scheduler"], env, tmp_path)
    assert result.returncode == 2
    assert "scheduler" in result.stderr and "quiet hours" in result.stderr
    assert "Traceback" not in result.stderr
    result = run(["run", "--role", "everything"], clean_env(tmp_path), tmp_path)
    assert result.returncode == 2 and "--role" in result.stderr


def spawn(role: str, env: dict[str, str], log: Path) -> subprocess.Popen:
    return subprocess.Popen(
        [*HOCVUSO, "run", "--role", role],
        env=env,
        cwd=log.parent,
        stdout=log.open("w"),
        stderr=subprocess.STDOUT,
    )


def healthz(port: int) -> dict:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as response:
        return json.loads(response.read())


async def test_split_roles_web_serves_scheduler_leads_and_both_stop_on_sigterm(tmp_path):
    web_port, scheduler_port = free_port(), free_port()
    logs = {name: tmp_path / f"{name}.log" for name in ("web", "scheduler")}
    # Several processes on one database: migrate once first (as docs/deployment.md says),
    # so that they do not race to create the schema. (SQLite is enough here: after the
    # start only the lease row is written.)
    assert run(["migrate"], clean_env(tmp_path), tmp_path).returncode == 0
    procs = {
        name: spawn(name, clean_env(tmp_path, HOCVUSO_WEB__PORT=str(port)), logs[name])
        for name, port in (("web", web_port), ("scheduler", scheduler_port))
    }
    try:

        def check_alive() -> None:
            for name, proc in procs.items():
                assert proc.poll() is None, f"{name} exited:\n{logs[name].read_text()}"

        deadline = time.monotonic() + 60  # generous: a loaded CI machine starts slowly
        while 'msg="lease acquired"' not in logs["scheduler"].read_text():
            check_alive()
            assert time.monotonic() < deadline, logs["scheduler"].read_text()
            await asyncio.sleep(0.1)
        while True:
            try:
                assert (await asyncio.to_thread(healthz, web_port))["ok"] is True
                break
            except OSError:
                check_alive()
                assert time.monotonic() < deadline, logs["web"].read_text()
                await asyncio.sleep(0.1)
        try:
            await asyncio.to_thread(healthz, scheduler_port)
            raise AssertionError("the scheduler role must not serve the web port")
        except OSError:
            pass
        for proc in procs.values():
            proc.send_signal(signal.SIGTERM)
        for proc in procs.values():
            assert await asyncio.to_thread(proc.wait, 30) == 0
    finally:
        for proc in procs.values():
            if proc.poll() is None:
                proc.kill()
    web, scheduler = (logs[name].read_text() for name in ("web", "scheduler"))
    assert "lease" not in web and "job=" not in web  # web processes only serve
    assert 'msg="service running" role=scheduler' in scheduler
    assert "job=nudges" in scheduler
    assert "Traceback" not in web + scheduler
