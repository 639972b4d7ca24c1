"""Content loader and checker: broken fixtures, a small valid set, and the shipped lessons."""

from __future__ import annotations

import shutil
from datetime import date
from pathlib import Path

import pytest

from bot.content.loader import (
    ContentError,
    check_content,
    default_content_root,
    load_curriculum,
)
from bot.content.model import (
    MAX_CARD_CHARS,
    MAX_OPTION_CHARS,
    MIN_QUESTIONS,
    TT02_DOMAINS,
    Problem,
)

FIXTURES = Path(__file__).parent / "fixtures"
BROKEN = FIXTURES / "content_broken"
OK = FIXTURES / "content_ok"

LESSON = "lessons/bai-mau.yaml"
QUIZ = "quizzes/bai-mau.yaml"

# fixture directory -> (file, exact line, phrase the reason must contain)
BROKEN_CASES: dict[str, tuple[str, int, str]] = {
    "bad_schema_version": (LESSON, 1, "unknown schema_version 2 (this build reads 1)"),
    "missing_field": (LESSON, 1, "missing field 'summary'"),
    "unknown_field": (LESSON, 4, "unknown field 'author'"),
    "duplicate_lesson_id": ("lessons/bai-sau.yaml", 2, "duplicate lesson id 'bai-mau'"),
    "id_filename_mismatch": (LESSON, 2, "id 'bai-khac' does not match file name 'bai-mau.yaml'"),
    "unknown_topic": (LESSON, 4, "unknown topic 'mang-xa-hoi'"),
    "lesson_without_quiz": ("lessons/bai-hai.yaml", 2, "lesson 'bai-hai' has no quiz"),
    "quiz_for_missing_lesson": (
        "quizzes/bai-khong-co.yaml",
        2,
        "quiz names lesson 'bai-khong-co' but no such lesson exists",
    ),
    "card_too_long": (LESSON, 17, "card 2 has 650 characters (at most 600)"),
    "too_few_cards": (LESSON, 15, "lesson has 1 card (at least 2)"),
    "too_many_cards": (LESSON, 15, "lesson has 7 cards (at most 6)"),
    "too_few_questions": (QUIZ, 4, "quiz has 4 questions (at least 5)"),
    "two_correct_options": (QUIZ, 21, "question q3 has 2 correct options"),
    "no_correct_option": (QUIZ, 14, "question q2 has no correct option"),
    "too_many_options": (QUIZ, 28, "question q4 has 5 options (at most 4)"),
    "too_few_options": (QUIZ, 7, "question q1 has 1 option (at least 2)"),
    "option_too_long": (QUIZ, 10, "question q1 option 2 has 90 characters (at most 80)"),
    "duplicate_option": (QUIZ, 38, "question q5 option 2 repeats option 1"),
    "duplicate_question_id": (QUIZ, 26, "duplicate question id 'q2' (first on line 12)"),
    "empty_text": (QUIZ, 25, "question q3 explanation is empty"),
    "yaml_syntax_error": (LESSON, 8, "YAML syntax error: mapping values are not allowed here"),
    "bad_tt02_domain": (LESSON, 11, "unknown TT 02 domain 'an-toan'"),
    "missing_image": (LESSON, 18, "card 2 image file not found: lessons/media/khong-co.png"),
    "image_outside_lessons": (LESSON, 18, "must be a path inside lessons/"),
    "unsafe_tag": (LESSON, 3, "python/object/apply:os.system is not allowed"),
    "duplicate_key": (LESSON, 6, "duplicate field 'order' (first on line 5)"),
    "quiz_filename_mismatch": (
        "quizzes/bai-mau-quiz.yaml",
        2,
        "lesson 'bai-mau' does not match file name 'bai-mau-quiz.yaml'",
    ),
    "bad_question_id": (QUIZ, 19, "question 3 id 'Câu 3' may only use a-z, 0-9 and '-'"),
    "minutes_out_of_range": (LESSON, 7, "minutes is 45 (must be 1-30)"),
    "pass_percent_out_of_range": (QUIZ, 3, "pass_percent is 0 (must be 1-100)"),
    "title_too_long": (LESSON, 3, "title has 70 characters (at most 60)"),
    "summary_too_long": (LESSON, 8, "summary has 150 characters (at most 140)"),
    "question_too_long": (QUIZ, 13, "question q2 text has 310 characters (at most 300)"),
    "explanation_too_long": (
        QUIZ,
        11,
        "question q1 explanation has 410 characters (at most 400)",
    ),
    "wrong_type": (LESSON, 6, "core must be true/false, not text"),
    "number_as_text": (QUIZ, 17, "option 2 must be text, not a whole number (put it in quotes)"),
    "bad_date": (LESSON, 12, "reviewed must be a date like 2026-11-20"),
    "no_sources": (LESSON, 13, "sources is empty"),
    "bad_url": (LESSON, 15, "source 1 url must start with https:// or http://"),
    "missing_topics_file": ("lessons/topics.yaml", 1, "file is missing"),
    "duplicate_topic_id": ("lessons/topics.yaml", 6, "duplicate topic id 'an-toan'"),
}


def test_every_broken_fixture_has_a_case() -> None:
    on_disk = {path.name for path in BROKEN.iterdir() if path.is_dir()}
    assert on_disk == set(BROKEN_CASES)


@pytest.mark.parametrize("name", sorted(BROKEN_CASES))
def test_broken_fixture_is_reported_at_its_line(name: str) -> None:
    path, line, phrase = BROKEN_CASES[name]
    problems = check_content(BROKEN / name)
    matching = [p for p in problems if p.path == path and p.line == line and phrase in p.reason]
    assert matching, f"expected {path}:{line}: …{phrase}… in:\n" + "\n".join(map(str, problems))


@pytest.mark.parametrize("name", sorted(BROKEN_CASES))
def test_broken_fixture_does_not_load(name: str) -> None:
    with pytest.raises(ContentError) as caught:
        load_curriculum(BROKEN / name)
    assert caught.value.problems == check_content(BROKEN / name)
    assert str(caught.value).splitlines() == [str(p) for p in caught.value.problems]


@pytest.mark.parametrize(
    "name",
    [
        "bad_schema_version",
        "card_too_long",
        "missing_image",
        "two_correct_options",
        "yaml_syntax_error",
        "empty_text",
    ],
)
def test_single_defect_gives_single_problem(name: str) -> None:
    # One defect must not cascade into unrelated problems elsewhere.
    assert len(check_content(BROKEN / name)) == 1


def test_problems_are_sorted_by_path_then_line(tmp_path: Path) -> None:
    root = tmp_path / "root"
    shutil.copytree(BROKEN / "card_too_long", root)
    quiz = root / QUIZ
    quiz.write_text(quiz.read_text(encoding="utf-8").replace("pass_percent: 80", "pass_percent: 0"))
    lesson = root / LESSON
    lesson.write_text(lesson.read_text(encoding="utf-8").replace("minutes: 3", "minutes: 0"))
    problems = check_content(root)
    assert [(p.path, p.line) for p in problems] == [(LESSON, 7), (LESSON, 17), (QUIZ, 3)]


def test_problem_prints_as_file_line_reason() -> None:
    assert str(Problem("lessons/a.yaml", 3, "title is empty")) == "lessons/a.yaml:3: title is empty"


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
        (b"schema_version: 1\n---\nid: x\n", 2, "YAML syntax error"),
        (b"schema_version: 1\ntitle: caf\xe9\n", 2, "file is not valid UTF-8"),
        (b"schema_version: 1\nsources: &s [*s]\n", 2, "source 1 must be a mapping"),
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


# ----------------------------------------------------------------- the small valid set


def test_ok_fixture_has_no_problems() -> None:
    assert check_content(OK) == []


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
    assert lesson.tt02_domain == "an_toan"
    assert lesson.qd757_area == "Bài mẫu"
    assert lesson.sources[0].url == "https://binhdanhocvuso.gov.vn"
    assert lesson.cards[0].text == "Thẻ thứ nhất.\nDòng thứ hai của thẻ."  # block text, stripped
    assert lesson.cards[2].image == "media/hinh-mau.png"
    assert lesson.cards[0].image is None

    quiz = curriculum.quizzes["bai-ba"]
    assert quiz.path == "quizzes/bai-ba.yaml"
    assert quiz.pass_percent == 80
    assert [q.id for q in quiz.questions] == ["q1", "q2", "q3", "q4", "q5"]
    first = quiz.questions[0]
    assert [o.text for o in first.options] == ["Đúng", "Sai", "156"]
    assert first.correct_index == 0
    assert quiz.passed(4) and not quiz.passed(3)


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
    lesson.write_text(text.replace("reviewed: 2026-11-20", 'reviewed: "2026-11-21"'))
    assert load_curriculum(root).lessons["bai-mot"].reviewed == date(2026, 11, 21)


# ----------------------------------------------------------------- the shipped curriculum


def test_default_root_holds_the_content() -> None:
    root = default_content_root()
    assert (root / "lessons" / "topics.yaml").is_file()
    assert (root / "quizzes").is_dir()


def test_shipped_content_has_no_problems() -> None:
    problems = check_content(default_content_root())
    assert problems == [], "\n".join(map(str, problems))


def test_shipped_curriculum() -> None:
    curriculum = load_curriculum(default_content_root())
    assert len(curriculum.lessons) >= 4
    expected = {"dien-thoai-co-ban", "vneid-co-ban", "nhan-biet-lua-dao", "thanh-toan-qr"}
    assert expected <= set(curriculum.core_lesson_ids())
    assert set(curriculum.quizzes) == set(curriculum.lessons)
    for lesson in curriculum.lessons.values():
        assert lesson.tt02_domain in TT02_DOMAINS
        assert lesson.sources
        assert all(len(card.text) <= MAX_CARD_CHARS for card in lesson.cards)
        quiz = curriculum.quizzes[lesson.id]
        assert len(quiz.questions) >= max(5, MIN_QUESTIONS)
        assert quiz.pass_percent == 80
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
