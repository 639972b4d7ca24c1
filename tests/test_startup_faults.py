"""Every fault at start is one or two Vietnamese lines naming what and where, exit 2:
the real `hocvuso run` and `hocvuso check-config`, run as a subprocess."""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.test_service_startup import HOCVUSO, clean_env

ROOT = Path(__file__).resolve().parents[1]
BROKEN_CONTENT = ROOT / "tests" / "fixtures" / "content_broken" / "card_too_long"


def run(args: list[str], env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        HOCVUSO + args, env=env, cwd=cwd, capture_output=True, text=True, timeout=90
    )


def fault_lines(result: subprocess.CompletedProcess) -> list[str]:
    """What the command said, without the structured log lines `run` writes as it goes."""
    assert result.returncode == 2, (result.returncode, result.stderr[-2000:])
    assert "Traceback" not in result.stderr + result.stdout
    lines = [line for line in result.stderr.splitlines() if not line.startswith("ts=")]
    assert 1 <= len(lines) <= 2, lines
    return lines


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.mark.parametrize("command", [["run"], ["check-config"]])
def test_an_unreachable_postgresql_is_one_line_naming_it(tmp_path, command):
    url = f"postgresql+asyncpg://hocvuso:s3cret@127.0.0.1:{closed_port()}/hocvuso"
    result = run(command, clean_env(tmp_path, HOCVUSO_DATABASE__URL=url), tmp_path)
    first, *rest = fault_lines(result)
    assert first.startswith("Không kết nối được cơ sở dữ liệu")
    assert "127.0.0.1" in first and "s3cret" not in result.stderr
    assert "HOCVUSO_DATABASE__URL" in rest[0]


@contextlib.contextmanager
def read_only(folder: Path) -> Iterator[None]:
    """A folder nothing can write to, even as root (the immutable attribute)."""
    if os.geteuid() == 0:
        chattr = shutil.which("chattr")
        files = [str(p) for p in folder.iterdir()]
        if chattr is None or subprocess.run([chattr, "+i", str(folder), *files]).returncode:
            pytest.skip("running as root without chattr: cannot make a read-only file")
        try:
            yield
        finally:
            subprocess.run([chattr, "-i", str(folder), *files], check=True)
        return
    for path in [*folder.iterdir(), folder]:
        path.chmod(0o555)
    try:
        yield
    finally:
        folder.chmod(0o755)


@pytest.mark.parametrize("command", [["run"], ["check-config"]])
def test_a_read_only_sqlite_file_is_one_line_naming_it(tmp_path, command):
    folder = tmp_path / "db"
    env = clean_env(tmp_path, HOCVUSO_DATABASE__URL=f"sqlite+aiosqlite:///{folder / 'x.sqlite3'}")
    assert run(["check-config"], env, tmp_path).returncode == 0  # the file exists, up to date
    with read_only(folder):
        first, hint = fault_lines(run(command, env, tmp_path))
    assert first.startswith("Không ghi được vào cơ sở dữ liệu") and "x.sqlite3" in first
    assert "quyền ghi" in hint


def test_bad_settings_name_the_field(tmp_path):
    env = clean_env(tmp_path, HOCVUSO_WEB__PORT="tám-nghìn")
    [line] = fault_lines(run(["check-config"], env, tmp_path))
    assert line.startswith("Cấu hình chưa đúng:") and "web.port" in line
    many = clean_env(tmp_path, HOCVUSO_WEB__PORT="x", HOCVUSO_SCHEDULER__NUDGE_HOUR="22")
    first, more = fault_lines(run(["run"], many, tmp_path))
    assert "web.port" in first and more == "(còn 1 lỗi khác)"


@pytest.mark.parametrize("command", [["run"], ["check-config"]])
def test_bad_content_names_the_file_and_line(tmp_path, command):
    env = clean_env(tmp_path, HOCVUSO_CONTENT_DIR=str(BROKEN_CONTENT))
    first, hint = fault_lines(run(command, env, tmp_path))
    assert first.startswith("Nội dung bài học có 1 lỗi")
    assert "bai-mau.yaml:25: thẻ 2 có 510 ký tự" in first
    assert f"hocvuso content check {BROKEN_CONTENT}" in hint


def test_a_port_in_use_names_the_port(tmp_path):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        env = clean_env(tmp_path, HOCVUSO_WEB__PORT=str(port), HOCVUSO_WEB__HOST="127.0.0.1")
        first, hint = fault_lines(run(["run"], env, tmp_path))
    assert first == f"Cổng {port} trên 127.0.0.1 đang được chương trình khác dùng (web.port)."
    assert "HOCVUSO_WEB__PORT" in hint


def test_database_faults_are_told_apart_and_never_show_a_password():
    from sqlalchemy.exc import OperationalError

    from bot.startup import DatabaseStartupError, explain

    def said(url: str, error: BaseException) -> list[str]:
        return explain(DatabaseStartupError(url, error)).splitlines()

    pg = "postgresql+asyncpg://hocvuso:s3cret@db.xa:5432/hocvuso"
    assert said(pg, ConnectionRefusedError(111, "refused"))[0].startswith("Không kết nối được")
    assert "s3cret" not in "".join(said(pg, TimeoutError()))
    wrong_db = OperationalError("SELECT 1", {}, Exception('database "x" does not exist'))
    [line] = said(pg, wrong_db)
    assert line.endswith('báo lỗi khi khởi động: database "x" does not exist')
    sqlite = "sqlite+aiosqlite:////srv/data/hocvuso.sqlite3"
    readonly = OperationalError("INSERT", {}, Exception("attempt to write a readonly database"))
    first, _hint = said(sqlite, readonly)
    assert first.startswith("Không ghi được vào cơ sở dữ liệu /srv/data/hocvuso.sqlite3")
    assert said(sqlite, FileNotFoundError(2, "No such file"))[0].startswith("Không ghi được")
    [line] = said("mysql://x@y/z", ModuleNotFoundError("No module named 'MySQLdb'"))
    assert "MySQLdb" in line
