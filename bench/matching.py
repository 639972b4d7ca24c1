"""Benchmark: reading typed answers, over the typing table of tests/fixtures.

Matching runs on every typed message, so it must stay far below the cost of the
database step around it. Prints microseconds per answer (typical and worst screen);
the last line is one JSON object.

    .venv/bin/python -m bench.matching [--rounds 200]
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import yaml

from bot.core.matching import _label_polarity, _label_words, understand
from bot.core.messages import Choice

TABLE = Path(__file__).resolve().parents[1] / "tests" / "fixtures" / "typed_answers.yaml"


def main(rounds: int) -> dict[str, float | int]:
    table = yaml.safe_load(TABLE.read_text("utf-8"))
    screens = {
        name: [Choice(str(cid), label) for cid, label in choices.items()]
        for name, choices in table["screens"].items()
    }
    cases = [(case["typed"], screens[case["screen"]]) for case in table["cases"]]
    per_case: list[float] = []
    for typed, offered in cases:
        start = time.perf_counter()
        for _ in range(rounds):
            understand(typed, offered)
            # Labels change with every screen (names, titles): measure without the cache.
            _label_words.cache_clear()
            _label_polarity.cache_clear()
        per_case.append((time.perf_counter() - start) / rounds * 1e6)
    per_case.sort()
    result = {
        "answers": len(cases),
        "rounds": rounds,
        "median_us": round(per_case[len(per_case) // 2], 1),
        "max_us": round(per_case[-1], 1),
    }
    print(f"{len(cases)} typed answers, {rounds} rounds each, label cache cleared each time")
    print(f"per answer: median {result['median_us']} µs, slowest {result['max_us']} µs")
    return result


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=200)
    print(json.dumps(main(parser.parse_args().rounds)))
