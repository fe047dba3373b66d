"""The tolerant score parser, measured on a corpus of answers written as GPT-4, GPT-3.5, Llama-3, Qwen and
Mistral instruct models write them (tests/data/teacher_answers.jsonl: each answer with its expected score and
reason, or the reason it must be refused)."""

import json
from collections import Counter
from pathlib import Path

import pytest

from phi1repro.offline_teacher.rubric import educational_value
from phi1repro.offline_teacher.server import serve_in_thread
from phi1repro.offline_teacher.state import THINKING, ServerConfig
from phi1repro.quality.annotate import ANNOTATION_MARKER
from phi1repro.teacher.client import Request, Teacher, TeacherConfig
from phi1repro.teacher.scores import EDUCATIONAL_VALUE, ERRORS, SOLUTION_GRADE, parse_score
from phi1repro.teacher.scoring import answer_format, ask_scores, response_format

CORPUS = [json.loads(line) for line in (Path(__file__).resolve().parents[1] / "data/teacher_answers.jsonl").open()]
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


@pytest.mark.parametrize("answer, expected", [
    # a reasoning model's thinking is never scored, whatever score it names
    ("<think>\nThe loops suggest score: 2.\n</think>\n\nscore: 4\nreason: Clear loops.", (4, "Clear loops.", None)),
    ("<think>\n\n</think>\n\nscore: 5\nreason: textbook", (5, "textbook", None)),  # Qwen3, thinking off
    ("I would rate it 1/5 at first.\n</think>\n\nScore: 3/5\nReason: Documented.", (3, "Documented.", None)),
    ("<think>\nscore: 4 seems right, but", (None, None, "unfinished_thinking")),
    ("<think>score: 4</think>", (None, None, "empty")),
    ("<think>score: 4</think>\nscore: 2\nscore: 3", (None, None, "ambiguous_score")),
    # Python dicts, read as literals: nothing in them is run
    ("{'score': 3, 'reason': 'Uses a loop.'}", (3, "Uses a loop.", None)),
    ("```python\n{'score': 4, 'reason': \"It's clear.\", 'final': True}\n```", (4, "It's clear.", None)),
    ('{"score": 4}', (4, None, None)),
    ("{'score': 3, 'reason': 'x'}\n{'score': 4, 'reason': 'y'}", (None, None, "ambiguous_score")),
    ("{'score': 7, 'reason': 'x'}", (None, None, "score_out_of_range")),
    ("{'score': __import__('os').getpid()}", (None, None, "no_score")),
    # full-width colons
    ("Score\uff1a4\nReason\uff1aClear.", (4, "Clear.", None)),
    ("Score\uff1a3\nScore\uff1a4", (None, None, "ambiguous_score")),
    # a bare score on the first line, and numbers that are not clearly the score
    ("4\nThe code is clear and documented.", (4, "The code is clear and documented.", None)),
    ("**4**\n\nClear.", (4, "Clear.", None)),
    ("4 functions are defined here.", (None, None, "no_score")),
    ("The snippet defines\n4\nfunctions.", (None, None, "no_score")),
    ("4\n5\nBoth apply.", (None, None, "ambiguous_score")),
    ("4\nscore: 3", (None, None, "ambiguous_score")),
    ("12\nLines of code.", (None, None, "score_out_of_range")),
    ("2.5\nHalfway.", (None, None, "score_not_integer")),
])
def test_parse_score_reads_the_final_answer_in_more_forms_and_still_refuses(answer, expected):
    parsed = parse_score(answer, EDUCATIONAL_VALUE)
    assert (parsed.score, parsed.reason, parsed.error) == expected


SNIPPETS = [
    'def add(a: int, b: int) -> int:\n    """Return the sum of a and b."""\n    return a + b\n',
    'def mean(xs):\n    """The average of a list of numbers."""\n    total = 0\n    for x in xs:\n'
    '        total += x\n    return total / len(xs)\n',
]


@pytest.mark.parametrize("thinking, mode", [("tags", "none"), ("tags", "json_object"), ("field", "none")])
def test_a_thinking_teacher_is_scored_on_its_final_answer_only(tmp_path, thinking, mode):
    """Through the offline server answering as a reasoning model, its thinking naming score 0: in a <think>
    block opening the content, or in message.reasoning_content, which the client never reads."""
    def build(mode: str) -> list[Request]:
        return [Request(f"snippet-{i}", "m", [{"role": "user", "content": (
            f"Please {ANNOTATION_MARKER}.\n\n```python\n{code}```\n\n"
            + answer_format(EDUCATIONAL_VALUE, "<an integer from 0 to 5>", mode))}],
            {"temperature": 0, "response_format": response_format(EDUCATIONAL_VALUE, mode)})
            for i, code in enumerate(SNIPPETS)]

    expected = [educational_value(code) for code in SNIPPETS]
    assert "score: 0" in THINKING and all(score != 0 for score, _ in expected)
    with serve_in_thread(ServerConfig(thinking=thinking)) as running:
        cfg = TeacherConfig(base_url=running.base_url, cache_path=str(tmp_path / "teacher.sqlite"))
        with Teacher(cfg, "thinking") as teacher:
            scored, stats = ask_scores(teacher, build, EDUCATIONAL_VALUE, mode, repair=False)
    assert [(s.parsed.score, s.parsed.reason) for s in scored] == expected and stats["parsed"] == len(SNIPPETS)
    assert all(s.response.startswith("<think>") == (thinking == "tags") for s in scored)
