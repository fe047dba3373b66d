"""The tolerant score parser, measured on a corpus of answers written as GPT-4, GPT-3.5, Llama-3, Qwen and
Mistral instruct models write them (tests/data/teacher_answers.jsonl: each answer with its expected score and
reason, or the reason it must be refused)."""

import json
from collections import Counter
from pathlib import Path

import pytest

from phi1repro.teacher.scores import EDUCATIONAL_VALUE, ERRORS, SOLUTION_GRADE, parse_score

CORPUS = [json.loads(line) for line in (Path(__file__).parent / "data/teacher_answers.jsonl").open()]
SCALES = {"annotate": EDUCATIONAL_VALUE, "grade": SOLUTION_GRADE}


def test_the_corpus_covers_four_model_families_and_refusals():
    families = Counter(a["family"] for a in CORPUS if a["error"] is None)
    assert len(CORPUS) >= 200 and len(families) >= 4 and min(families.values()) >= 20
    assert {a["error"] for a in CORPUS} - {None} <= set(ERRORS) and sum(a["error"] is not None for a in CORPUS) >= 20


def test_parse_rate_on_the_corpus():
    parsed = {a["id"]: parse_score(a["answer"], SCALES[a["task"]]) for a in CORPUS}
    readable = [a for a in CORPUS if a["error"] is None]
    read = [a for a in readable if parsed[a["id"]].error is None]
    wrong = [a["id"] for a in CORPUS if parsed[a["id"]].score is not None and parsed[a["id"]].score != a["score"]]
    reasons = [a["id"] for a in read if parsed[a["id"]].reason != a["reason"]]
    missed = [(a["id"], a["error"], parsed[a["id"]].error) for a in CORPUS
              if a["error"] is not None and parsed[a["id"]].error != a["error"]]
    print(f"\nparse rate {len(read)}/{len(readable)} = {len(read) / len(readable):.1%}; wrong scores {len(wrong)}; "
          f"reasons as expected {len(read) - len(reasons)}/{len(read)}; refusals with the expected reason "
          f"{sum(a['error'] is not None for a in CORPUS) - len(missed)}/{sum(a['error'] is not None for a in CORPUS)}")
    assert len(read) >= 0.99 * len(readable), [a["id"] for a in readable if a not in read]
    assert wrong == [] and missed == [] and reasons == []


@pytest.mark.parametrize("answer, expected", [
    ("score: 4\nreason: Clear, documented functions.", (4, "Clear, documented functions.", None)),
    ("Score: 0/5\nReason: only constants", (0, "only constants", None)),
    ("  score : 5 \n\nreason:   textbook example  ", (5, "textbook example", None)),
    ("**Score:** 4/5", (4, None, None)),
    ("Score: 4.", (4, None, None)),
    ('{"score": 4, "reason": "loops"}', (4, "loops", None)),
    ("Educational value: 4/5. Small functions.", (4, "Small functions.", None)),
    ("The score is 2; it uses 3/4 of its lines for setup.", (2, "it uses 3/4 of its lines for setup.", None)),
    ("This code is great! 5 stars", (None, None, "no_score")),
    ("score: 7\nreason: x", (None, None, "score_out_of_range")),
    ("score: high\nreason: x", (None, None, "no_score")),
    ("score: 3\nscore: 4\nreason: x", (None, None, "ambiguous_score")),
    ("score: 3\nscore: 3\nreason: x", (3, "x", None)),
    ("Score: 8/10", (None, None, "wrong_scale")),
])
def test_parse_score_reads_or_refuses(answer, expected):
    parsed = parse_score(answer, EDUCATIONAL_VALUE)
    assert (parsed.score, parsed.reason, parsed.error) == expected
