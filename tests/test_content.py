"""Content loader and checker: broken fixtures, a small valid set, and the shipped lessons."""

from __future__ import annotations

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
    Problem,
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


# fixture directory -> the exact `file:line: reason` it must produce
BROKEN_CASES: dict[str, str] = {
    "bad_date": "lessons/bai-mau.yaml:14: reviewed must be a date like 2026-11-20",
    "bad_question_id": (
        "quizzes/bai-mau.yaml:23: question 3 id 'Câu 3' may only use a-z, 0-9 and '-'"
    ),
    "bad_question_kind": (
        "quizzes/bai-mau.yaml:6: question q1 kind 'tinh-huong' is not one of: situation, knowledge"
    ),
    "bad_schema_version": "lessons/bai-mau.yaml:1: unknown schema_version 3 (this build reads 2)",
    "bad_source_date": (
        'lessons/bai-mau.yaml:21: source 1 date must be a date like 2025-10-21, "2025-10" or 2025'
    ),
    "bad_tt02_domain": (
        "lessons/bai-mau.yaml:12: unknown TT 02 domain 'an-toan' (one of: "
        "khai_thac_du_lieu, giao_tiep_hop_tac, sang_tao_noi_dung, an_toan, "
        "giai_quyet_van_de, ung_dung_ai)"
    ),
    "bad_url": "lessons/bai-mau.yaml:22: source 1 url must start with https://",
    "card_too_long": "lessons/bai-mau.yaml:25: card 2 has 510 characters (at most 500)",
    "card_without_diacritics": (
        "lessons/bai-mau.yaml:25: card 2 has no Vietnamese diacritics (all letters ASCII)"
    ),
    "correct_option_longest": (
        "quizzes/bai-mau.yaml:4: the right option is the longest in 4 of 6 questions "
        "(at most 1/2; aim for a third)"
    ),
    "duplicate_key": "lessons/bai-mau.yaml:6: duplicate field 'order' (first on line 5)",
    "duplicate_lesson_id": (
        "lessons/bai-sau.yaml:2: duplicate lesson id 'bai-mau' (also in lessons/bai-mau.yaml)"
    ),
    "duplicate_option": "quizzes/bai-mau.yaml:47: question q5 option 2 repeats option 1",
    "duplicate_question_id": (
        "quizzes/bai-mau.yaml:23: duplicate question id 'q2' (first on line 14)"
    ),
    "duplicate_topic_id": "lessons/topics.yaml:6: duplicate topic id 'an-toan' (first on line 3)",
    "empty_text": "quizzes/bai-mau.yaml:31: question q3 explanation is empty",
    "explanation_too_long": (
        "quizzes/bai-mau.yaml:13: question q1 explanation has 410 characters (at most 400)"
    ),
    "few_situations": (
        "quizzes/bai-mau.yaml:4: 2 of 6 questions are situations (at least 2/3 needed)"
    ),
    "id_filename_mismatch": (
        "lessons/bai-mau.yaml:2: id 'bai-khac' does not match file name 'bai-mau.yaml'"
    ),
    "image_outside_lessons": (
        "lessons/bai-mau.yaml:26: card 2 image '../quizzes/bai-mau.yaml' must be a path "
        "inside lessons/"
    ),
    "lesson_without_quiz": (
        "lessons/bai-hai.yaml:2: lesson 'bai-hai' has no quiz (expected quizzes/bai-hai.yaml)"
    ),
    "long_sentence": (
        "lessons/bai-mau.yaml:26: card 3 has a sentence of 30 words (at most 25): “Khi "
        "nhận nhận nhận nhận nhận …”"
    ),
    "minutes_out_of_range": "lessons/bai-mau.yaml:7: minutes is 6 (must be 2-4)",
    "missing_field": "lessons/bai-mau.yaml:1: missing field 'summary'",
    "missing_image": (
        "lessons/bai-mau.yaml:26: card 2 image file not found: lessons/media/khong-co.png"
    ),
    "missing_topics_file": "lessons/topics.yaml:1: file is missing",
    "near_duplicate_questions": (
        "quizzes/bai-mau.yaml:25: question q3 is nearly the same as question "
        "ung-dung-la (quizzes/bai-hai.yaml:25, 97% alike)"
    ),
    "no_correct_option": (
        "quizzes/bai-mau.yaml:17: question q2 has no correct option (exactly one needed)"
    ),
    "no_sources": "lessons/bai-mau.yaml:18: sources is empty (at least 1 needed)",
    "number_as_text": (
        "quizzes/bai-mau.yaml:20: question q2 option 2 must be text, not a whole number "
        "(put it in quotes)"
    ),
    "option_too_long": (
        "quizzes/bai-mau.yaml:11: question q1 option 2 has 90 characters (at most 80)"
    ),
    "option_with_because": (
        "quizzes/bai-mau.yaml:20: question q2 option 2 contains 'vì' (an option must "
        "not give its reason)"
    ),
    "option_without_diacritics": (
        "quizzes/bai-mau.yaml:30: question q3 option 3 has no Vietnamese diacritics "
        "(all letters ASCII)"
    ),
    "pass_count_out_of_range": "quizzes/bai-mau.yaml:3: pass_count is 7 (must be 1-6)",
    "qd757_tag": "lessons/bai-mau.yaml:11: framework: unknown field 'qd757'",
    "question_too_long": (
        "quizzes/bai-mau.yaml:16: question q2 text has 310 characters (at most 300)"
    ),
    "quiz_filename_mismatch": (
        "quizzes/bai-mau-quiz.yaml:2: lesson 'bai-mau' does not match file name 'bai-mau-quiz.yaml'"
    ),
    "quiz_for_missing_lesson": (
        "quizzes/bai-khong-co.yaml:2: quiz names lesson 'bai-khong-co' but no such lesson exists"
    ),
    "schema_version_1": (
        "lessons/bai-mau.yaml:1: schema_version 1 is no longer read: rewrite the file "
        "in schema_version 2 (see docs/content-format.md)"
    ),
    "source_without_date": "lessons/bai-mau.yaml:19: source 1: missing field 'date'",
    "source_without_locator": (
        "lessons/bai-mau.yaml:19: source 1 has no url or document number (a reader must "
        "be able to find it)"
    ),
    "stale_review": (
        "lessons/bai-mau.yaml:14: warning: reviewed 2025-06-30 is 524 days ago (more "
        "than 365): re-read the facts against the sources"
    ),
    "summary_too_long": "lessons/bai-mau.yaml:8: summary has 150 characters (at most 140)",
    "title_too_long": "lessons/bai-mau.yaml:3: title has 70 characters (at most 60)",
    "too_few_cards": "lessons/bai-mau.yaml:23: lesson has 2 cards (at least 3)",
    "too_few_options": "quizzes/bai-mau.yaml:8: question q1 has 2 options (at least 3)",
    "too_few_questions": "quizzes/bai-mau.yaml:4: quiz has 5 questions (at least 6)",
    "too_many_cards": "lessons/bai-mau.yaml:23: lesson has 6 cards (at most 5)",
    "too_many_options": "quizzes/bai-mau.yaml:35: question q4 has 5 options (at most 4)",
    "two_correct_options": (
        "quizzes/bai-mau.yaml:26: question q3 has 2 correct options (exactly one needed)"
    ),
    "unknown_field": "lessons/bai-mau.yaml:5: unknown field 'author'",
    "unknown_framework_tag": (
        "lessons/bai-mau.yaml:11: unknown CV 3240 skill 'mua_ban_online' (one of: "
        "dich_vu_cong, mua_sam, thanh_toan, tu_bao_ve, nen_tang_dia_phuong)"
    ),
    "unknown_topic": (
        "lessons/bai-mau.yaml:4: unknown topic 'mang-xa-hoi' (not in lessons/topics.yaml)"
    ),
    "unsafe_tag": (
        "lessons/bai-mau.yaml:3: YAML tag "
        "tag:yaml.org,2002:python/object/apply:os.system is not allowed"
    ),
    "wrong_type": "lessons/bai-mau.yaml:6: core must be true/false, not text",
    "yaml_syntax_error": (
        "lessons/bai-mau.yaml:8: YAML syntax error: mapping values are not allowed here"
    ),
}
# Warnings are shown but the content still loads and the service still starts.
WARNING_CASES = {"stale_review"}
# Defects that are, rightly, also seen from a second side (the other file of the pair).
ALSO_REPORTED = {
    "schema_version_1": [
        "quizzes/bai-mau.yaml:1: schema_version 1 is no longer read: rewrite the file in "
        "schema_version 2 (see docs/content-format.md)"
    ],
    "duplicate_lesson_id": [
        "lessons/bai-sau.yaml:2: id 'bai-mau' does not match file name 'bai-sau.yaml'"
    ],
    "id_filename_mismatch": [
        "lessons/bai-mau.yaml:2: lesson 'bai-khac' has no quiz (expected quizzes/bai-khac.yaml)",
        "quizzes/bai-mau.yaml:2: quiz names lesson 'bai-mau' but no such lesson exists",
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
    assert str(problems[2]) == f"{QUIZ}:3: pass_count is 0 (must be 1-6)"


def test_problem_prints_as_file_line_reason() -> None:
    assert str(Problem("lessons/a.yaml", 3, "title is empty")) == "lessons/a.yaml:3: title is empty"
    warning = Problem("lessons/a.yaml", 9, "old", warning=True)
    assert str(warning) == "lessons/a.yaml:9: warning: old"


def test_unknown_field_suggests_the_close_name(tmp_path: Path) -> None:
    root = tmp_path / "root"
    shutil.copytree(OK, root)
    lesson = root / "lessons/bai-mot.yaml"
    lesson.write_text(lesson.read_text(encoding="utf-8").replace("summary:", "sumary:"))
    reasons = {(p.line, p.reason) for p in check_content(root)}
    assert (8, "unknown field 'sumary' (did you mean 'summary'?)") in reasons
    assert (1, "missing field 'summary'") in reasons


@pytest.mark.parametrize(
    ("content", "line", "phrase"),
    [
        (b"", 1, "file is empty"),
        (b"# only a comment\n", 1, "file is empty"),
        (b"- a\n- b\n", 1, "the file must be a mapping, not a list"),
        (b"schema_version: 2\n---\nid: x\n", 2, "YAML syntax error"),
        (b"schema_version: 2\ntitle: caf\xe9\n", 2, "file is not valid UTF-8"),
        (b"schema_version: 2\nsources: &s [*s]\n", 2, "source 1 must be a mapping"),
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
    assert "lessons/bai-mot.yml:1: content files must end in .yaml, not .yml" in reasons
    assert "quizzes/:1: directory is missing" in reasons


def test_unsafe_tag_is_never_executed(tmp_path: Path) -> None:
    marker = tmp_path / "pwned"
    root = tmp_path / "root"
    shutil.copytree(OK, root)
    lesson = root / "lessons/bai-mot.yaml"
    text = lesson.read_text(encoding="utf-8")
    evil = f'title: !!python/object/apply:os.system ["touch {marker}"]'
    lesson.write_text(text.replace("title: Bài một", evil), encoding="utf-8")
    problems = check_content(root)
    assert any("is not allowed" in p.reason and p.line == 3 for p in problems)
    assert not marker.exists()


# ----------------------------------------------------------------- quiz fairness rules


def _with_option(tmp_path: Path, text: str) -> list[str]:
    """Problems after replacing one wrong option of the valid set with `text`."""
    root = tmp_path / "root"
    shutil.copytree(OK, root)
    quiz = root / "quizzes/bai-mot.yaml"
    old = "      - text: Gửi tin cho người nhà xem\n"
    quiz.write_text(quiz.read_text(encoding="utf-8").replace(old, f'      - text: "{text}"\n'))
    return [str(p) for p in check_content(root)]


BECAUSE = "contains 'vì' (an option must not give its reason)"
ASCII = "has no Vietnamese diacritics (all letters ASCII)"


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
    expected = [] if reason is None else [f"quizzes/bai-mot.yaml:30: question q3 option 3 {reason}"]
    assert _with_option(tmp_path, text) == expected


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
    assert "lessons/bai-mau.yaml:25: card 2 has 510 characters (at most 500)" in result.output


def test_check_command_prints_warnings_and_passes(tmp_path: Path) -> None:
    stale = BROKEN / "stale_review"
    result = CliRunner().invoke(cli, ["content", "check", str(stale)])
    assert result.exit_code == 0, result.output
    assert "lessons/bai-mau.yaml:14: warning: reviewed 2025-06-30 is" in result.output
    patient = ["content", "check", str(stale), "--max-review-age-days", "100000"]
    assert "warning" not in CliRunner().invoke(cli, patient).output


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
        ("tt02: [an_toan]", "tt02: []", ["12: framework tt02 is empty (at least 1 tag)"]),
        (
            "cv3240: [tu_bao_ve]",
            "cv3240: [tu_bao_ve, tu_bao_ve]",
            ["11: framework cv3240 repeats 'tu_bao_ve'"],
        ),
        (
            "unconfirmed: []",
            "unconfirmed: [{a: b}]",
            ["13: unconfirmed item 1 must be text, not a mapping"],
        ),
        (
            "    date: 2026-11-20",
            '    date: "2026-02-30"',
            ['21: source 1 date must be a date like 2025-10-21, "2025-10" or 2025'],
        ),
        (
            '  readability: "Người đọc thử mẫu, ngày 20/11/2026, không phải sửa gì."\n',
            "",
            ["15: review: missing field 'readability'"],
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
