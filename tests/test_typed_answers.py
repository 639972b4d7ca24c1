"""The typing table: what residents type on each screen and what it must mean.

Each row of tests/fixtures/typed_answers.yaml is one answer as an older resident types it
on a phone keyboard, with the screen's offered choices and the expected outcome."""

from __future__ import annotations

import random
from pathlib import Path

import pytest
import yaml

from bot.content.loader import load_curriculum
from bot.core.matching import understand
from bot.core.messages import Choice

ROOT = Path(__file__).resolve().parents[1]
TABLE_FILE = Path(__file__).parent / "fixtures" / "typed_answers.yaml"
TABLE = yaml.safe_load(TABLE_FILE.read_text("utf-8"))
SCREENS = {
    name: [Choice(str(cid), label) for cid, label in choices.items()]
    for name, choices in TABLE["screens"].items()
}
CASES = TABLE["cases"]


def test_the_table_is_big_and_covers_every_outcome():
    outcomes = {case["expect"] for case in CASES}
    assert len(CASES) >= 150
    assert {"ambiguous", "none", "out_of_range"} <= outcomes
    assert all(case["screen"] in SCREENS for case in CASES)


@pytest.mark.parametrize("case", CASES, ids=[f"{c['screen']}:{c['typed']}" for c in CASES])
def test_typed_answer(case):
    offered = SCREENS[case["screen"]]
    result = understand(case["typed"], offered)
    expect = case["expect"]
    if expect == "ambiguous":
        assert result.choice is None
        assert [c.id for c in result.candidates] == case["candidates"]
    elif expect == "none":
        assert result.choice is None and not result.ambiguous and not result.out_of_range
    elif expect == "out_of_range":  # a line number the screen does not have
        assert result.choice is None and result.out_of_range
    else:
        assert result.choice is not None, f"not understood (candidates {result.candidates})"
        assert result.choice.id == str(expect)


def test_any_typing_gives_an_offered_choice_or_nothing():
    """Random mixes of the table's words, telex keys, digits, emoji and punctuation:
    never an error, and only ever a choice the screen offered."""
    rng = random.Random(11)
    pieces = [c["typed"] for c in CASES] + ["s", "f", "j", "ww", "9", "0", "👍", "🙏", "?", "ạ"]
    for _ in range(3000):
        name = rng.choice(list(SCREENS))
        offered = SCREENS[name]
        typed = "".join(rng.choice(pieces) + rng.choice(["", " ", "  ", ","]) for _ in range(3))
        result = understand(typed[: rng.randint(0, len(typed))], offered)
        assert result.choice is None or result.choice in offered
        assert all(c in offered for c in result.candidates)
        assert not (result.choice is not None and result.candidates)


def test_every_quiz_answer_typed_in_full_is_that_answer():
    """Residents on Zalo type the answer they mean; no normalisation may turn one real
    answer into another or into nothing ("hổng" in an answer is not "không")."""
    curriculum = load_curriculum(ROOT)
    for quiz in curriculum.quizzes.values():
        for question in quiz.questions:
            offered = [Choice(f"a{i}", o.text) for i, o in enumerate(question.options)]
            for choice in offered:
                assert understand(choice.label, offered).choice == choice, choice.label
                assert understand(choice.label.lower(), offered).choice == choice
