"""The installed `hocvuso` command, as a user or a script would run it."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
HOCVUSO = [sys.executable, "-m", "bot.cli.main"]


def run(args, tmp_path, stdin="", **env):
    full_env = {k: v for k, v in os.environ.items() if not k.startswith("HOCVUSO_")}
    full_env.update(env)
    return subprocess.run(
        HOCVUSO + args,
        input=stdin,
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=full_env,
        timeout=120,
        encoding="utf-8",
    )


def test_jsonl_session_onboards_learns_and_records_events(tmp_path):
    from bot.content.loader import load_curriculum

    curriculum = load_curriculum(ROOT)
    lesson = next(iter(curriculum.lessons.values()))
    quiz = curriculum.quizzes[lesson.id]
    lines = [
        {"start": ""},
        {"choice": "agree"},
        {"text": "1"},
        {"text": "bo qua"},
        {"choice": f"l:{lesson.id}"},
    ]
    lines += [{"choice": "next"}] * (len(lesson.cards) - 1)
    lines.append({"choice": "quiz"})
    script = "\n".join(json.dumps(line) for line in lines) + "\n"
    result = run(["chat", "--jsonl", "--user", "script-1"], tmp_path, script)
    assert result.returncode == 0, result.stderr
    out = [json.loads(line) for line in result.stdout.splitlines()]
    assert sum(1 for o in out if o.get("waiting")) == len(lines)
    assert out[0]["choices"][0] == {"id": "agree", "label": "Đồng ý"}
    # Answer the quiz right, reading the labels as a script would.
    answers = []
    last = [o for o in out if "choices" in o][-1]
    for question in quiz.questions:
        right = question.options[question.correct_index].text
        answers.append({"text": right})  # typing the label works too
    result = run(
        ["chat", "--jsonl", "--user", "script-1"],
        tmp_path,
        "\n".join(json.dumps(a) for a in answers) + "\n",
    )
    assert result.returncode == 0, result.stderr
    assert "✍️ Câu 1/" in last["text"]
    assert "🎉" in result.stdout
    db = sqlite3.connect(tmp_path / "data" / "hocvuso.sqlite3")
    kinds = [row[0] for row in db.execute("select kind from participation_events order by id")]
    assert kinds == [
        "registered",
        "consented",
        "village_set",
        "lesson_started",
        "lesson_completed",
        "quiz_passed",
    ]


def test_jsonl_bad_line_gets_an_error_and_continues(tmp_path):
    result = run(["chat", "--jsonl"], tmp_path, 'not json\n{"start": ""}\n')
    assert result.returncode == 0
    out = [json.loads(line) for line in result.stdout.splitlines()]
    assert "error" in out[0] and out[1] == {"waiting": True}
    assert out[2]["choices"][0]["label"] == "Đồng ý"


def test_content_check_passes_on_shipped_content(tmp_path):
    result = run(["content", "check", str(ROOT)], tmp_path)
    assert result.returncode == 0, result.stdout
    assert "Nội dung hợp lệ" in result.stdout


def test_content_check_fails_with_file_line_reason(tmp_path):
    broken = ROOT / "tests" / "fixtures" / "content_broken" / "card_too_long"
    result = run(["content", "check", str(broken)], tmp_path)
    assert result.returncode == 1
    first = result.stdout.splitlines()[0]
    path, line, reason = first.split(":", 2)
    assert path.endswith(".yaml") and line.isdigit() and reason.strip()


def test_bad_configuration_is_reported_before_start(tmp_path):
    bad = tmp_path / "xa.yaml"
    bad.write_text("commune: {code: x}\nvillages: []\n", encoding="utf-8")
    result = run(["check-config"], tmp_path, HOCVUSO_COMMUNE_FILE=str(bad))
    assert result.returncode == 2
    assert f"{bad}: commune.name: Field required" in result.stderr
    assert "Traceback" not in result.stderr
