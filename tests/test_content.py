"""Content loader and checker: broken fixtures, a small valid set, and the shipped lessons."""

from __future__ import annotations

import re
import shutil
from datetime import date
from pathlib import Path

import pytest
from typer.testing import CliRunner

from bot.cli.main import app as cli
from bot.content import quality
from bot.content.frameworks import CV3139, CV3240, FRAMEWORKS, TT02
from bot.content.loader import (
    ContentError,
    check_content,
    default_content_root,
    load_curriculum,
)
from bot.content.model import (
    MAX_CARD_CHARS,
    MAX_CARDS,
    MAX_MINUTES,
    MAX_OPTION_CHARS,
    MIN_CARDS,
    MIN_MINUTES,
    MIN_QUESTIONS,
    Option,
    Problem,
    Question,
)
from bot.content.overview import overview_path, render_overview
from tests.support import Chat, make_app

FIXTURES = Path(__file__).parent / "fixtures"
BROKEN = FIXTURES / "content_broken"
OK = FIXTURES / "content_ok"

LESSON = "lessons/bai-mau.yaml"
QUIZ = "quizzes/bai-mau.yaml"

# The broken fixtures are checked as of this day, with the default review age.
TODAY = date(2026, 12, 6)
REVIEW_AGE = 365


def check(root: Path) -> list[Problem]:
    return check_content(root, today=TODAY, max_review_age_days=REVIEW_AGE)


# fixture directory -> the exact `file:line: reason` it must produce (in Vietnamese: the
# content editors read these)
BROKEN_CASES: dict[str, str] = {
    "bad_date": "lessons/bai-mau.yaml:14: trường 'reviewed' phải là ngày dạng 2026-11-20",
    "bad_question_id": (
        "quizzes/bai-mau.yaml:23: câu hỏi 3, trường 'id' là 'Câu 3': chỉ được dùng a-z, 0-9 và '-'"
    ),
    "bad_question_kind": (
        "quizzes/bai-mau.yaml:6: câu hỏi q1, trường 'kind' là 'tinh-huong', phải là một "
        "trong: situation, knowledge"
    ),
    "bad_schema_version": (
        "lessons/bai-mau.yaml:1: schema_version 3 không đọc được (chương trình này đọc "
        "schema_version 2)"
    ),
    "bad_source_date": (
        "lessons/bai-mau.yaml:21: nguồn 1, trường 'date' phải là ngày dạng 2025-10-21, "
        '"2025-10" hoặc 2025'
    ),
    "bad_tt02_domain": (
        "lessons/bai-mau.yaml:12: mã TT 02 'an-toan' không có trong danh sách miền năng lực "
        "(chọn một trong: khai_thac_du_lieu, giao_tiep_hop_tac, sang_tao_noi_dung, an_toan, "
        "giai_quyet_van_de, ung_dung_ai)"
    ),
    "bad_url": "lessons/bai-mau.yaml:22: nguồn 1, trường 'url' phải bắt đầu bằng https://",
    "card_too_long": "lessons/bai-mau.yaml:25: thẻ 2 có 510 ký tự (tối đa 500)",
    "card_without_diacritics": (
        "lessons/bai-mau.yaml:25: thẻ 2 viết không dấu (cần gõ tiếng Việt có dấu)"
    ),
    "correct_option_longest": (
        "quizzes/bai-mau.yaml:4: đáp án đúng là lựa chọn dài nhất ở 4/6 câu hỏi "
        "(tối đa 1/2; nên khoảng một phần ba)"
    ),
    "duplicate_key": "lessons/bai-mau.yaml:6: trường 'order' bị lặp lại (đã có ở dòng 5)",
    "duplicate_lesson_id": (
        "lessons/bai-sau.yaml:2: mã bài 'bai-mau' bị trùng (đã có trong lessons/bai-mau.yaml)"
    ),
    "duplicate_option": ("quizzes/bai-mau.yaml:47: câu hỏi q5, lựa chọn 2 trùng với lựa chọn 1"),
    "duplicate_question_id": (
        "quizzes/bai-mau.yaml:23: mã câu hỏi 'q2' bị trùng (đã có ở dòng 14)"
    ),
    "duplicate_topic_id": ("lessons/topics.yaml:6: mã chủ đề 'an-toan' bị trùng (đã có ở dòng 3)"),
    "empty_text": "quizzes/bai-mau.yaml:31: câu hỏi q3, trường 'explanation' để trống",
    "explanation_too_long": (
        "quizzes/bai-mau.yaml:13: câu hỏi q1, trường 'explanation' có 410 ký tự (tối đa 400)"
    ),
    "few_situations": ("quizzes/bai-mau.yaml:4: chỉ 2/6 câu hỏi là tình huống (cần ít nhất 2/3)"),
    "id_filename_mismatch": (
        "lessons/bai-mau.yaml:2: mã bài 'bai-khac' không khớp tên tệp 'bai-mau.yaml'"
    ),
    "image_outside_lessons": (
        "lessons/bai-mau.yaml:26: thẻ 2: ảnh '../quizzes/bai-mau.yaml' phải nằm trong "
        "thư mục lessons/"
    ),
    "lesson_without_quiz": (
        "lessons/bai-hai.yaml:2: bài 'bai-hai' chưa có bài kiểm tra (cần tệp quizzes/bai-hai.yaml)"
    ),
    "long_sentence": (
        "lessons/bai-mau.yaml:26: thẻ 3 có câu dài 30 từ (tối đa 25): “Khi "
        "nhận nhận nhận nhận nhận …”"
    ),
    "minutes_out_of_range": "lessons/bai-mau.yaml:7: trường 'minutes' là 6 (phải từ 2 đến 4)",
    "missing_field": "lessons/bai-mau.yaml:1: thiếu trường 'summary'",
    "missing_image": (
        "lessons/bai-mau.yaml:26: thẻ 2: không tìm thấy tệp ảnh lessons/media/khong-co.png"
    ),
    "missing_topics_file": "lessons/topics.yaml:1: thiếu tệp này",
    "near_duplicate_questions": (
        "quizzes/bai-mau.yaml:25: câu hỏi q3 gần giống câu hỏi ung-dung-la "
        "(quizzes/bai-hai.yaml:25, giống 97%)"
    ),
    "no_correct_option": (
        "quizzes/bai-mau.yaml:17: câu hỏi q2 chưa có lựa chọn đúng (cần đúng một)"
    ),
    "no_sources": "lessons/bai-mau.yaml:18: trường 'sources' trống (cần ít nhất 1 nguồn)",
    "number_as_text": (
        "quizzes/bai-mau.yaml:20: câu hỏi q2, lựa chọn 2 phải là chữ, không phải số nguyên "
        "(hãy đặt trong ngoặc kép)"
    ),
    "option_too_long": ("quizzes/bai-mau.yaml:11: câu hỏi q1, lựa chọn 2 có 90 ký tự (tối đa 80)"),
    "option_with_because": (
        "quizzes/bai-mau.yaml:20: câu hỏi q2, lựa chọn 2 có chữ 'vì' (lựa chọn không được "
        "nêu lý do của nó)"
    ),
    "option_without_diacritics": (
        "quizzes/bai-mau.yaml:30: câu hỏi q3, lựa chọn 3 viết không dấu (cần gõ tiếng Việt có dấu)"
    ),
    "pass_count_out_of_range": (
        "quizzes/bai-mau.yaml:3: trường 'pass_count' là 7 (phải từ 1 đến 6)"
    ),
    "qd757_tag": "lessons/bai-mau.yaml:11: trong 'framework': trường 'qd757' không hợp lệ",
    "question_too_long": (
        "quizzes/bai-mau.yaml:16: câu hỏi q2, trường 'text' có 310 ký tự (tối đa 300)"
    ),
    "quiz_filename_mismatch": (
        "quizzes/bai-mau-quiz.yaml:2: mã bài 'bai-mau' không khớp tên tệp 'bai-mau-quiz.yaml'"
    ),
    "quiz_for_missing_lesson": (
        "quizzes/bai-khong-co.yaml:2: không có bài học mã 'bai-khong-co' cho bài kiểm tra này"
    ),
    "schema_version_1": (
        "lessons/bai-mau.yaml:1: schema_version 1 không còn được đọc: hãy viết lại tệp "
        "theo schema_version 2 (xem docs/content-format.md)"
    ),
    "source_without_date": "lessons/bai-mau.yaml:19: nguồn 1: thiếu trường 'date'",
    "source_without_locator": (
        "lessons/bai-mau.yaml:19: nguồn 1 chưa có 'url' hay 'document' (người đọc phải "
        "tìm được nguồn)"
    ),
    "stale_review": (
        "lessons/bai-mau.yaml:14: cảnh báo: ngày kiểm tra 'reviewed' 2025-06-30 đã cách "
        "đây 524 ngày (quá 365 ngày): hãy đối chiếu lại dữ kiện với các nguồn"
    ),
    "summary_too_long": ("lessons/bai-mau.yaml:8: trường 'summary' có 150 ký tự (tối đa 140)"),
    "title_too_long": "lessons/bai-mau.yaml:3: trường 'title' có 70 ký tự (tối đa 60)",
    "too_few_cards": "lessons/bai-mau.yaml:23: bài có 2 thẻ (ít nhất 3)",
    "too_few_options": "quizzes/bai-mau.yaml:8: câu hỏi q1 có 2 lựa chọn (ít nhất 3)",
    "too_few_questions": "quizzes/bai-mau.yaml:4: bài kiểm tra có 5 câu hỏi (ít nhất 6)",
    "too_many_cards": "lessons/bai-mau.yaml:23: bài có 6 thẻ (tối đa 5)",
    "too_many_options": "quizzes/bai-mau.yaml:35: câu hỏi q4 có 5 lựa chọn (tối đa 4)",
    "two_correct_options": (
        "quizzes/bai-mau.yaml:26: câu hỏi q3 có 2 lựa chọn đúng (cần đúng một)"
    ),
    "unknown_field": "lessons/bai-mau.yaml:5: trường 'author' không hợp lệ",
    "unknown_framework_tag": (
        "lessons/bai-mau.yaml:11: mã CV 3240 'mua_ban_online' không có trong danh sách "
        "kỹ năng (chọn một trong: dich_vu_cong, mua_sam, thanh_toan, tu_bao_ve, "
        "nen_tang_dia_phuong)"
    ),
    "unknown_topic": (
        "lessons/bai-mau.yaml:4: chủ đề 'mang-xa-hoi' không có trong lessons/topics.yaml"
    ),
    "unsafe_tag": (
        "lessons/bai-mau.yaml:3: không được dùng thẻ YAML "
        "tag:yaml.org,2002:python/object/apply:os.system"
    ),
    "wrong_type": "lessons/bai-mau.yaml:6: trường 'core' phải là true/false, không phải chữ",
    "yaml_syntax_error": (
        "lessons/bai-mau.yaml:8: lỗi cú pháp YAML: không được có dấu ':' ở đây "
        "(chữ có dấu ':' phải đặt trong ngoặc kép)"
    ),
}
# Warnings are shown but the content still loads and the service still starts.
WARNING_CASES = {"stale_review"}
# Defects that are, rightly, also seen from a second side (the other file of the pair).
ALSO_REPORTED = {
    "schema_version_1": [
        "quizzes/bai-mau.yaml:1: schema_version 1 không còn được đọc: hãy viết lại tệp "
        "theo schema_version 2 (xem docs/content-format.md)"
    ],
    "duplicate_lesson_id": [
        "lessons/bai-sau.yaml:2: mã bài 'bai-mau' không khớp tên tệp 'bai-sau.yaml'"
    ],
    "id_filename_mismatch": [
        "lessons/bai-mau.yaml:2: bài 'bai-khac' chưa có bài kiểm tra "
        "(cần tệp quizzes/bai-khac.yaml)",
        "quizzes/bai-mau.yaml:2: không có bài học mã 'bai-mau' cho bài kiểm tra này",
    ],
}


def test_every_broken_fixture_has_a_case() -> None:
    on_disk = {path.name for path in BROKEN.iterdir() if path.is_dir()}
    assert on_disk == set(BROKEN_CASES)


@pytest.mark.parametrize("name", sorted(BROKEN_CASES))
def test_broken_fixture_reports_exactly_its_defect(name: str) -> None:
    # One defect gives one `file:line: reason`, and does not cascade into unrelated ones.
    expected = sorted([BROKEN_CASES[name], *ALSO_REPORTED.get(name, [])])
    assert sorted(str(p) for p in check(BROKEN / name)) == expected


@pytest.mark.parametrize("name", sorted(set(BROKEN_CASES) - WARNING_CASES))
def test_broken_fixture_does_not_load(name: str) -> None:
    with pytest.raises(ContentError) as caught:
        load_curriculum(BROKEN / name)
    assert caught.value.problems == check(BROKEN / name)
    assert str(caught.value).splitlines() == [str(p) for p in caught.value.problems]


def test_old_review_is_a_warning_that_does_not_stop_loading() -> None:
    root = BROKEN / "stale_review"
    (problem,) = check(root)
    assert problem.warning
    assert load_curriculum(root).lessons["bai-mau"].reviewed == date(2025, 6, 30)
    # the age is configurable; without a day to compare with there is nothing to say
    assert check_content(root, today=TODAY, max_review_age_days=600) == []
    assert check_content(root) == []


def test_problems_are_sorted_by_path_then_line(tmp_path: Path) -> None:
    root = tmp_path / "root"
    shutil.copytree(BROKEN / "card_too_long", root)
    quiz = root / QUIZ
    quiz.write_text(quiz.read_text(encoding="utf-8").replace("pass_count: 5", "pass_count: 0"))
    lesson = root / LESSON
    lesson.write_text(lesson.read_text(encoding="utf-8").replace("minutes: 3", "minutes: 0"))
    problems = check_content(root)
    assert [(p.path, p.line) for p in problems] == [(LESSON, 7), (LESSON, 25), (QUIZ, 3)]
    assert str(problems[2]) == f"{QUIZ}:3: trường 'pass_count' là 0 (phải từ 1 đến 6)"


def test_problem_prints_as_file_line_reason() -> None:
    problem = Problem("lessons/a.yaml", 3, "trường 'title' để trống")
    assert str(problem) == "lessons/a.yaml:3: trường 'title' để trống"
    warning = Problem("lessons/a.yaml", 9, "cũ", warning=True)
    assert str(warning) == "lessons/a.yaml:9: cảnh báo: cũ"


def test_unknown_field_suggests_the_close_name(tmp_path: Path) -> None:
    root = tmp_path / "root"
    shutil.copytree(OK, root)
    lesson = root / "lessons/bai-mot.yaml"
    lesson.write_text(lesson.read_text(encoding="utf-8").replace("summary:", "sumary:"))
    reasons = {(p.line, p.reason) for p in check_content(root)}
    assert (8, "trường 'sumary' không hợp lệ (có phải ý anh/chị là 'summary'?)") in reasons
    assert (1, "thiếu trường 'summary'") in reasons


@pytest.mark.parametrize(
    ("content", "line", "phrase"),
    [
        (b"", 1, "tệp trống"),
        (b"# only a comment\n", 1, "tệp trống"),
        (b"- a\n- b\n", 1, "tệp phải gồm các dòng 'trường: giá trị', không phải danh sách"),
        (
            b"schema_version: 2\n---\nid: x\n",
            2,
            "lỗi cú pháp YAML: tệp chỉ được có một phần: bỏ dòng '---'",
        ),
        (b"schema_version: 2\ntitle: caf\xe9\n", 2, "tệp không lưu ở dạng UTF-8"),
        (b"schema_version: 2\nsources: &s [*s]\n", 2, "nguồn 1 phải gồm các dòng"),
        (b"schema_version: 2\ntitle: a\x01b\n", 2, "lỗi cú pháp YAML: tệp có ký tự không"),
    ],
)
def test_malformed_lesson_files(tmp_path: Path, content: bytes, line: int, phrase: str) -> None:
    root = tmp_path / "root"
    shutil.copytree(OK, root)
    (root / "lessons/bai-mot.yaml").write_bytes(content)
    problems = [p for p in check_content(root) if p.path == "lessons/bai-mot.yaml"]
    assert any(p.line == line and phrase in p.reason for p in problems), problems


def test_yml_extension_and_missing_directory_are_reported(tmp_path: Path) -> None:
    root = tmp_path / "root"
    shutil.copytree(OK, root)
    (root / "lessons/bai-mot.yaml").rename(root / "lessons/bai-mot.yml")
    shutil.rmtree(root / "quizzes")
    reasons = {str(p) for p in check_content(root)}
    assert "lessons/bai-mot.yml:1: tệp nội dung phải có đuôi .yaml, không phải .yml" in reasons
    assert "quizzes/:1: thiếu thư mục này" in reasons


def test_unsafe_tag_is_never_executed(tmp_path: Path) -> None:
    marker = tmp_path / "pwned"
    root = tmp_path / "root"
    shutil.copytree(OK, root)
    lesson = root / "lessons/bai-mot.yaml"
    text = lesson.read_text(encoding="utf-8")
    evil = f'title: !!python/object/apply:os.system ["touch {marker}"]'
    lesson.write_text(text.replace("title: Bài một", evil), encoding="utf-8")
    problems = check_content(root)
    assert any("không được dùng thẻ YAML" in p.reason and p.line == 3 for p in problems)
    assert not marker.exists()


# Words of the old English reasons (and of PyYAML's errors): none may reach an editor.
ENGLISH = (
    " must ",
    " missing",
    "unknown",
    " not ",
    "characters",
    " is ",
    " has ",
    "field",
    "did you mean",
    "expected",
    "found",
    "allowed",
    "empty",
    "warning",
    "question",
    "option",
    "source",
    "card",
    " line ",
)
# What an editor typed (field names, ids, values) may be English: it is quoted.
_QUOTED = re.compile(r"'[^']*'|“[^”]*”|\"[^\"]*\"")
BROKEN_YAML = [
    b"",
    b"- a\n- b\n",
    b"schema_version: 2\n---\nid: x\n",
    b"schema_version: 2\ntitle: caf\xe9\n",
    b"schema_version: 2\ntitle: a\x01b\n",
    b"schema_version: 2\n\tid: x\n",
    b'schema_version: 2\ntitle: "abc\n',
    b"schema_version: 2\nid: x\n  title: y\n",
    b"schema_version: 2\ncards: [a, b\n",
    b"schema_version: 2\nid: *x\n",
    b'schema_version: 2\ntitle: "a\\qb"\n',
    b"schema_version: 2\nid: [\n",
    b"schema_version: 2\n- a\n",
    b"schema_version: 2\ntitle: @abc\n",
    b'schema_version: 2\ntitle: "abc" def\n',
    b"schema_version: 2\nid: &a x\ntitle: &a y\n",
    b"%YAML 2.0\n---\na: 1\n",
    b"schema_version: 2\n1: x\ntitle: ~\nsources: []\ncards: x\n",
    b"schema_version: 2\nid: bai-mot\nminutes: 0x1\norder: 1.5\nreviewed: [1]\n",
    b"!foo x\n",
]


# Other files of the valid set, broken in ways the fixtures do not show.
BROKEN_OTHER = [
    ("lessons/topics.yaml", b"schema_version: 2\ntopics: []\n"),
    ("lessons/topics.yaml", b"schema_version: 2\ntopics:\n  - id: A B\n    title: ''\n"),
    ("quizzes/bai-mot.yaml", b"schema_version: 2\nlesson: bai-mot\npass_count: x\nquestions: 3\n"),
    (
        "quizzes/bai-mot.yaml",
        b"schema_version: 2\nlesson: bai-mot\npass_count: 1\nquestions:\n  - 5\n"
        b"  - id: q2\n    kind: k\n    text: T\xc3\xb4i?\n    explanation: ''\n"
        b"    options: [{text: a, correct: maybe}, b, {text: c, correct: true, x: 1}]\n",
    ),
]


def _reasons_of_broken_files(tmp_path: Path) -> list[str]:
    reasons = [p.reason for name in BROKEN_CASES for p in check(BROKEN / name)]
    cases = [("lessons/bai-mot.yaml", content) for content in BROKEN_YAML] + BROKEN_OTHER
    for number, (path, content) in enumerate(cases):
        root = tmp_path / str(number)
        shutil.copytree(OK, root)
        (root / path).write_bytes(content)
        reasons.extend(p.reason for p in check(root))
    return reasons


def test_reasons_are_vietnamese(tmp_path: Path) -> None:
    reasons = _reasons_of_broken_files(tmp_path)
    assert len(reasons) > 100
    english = [
        reason
        for reason in reasons
        if any(word in _QUOTED.sub("", reason).lower() for word in ENGLISH)
    ]
    assert english == []
    warning = str(check(BROKEN / "stale_review")[0])
    assert "cảnh báo: " in warning and "warning" not in warning


# ----------------------------------------------------------------- quiz fairness rules


def _with_option(tmp_path: Path, text: str) -> list[str]:
    """Problems after replacing one wrong option of the valid set with `text`."""
    root = tmp_path / "root"
    shutil.copytree(OK, root)
    quiz = root / "quizzes/bai-mot.yaml"
    old = "      - text: Gửi tin cho người nhà xem\n"
    quiz.write_text(quiz.read_text(encoding="utf-8").replace(old, f'      - text: "{text}"\n'))
    return [str(p) for p in check_content(root)]


BECAUSE = "có chữ 'vì' (lựa chọn không được nêu lý do của nó)"
ASCII = "viết không dấu (cần gõ tiếng Việt có dấu)"


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("Gửi tin, vì người nhà rành hơn", BECAUSE),
        ("Vì tò mò nên bấm thử", BECAUSE),
        ("Gui tin cho nguoi nha xem", ASCII),
        ("Hỏi vị cán bộ ở xã", None),  # "vị" is another word
        ("Gửi cho Zalo OA của xã", None),  # names in ASCII inside Vietnamese text are fine
        ("113", None),  # a number has no letters to accent
    ],
)
def test_option_rules(tmp_path: Path, text: str, reason: str | None) -> None:
    where = "quizzes/bai-mot.yaml:30: câu hỏi q3, lựa chọn 3"
    expected = [] if reason is None else [f"{where} {reason}"]
    assert _with_option(tmp_path, text) == expected


# The valid set's wrong options that are shorter than the right one, and longer wordings:
# with these, the right option is the shortest of all six questions of bai-mot.
LONGER_WRONG = {
    "Nhắn mã": "Nhắn mã qua Zalo cho họ",
    "Quét lại": "Quét lại lần nữa rồi chuyển",
    "Nhắn hỏi lại": "Nhắn lại hỏi số tài khoản",
    "Đổi mật khẩu": "Đổi tên tài khoản ngân hàng",
    "Khi máy chậm": "Khi có người lạ gọi điện nhắc cập nhật",
}


def test_right_option_shortest_in_most_questions_is_refused(tmp_path: Path) -> None:
    # A reader who learnt "never the longest" must not find the answer the other way round.
    root = tmp_path / "root"
    shutil.copytree(OK, root)
    quiz = root / "quizzes/bai-mot.yaml"
    text = quiz.read_text(encoding="utf-8")
    for short, long in LONGER_WRONG.items():
        assert f"      - text: {short}\n" in text
        text = text.replace(f"      - text: {short}\n", f"      - text: {long}\n")
    quiz.write_text(text, encoding="utf-8")
    assert [str(p) for p in check_content(root)] == [
        "quizzes/bai-mot.yaml:4: đáp án đúng là lựa chọn ngắn nhất ở 6/6 câu hỏi "
        "(tối đa 1/2): người học đoán được đáp án theo độ dài"
    ]
    with pytest.raises(ContentError):
        load_curriculum(root)


def test_shortest_counts_only_a_right_option_shorter_than_every_other() -> None:
    def question(*options: tuple[str, bool]) -> Question:
        made = tuple(Option(text, correct) for text, correct in options)
        return Question("q", "knowledge", "Câu hỏi?", made, "Giải thích.")

    assert quality.shortest_is_correct(question(("Có", True), ("Không ạ", False), ("Chưa", False)))
    # same length as a wrong option: nothing to guess from
    assert not quality.shortest_is_correct(question(("Có", True), ("Ừ", False), ("Chưa", False)))
    assert not quality.shortest_is_correct(question(("Chưa", True), ("Có", False), ("Ừm", False)))


def test_sentence_length_counts_words_not_symbols() -> None:
    assert quality.sentences("Một. Hai ba!\n• Bốn: năm") == ["Một.", "Hai ba!", "• Bốn:", "năm"]
    assert quality.word_count("👉 Hôm nay bạn hãy: gọi 156 - miễn phí") == 8
    # a dot inside a number or a web address does not end a sentence
    assert quality.sentences("Chuyển 1.000.000 đồng qua binhdanhocvuso.gov.vn nhé.") == [
        "Chuyển 1.000.000 đồng qua binhdanhocvuso.gov.vn nhé."
    ]


def test_similar_framing_is_not_a_duplicate_but_a_rewording_is() -> None:
    a = "Bạn nhận tin nhắn báo trúng thưởng kèm một đường link lạ. Bạn làm gì?"
    b = "Bạn nhận được tin nhắn báo trúng thưởng, kèm đường link lạ. Bạn làm gì?"
    c = "Bạn nhận tin nhắn báo khóa tài khoản ngân hàng, kèm số gọi lại. Bạn làm gì?"
    assert quality.similarity(a, b) >= 0.85 > quality.similarity(a, c)


# ----------------------------------------------------------------- the small valid set


def test_ok_fixture_has_no_problems() -> None:
    # it has "156" as an option, dates as day and month, cv3139 tags quoted and not
    assert check(OK) == []


def test_ok_fixture_loads_in_catalogue_order() -> None:
    curriculum = load_curriculum(OK)
    # topic order (thiet-bi 10, an-toan 20), then lesson order inside the topic
    assert list(curriculum.lessons) == ["bai-hai", "bai-mot", "bai-ba"]
    assert [t.id for t in curriculum.ordered_topics()] == ["thiet-bi", "an-toan"]
    assert curriculum.core_lesson_ids() == ["bai-mot", "bai-ba"]


def test_ok_fixture_values() -> None:
    curriculum = load_curriculum(OK)
    lesson = curriculum.lessons["bai-ba"]
    assert lesson.path == "lessons/bai-ba.yaml"
    assert lesson.reviewed == date(2026, 11, 20)
    assert lesson.action == "Hôm nay bạn hãy đọc kỹ tên người nhận trước khi chuyển tiền."
    assert lesson.framework.cv3240 == ("tu_bao_ve", "thanh_toan")
    assert lesson.framework.tt02 == ("an_toan",)
    assert lesson.framework.cv3139 == ()
    assert lesson.unconfirmed == ()
    assert lesson.review.facts.startswith("Người kiểm tra mẫu")
    first, second = lesson.sources
    assert (first.publisher, first.date, first.url) == (
        "Cổng Bình dân học vụ số",
        "2026-11-20",
        "https://binhdanhocvuso.gov.vn",
    )
    assert (second.date, second.url, second.document) == ("2024-06", None, "69/2024/NĐ-CP")
    assert lesson.cards[0].text == "Thẻ thứ nhất.\nDòng thứ hai của thẻ."  # block text, stripped
    assert lesson.cards[2].image == "media/hinh-mau.png"
    assert lesson.cards[0].image is None

    other = curriculum.lessons["bai-hai"]
    assert other.framework.cv3139 == ("0.1", "0.2")  # 0.2 unquoted is read as written
    assert other.unconfirmed == ("Một điều mẫu chưa được xác nhận",)

    quiz = curriculum.quizzes["bai-ba"]
    assert quiz.path == "quizzes/bai-ba.yaml"
    assert quiz.pass_count == 5
    assert [q.id for q in quiz.questions] == ["q1", "q2", "q3", "q4", "q5", "q6"]
    assert [q.kind for q in quiz.questions] == ["situation"] * 4 + ["knowledge"] * 2
    first_question = quiz.questions[0]
    assert [o.text for o in first_question.options] == [
        "Đóng trang đó lại",
        "Nhập số căn cước để nhận quà",
        "156",
    ]
    assert first_question.correct_index == 0
    assert quiz.passed(5) and quiz.passed(6) and not quiz.passed(4)


def test_texts_are_normalised_to_nfc(tmp_path: Path) -> None:
    root = tmp_path / "root"
    shutil.copytree(OK, root)
    lesson = root / "lessons/bai-mot.yaml"
    decomposed = "Bài một".replace("à", "a\u0300").replace("ộ", "o\u0323\u0302")
    text = lesson.read_text(encoding="utf-8").replace("title: Bài một", f"title: {decomposed}")
    lesson.write_text(text, encoding="utf-8")
    assert load_curriculum(root).lessons["bai-mot"].title == "Bài một"


def test_date_given_as_quoted_text_is_accepted(tmp_path: Path) -> None:
    root = tmp_path / "root"
    shutil.copytree(OK, root)
    lesson = root / "lessons/bai-mot.yaml"
    text = lesson.read_text(encoding="utf-8")
    text = text.replace("reviewed: 2026-11-20", 'reviewed: "2026-11-21"')
    lesson.write_text(text.replace("    date: 2026-11-20", "    date: 2026"))
    loaded = load_curriculum(root).lessons["bai-mot"]
    assert loaded.reviewed == date(2026, 11, 21)
    assert loaded.sources[0].date == "2026"


# ----------------------------------------------------------------- frameworks and overview


def test_framework_lists_are_the_confirmed_ones() -> None:
    assert list(CV3139) == ["0.1", "0.2", "1.1", "1.2"]
    assert len(CV3240) == 5 and len(TT02) == 6
    assert [fw.key for fw in FRAMEWORKS] == ["cv3139", "cv3240", "tt02"]
    assert FRAMEWORKS[0].label("0.1") == "CV 3139 0.1: Sử dụng thiết bị"
    assert FRAMEWORKS[1].label("mua_sam") == "CV 3240: Mua sắm trực tuyến"


def test_overview_shows_the_programme_and_every_lesson() -> None:
    text = render_overview(load_curriculum(OK))
    assert "Người học hoàn thành chương trình cơ bản khi đạt bài kiểm tra của 2 bài sau" in text
    # a basic-programme part with no core lesson says so
    assert "| Mua sắm trực tuyến | CV 3240 | Chưa có bài | – |" in text
    assert "| Thanh toán trực tuyến | CV 3240 | Bài ba | – |" in text
    row = next(line for line in text.splitlines() if line.startswith("| 1 |"))
    assert row == (
        "| 1 | Bài hai (`bai-hai`) | Dùng điện thoại | Hôm nay bạn hãy đọc kỹ tên người nhận "
        "trước khi chuyển tiền. | 3 | CV 3139 0.1: Sử dụng thiết bị<br>CV 3139 0.2: Sử dụng "
        "phần mềm trên thiết bị<br>TT 02: Giải quyết vấn đề | Không | 6 (đạt khi đúng 5/6) "
        "| 20/11/2026 | 1 |"
    )
    assert "Câu tình huống: 67%. Câu có đáp án đúng dài nhất: 0%." in text


def test_overview_command_writes_lessons_readme(tmp_path: Path) -> None:
    root = tmp_path / "root"
    shutil.copytree(OK, root)
    result = CliRunner().invoke(cli, ["content", "overview", str(root)])
    assert result.exit_code == 0, result.output
    assert overview_path(root).read_text(encoding="utf-8") == render_overview(load_curriculum(OK))
    assert check(root) == []  # the README is not taken for content


def test_overview_command_refuses_broken_content() -> None:
    result = CliRunner().invoke(cli, ["content", "overview", str(BROKEN / "card_too_long")])
    assert result.exit_code == 1
    assert "lessons/bai-mau.yaml:25: thẻ 2 có 510 ký tự (tối đa 500)" in result.output


def test_check_command_prints_warnings_and_passes(tmp_path: Path) -> None:
    stale = BROKEN / "stale_review"
    result = CliRunner().invoke(cli, ["content", "check", str(stale)])
    assert result.exit_code == 0, result.output
    assert "lessons/bai-mau.yaml:14: cảnh báo: ngày kiểm tra 'reviewed' 2025-06-30" in (
        result.output
    )
    patient = ["content", "check", str(stale), "--max-review-age-days", "100000"]
    assert "lessons/bai-mau.yaml" not in CliRunner().invoke(cli, patient).output


# ----------------------------------------------------------------- the shipped curriculum


def test_default_root_holds_the_content() -> None:
    root = default_content_root()
    assert (root / "lessons" / "topics.yaml").is_file()
    assert (root / "quizzes").is_dir()


def test_shipped_content_has_no_problems() -> None:
    problems = [p for p in check_content(default_content_root()) if not p.warning]
    assert problems == [], "\n".join(map(str, problems))


def test_shipped_overview_is_current() -> None:
    root = default_content_root()
    current = render_overview(load_curriculum(root))
    on_disk = (
        overview_path(root).read_text(encoding="utf-8") if overview_path(root).exists() else ""
    )
    assert on_disk == current, "lessons/README.md is out of date: run `hocvuso content overview`"


def test_shipped_curriculum() -> None:
    curriculum = load_curriculum(default_content_root())
    assert len(curriculum.lessons) >= 4
    assert curriculum.core_lesson_ids()
    assert set(curriculum.quizzes) == set(curriculum.lessons)
    for lesson in curriculum.lessons.values():
        assert lesson.framework.tt02 and lesson.sources
        assert MIN_MINUTES <= lesson.minutes <= MAX_MINUTES
        assert MIN_CARDS <= len(lesson.cards) <= MAX_CARDS
        assert all(len(card.text) <= MAX_CARD_CHARS for card in lesson.cards)
        quiz = curriculum.quizzes[lesson.id]
        assert len(quiz.questions) >= MIN_QUESTIONS
        assert 0 < quiz.pass_count <= len(quiz.questions)
        for question in quiz.questions:
            assert 3 <= len(question.options) <= 4
            assert sum(option.correct for option in question.options) == 1
            assert all(len(option.text) <= MAX_OPTION_CHARS for option in question.options)


def test_shipped_lessons_follow_topic_order() -> None:
    curriculum = load_curriculum(default_content_root())
    topic_rank = {t.id: i for i, t in enumerate(curriculum.ordered_topics())}
    ranks = [(topic_rank[lesson.topic], lesson.order) for lesson in curriculum.lessons.values()]
    assert ranks == sorted(ranks)
    assert list(curriculum.lessons)[0] == "dien-thoai-co-ban"


# ----------------------------------------------------------------- what residents are told


@pytest.fixture
async def app(db_url, tmp_path, clock):
    built = await make_app(db_url, tmp_path, clock)
    yield built
    await built.close()


async def test_resident_is_told_the_pass_mark_as_a_count(app) -> None:
    chat = Chat(app)
    await chat.onboard()
    lesson = next(iter(app.engine.services.curriculum.lessons.values()))
    quiz = app.engine.services.curriculum.quizzes[lesson.id]
    need, total = quiz.pass_count, len(quiz.questions)
    assert need < total  # the attempt below passes with one wrong answer
    await chat.read_lesson(lesson.id)
    assert f"Bạn cần đúng ít nhất {need}/{total} câu để đạt" in chat.last.text
    await chat.take_quiz(lesson.id, correct=need - 1)
    assert f"đúng {need - 1}/{total} câu. Cần đúng ít nhất {need}/{total} câu" in chat.last.text
    await chat.choose("retry")
    await chat.take_quiz(lesson.id, correct=need)  # exactly the pass mark is enough
    assert f"🎉 Bạn trả lời đúng {need}/{total} câu (cần đúng ít nhất {need}/{total}" in (
        chat.last.text
    )


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        (
            "tt02: [an_toan]",
            "tt02: []",
            ["12: trường 'tt02' trong 'framework' trống (cần ít nhất 1 mã)"],
        ),
        (
            "cv3240: [tu_bao_ve]",
            "cv3240: [tu_bao_ve, tu_bao_ve]",
            ["11: trường 'cv3240' trong 'framework' lặp lại 'tu_bao_ve'"],
        ),
        (
            "unconfirmed: []",
            "unconfirmed: [{a: b}]",
            ["13: trường 'unconfirmed', mục 1 phải là chữ, không phải các dòng 'trường: giá trị'"],
        ),
        (
            "    date: 2026-11-20",
            '    date: "2026-02-30"',
            ["21: nguồn 1, trường 'date' phải là ngày dạng 2025-10-21, \"2025-10\" hoặc 2025"],
        ),
        (
            '  readability: "Người đọc thử mẫu, ngày 20/11/2026, không phải sửa gì."\n',
            "",
            ["15: trong 'review': thiếu trường 'readability'"],
        ),
        # a source may give both a url and a document number
        ("    url: https://", "    document: 1/2024/TT-X\n    url: https://", []),
    ],
)
def test_lesson_metadata_rules(tmp_path: Path, old: str, new: str, expected: list[str]) -> None:
    root = tmp_path / "root"
    shutil.copytree(OK, root)
    lesson = root / "lessons/bai-mot.yaml"
    text = lesson.read_text(encoding="utf-8")
    assert old in text
    lesson.write_text(text.replace(old, new), encoding="utf-8")
    assert [str(p) for p in check_content(root)] == [f"lessons/bai-mot.yaml:{e}" for e in expected]
