"""`hocvuso check-config` says what is wrong with `[[bots]]` in one Vietnamese line and
exits 2: a name used twice or reserved, one token for two bots, webhook mode without a
secret or URL, a commune code no commune file has. A sound setup passes."""

from __future__ import annotations

import pytest

from tests.test_service_startup import clean_env
from tests.test_startup_faults import fault_lines, run

TG = '[[bots]]\nname = "{name}"\nmessenger = "telegram"\ntoken = "{token}"\n{extra}\n'


def bots(*entries: tuple[str, str, str]) -> str:
    return "".join(TG.format(name=n, token=t, extra=e) for n, t, e in entries)


GOOD = bots(("tg-a", "1:a", ""), ("tg-b", "2:b", 'communes = ["hoa-an"]'))
WEBHOOK = 'mode = "webhook"\nwebhook_url = "https://bot.example.vn/webhook/tg-a"'


@pytest.mark.parametrize(
    ("toml", "expected"),
    [
        (bots(("tg-a", "1:a", ""), ("tg-a", "2:b", "")), 'hai bot cùng tên "tg-a"'),
        (bots(("zalo", "1:a", "")), 'tên bot "zalo" đã dành riêng'),
        (
            bots(("tg-a", "1:a", ""), ("tg-b", "1:a", "")),
            'bot "tg-b" dùng cùng token với bot "tg-a"',
        ),
        (
            bots(("tg-a", "1:a", WEBHOOK)),
            'bot "tg-a" chạy chế độ webhook nhưng chưa có webhook_secret',
        ),
        (
            bots(("tg-a", "1:a", 'mode = "webhook"\nwebhook_secret = "s3cret"')),
            "chưa có webhook_url (địa chỉ https công khai, kết thúc bằng /webhook/tg-a)",
        ),
        (
            bots(("tg-a", "1:a", WEBHOOK + '\nwebhook_secret = "not allowed!"')),
            'webhook_secret của bot "tg-a" chỉ được gồm',
        ),
        (
            bots(("tg-a", "1:a", 'communes = ["hoa-an", "xa-khong-co"]')),
            'bot "tg-a" phục vụ xã có mã xa-khong-co, nhưng không tệp thông tin xã nào có mã này',
        ),
    ],
    ids=["duplicate", "reserved", "same-token", "no-secret", "no-url", "bad-secret", "commune"],
)
def test_a_faulty_bot_is_one_vietnamese_line(tmp_path, toml, expected) -> None:
    config = tmp_path / "hocvuso.toml"
    config.write_text(toml, encoding="utf-8")
    result = run(["check-config"], clean_env(tmp_path, HOCVUSO_CONFIG=str(config)), tmp_path)
    [line] = fault_lines(result)
    assert line.startswith("Cấu hình chưa đúng:") and expected in line, line
    assert "1:a" not in result.stderr  # never a token


def test_sound_bots_pass(tmp_path) -> None:
    config = tmp_path / "hocvuso.toml"
    config.write_text(GOOD, encoding="utf-8")
    result = run(["check-config"], clean_env(tmp_path, HOCVUSO_CONFIG=str(config)), tmp_path)
    assert result.returncode == 0, result.stderr[-2000:]
