"""Benchmark: `hocvuso content check` on a generated curriculum.

Copies one valid lesson of the test fixtures N times (unique ids, question texts drawn from
a Vietnamese word list so that no two are near-duplicates) and times `check_content`,
whose cross-bank near-duplicate search compares every pair of questions.

    .venv/bin/python -m bench.content [--lessons 100]

The last line printed is one JSON object.
"""

from __future__ import annotations

import argparse
import json
import random
import re
import shutil
import tempfile
import time
from pathlib import Path

from bot.content.loader import check_content

FIXTURE = Path(__file__).resolve().parents[1] / "tests" / "fixtures" / "content_ok"
_TEXT = (
    "bạn nhận tin nhắn cuộc gọi người lạ xưng công an ngân hàng cán bộ xã con cháu hàng xóm "
    "chuyển tiền mã OTP đường link ứng dụng tài khoản VNeID căn cước quét mặt quán chợ phí "
    "phạt nguội quà tặng khuyến mãi hồ sơ bảo hiểm điện thoại video giọng nói mạng yếu gấp"
)
WORDS = _TEXT.split(" ")


def build(root: Path, lessons: int, seed: int) -> int:
    rng = random.Random(seed)
    (root / "lessons").mkdir(parents=True)
    (root / "quizzes").mkdir()
    shutil.copy(FIXTURE / "lessons" / "topics.yaml", root / "lessons" / "topics.yaml")
    lesson = (FIXTURE / "lessons" / "bai-mot.yaml").read_text(encoding="utf-8")
    quiz = (FIXTURE / "quizzes" / "bai-mot.yaml").read_text(encoding="utf-8")
    questions = 0
    for n in range(lessons):
        lesson_id = f"bai-{n:03d}"
        (root / "lessons" / f"{lesson_id}.yaml").write_text(
            lesson.replace("bai-mot", lesson_id), encoding="utf-8"
        )

        def sentence(_: re.Match[str]) -> str:
            nonlocal questions
            questions += 1
            return "    text: " + " ".join(rng.choices(WORDS, k=14)) + ". Bạn làm gì?"

        text = re.sub(r"(?m)^    text: .*$", sentence, quiz.replace("bai-mot", lesson_id))
        (root / "quizzes" / f"{lesson_id}.yaml").write_text(text, encoding="utf-8")
    return questions


def main(args: argparse.Namespace) -> dict[str, object]:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "content"
        questions = build(root, args.lessons, args.seed)
        started = time.perf_counter()
        problems = check_content(root)
        elapsed = time.perf_counter() - started
    return {
        "lessons": args.lessons,
        "questions": questions,
        "problems": len(problems),
        "check_s": round(elapsed, 3),
    }


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--lessons", type=int, default=100)
    parser.add_argument("--seed", type=int, default=1)
    print(json.dumps(main(parser.parse_args())))
