"""Generating synthetic parts through the real client and the offline teacher over HTTP."""

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from phi1repro.synth import vocabulary
from phi1repro.synth.generate import generate_exercises, generate_textbooks, summarise_parts
from phi1repro.teacher.client import TeacherConfig
from phi1repro.offline_teacher.protocol import request_key
from phi1repro.offline_teacher.server import serve_in_thread
from phi1repro.offline_teacher.state import ServerConfig
from tests.teacher.test_client import cached_keys, kill_when

TEXTBOOKS = {"parts": 3, "tokens": 9000, "model": "gpt-3.5-turbo", "temperature": 1.0, "max_tokens": 2048,
             "round_size": 8, "topics": list(vocabulary.TOPICS), "audiences": list(vocabulary.AUDIENCES),
             "styles": list(vocabulary.STYLES)}
EXERCISES = {"parts": 2, "count": 120, "model": "gpt-3.5-turbo", "temperature": 1.0, "max_tokens": 1024,
             "round_size": 25, "verbs": list(vocabulary.VERBS), "modifiers": list(vocabulary.MODIFIERS),
             "nouns": list(vocabulary.NOUNS), "max_modifiers": 1, "domains": list(vocabulary.DOMAINS),
             "validation": {"workers": 2, "timeout_s": 1.0, "memory_mb": 512}}

CHILD = textwrap.dedent("""
    import json, sys
    from phi1repro.synth.generate import generate_textbooks
    from phi1repro.teacher.client import TeacherConfig
    teacher, cfg, out = json.loads(sys.argv[1]), json.loads(sys.argv[2]), sys.argv[3]
    generate_textbooks(0, cfg, 0, TeacherConfig(**teacher), False, out + ".parquet", out + ".json")
""")


@pytest.fixture(scope="module")
def server():
    with serve_in_thread(ServerConfig()) as running:
        yield running


def teacher(server, tmp_path, **overrides) -> TeacherConfig:
    return TeacherConfig(**{"base_url": server.base_url, "cache_path": str(tmp_path / "teacher.sqlite"),
                            "max_concurrency": 8, "backoff_s": 0.01, **overrides})


def textbook_part(server, tmp_path, part=0, name="part", cfg=TEXTBOOKS, **teacher_overrides):
    out, stats = tmp_path / f"{name}.parquet", tmp_path / f"{name}.json"
    result = generate_textbooks(part, cfg, 0, teacher(server, tmp_path, **teacher_overrides), False, str(out),
                                str(stats))
    return pq.read_table(out).to_pylist(), result


def test_a_textbook_part_reaches_its_token_share_with_lineage(server, tmp_path):
    rows, stats = textbook_part(server, tmp_path)
    assert stats["tokens"] >= 3000 and stats["tokens"] - rows[-1]["completion_tokens"] < 3000  # stops once reached
    assert stats["rows"] == len(rows) and stats["failures"] == {} and stats["requests_cached"] == 0
    assert [r["index"] for r in rows] == list(range(0, 3 * len(rows), 3))  # part 0 owns 0, 3, 6, ...
    for row in rows:
        assert row["topic"].lower() in row["text"].lower()
        assert row["template_version"] == "textbook-v1" and row["model"] == "gpt-3.5-turbo"
        assert len(row["request_key"]) == 64 and row["prompt_tokens"] > 0
    assert len({(r["topic"], r["audience"], r["style"]) for r in rows}) == len(rows)


def test_rows_depend_on_answers_not_on_round_size_or_cache(server, tmp_path):
    first, _ = textbook_part(server, tmp_path, part=1, name="a")
    again, stats = textbook_part(server, tmp_path, part=1, name="b", cfg={**TEXTBOOKS, "round_size": 3})
    assert stats["requests_cached"] == stats["requests"]  # all from the cache
    strip = lambda rows: [{k: v for k, v in r.items() if k not in ("cached", "cost_usd")} for r in rows]
    assert strip(again) == strip(first)


def test_a_killed_textbook_part_resumes_without_repeating_finished_requests(tmp_path):
    cfg = {**TEXTBOOKS, "parts": 1, "tokens": 60_000, "round_size": 200}
    with serve_in_thread(ServerConfig(latency_s=0.05)) as running:
        config = teacher(running, tmp_path, max_concurrency=4)
        args = [sys.executable, "-c", CHILD, json.dumps(config.__dict__), json.dumps(cfg), str(tmp_path / "killed")]
        with open(tmp_path / "child.log", "w") as log:
            child = subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT)
        kill_when(child, lambda: len(cached_keys(config.cache_path)) >= 12, timeout_s=60)
        finished = cached_keys(config.cache_path)
        stats = generate_textbooks(0, cfg, 0, config, False, str(tmp_path / "p.parquet"), str(tmp_path / "p.json"))
        by_key = running.stats()["chat_by_key"]
    assert not Path(tmp_path / "killed.parquet").exists()  # a killed part leaves no partial output
    assert stats["requests_cached"] >= len(finished) and stats["tokens"] >= 60_000
    rows = pq.read_table(tmp_path / "p.parquet").to_pylist()
    repeated = {k: n for k, n in by_key.items() if n > 1}
    assert len(repeated) <= 4  # only the requests in flight at the kill
    assert not set(repeated) & {request_key_of(row, cfg) for row in rows if row["request_key"] in finished}


def request_key_of(row: dict, cfg: dict) -> str:
    """The server's key of the request that produced a textbook row."""
    from phi1repro.synth.generate import textbook_request
    from phi1repro.synth.prompts import TextbookPrompts

    prompts = TextbookPrompts(tuple(cfg["topics"]), tuple(cfg["audiences"]), tuple(cfg["styles"]), 0)
    return request_key(textbook_request(prompts, row["index"], cfg).body)


def test_a_part_with_no_answers_fails_loudly(server, tmp_path):
    with pytest.raises(RuntimeError, match="no answer"):
        textbook_part(server, tmp_path, cfg={**TEXTBOOKS, "topics": ["[[refuse]] everything"]})


def test_exercise_parts_validate_every_answer_and_count_rejections(server, tmp_path):
    stats = []
    for part in range(2):
        out, rejected = tmp_path / f"e{part}.parquet", tmp_path / f"e{part}.rejected.parquet"
        stats.append(generate_exercises(part, EXERCISES, 0, teacher(server, tmp_path), False, str(out),
                                        str(rejected), str(tmp_path / f"e{part}.json")))
    valid = [r for p in range(2) for r in pq.read_table(tmp_path / f"e{p}.parquet").to_pylist()]
    bad = [r for p in range(2) for r in pq.read_table(tmp_path / f"e{p}.rejected.parquet").to_pylist()]
    assert len(valid) + len(bad) == 120 and sum(s["valid"] for s in stats) == len(valid)
    assert sorted(r["index"] for r in valid + bad) == list(range(120))
    assert len({r["name"] for r in valid + bad}) == 120  # the ledger: no name twice
    assert 0 < len(bad) < 25  # the offline teacher's deliberate flaws, caught
    assert sum(sum(s["rejected"].values()) for s in stats) == len(bad)
    assert all(r["reason"] and r["response"] for r in bad)
    for row in valid:
        assert row["text"].count(f"def {row['name']}(") == 1 and row["examples"] >= 2
        assert row["text"].startswith(row["task"].split("def ")[0]) and row["solution"].strip()
        assert row["template_version"] == "exercise-v1"

    textbook_part(server, tmp_path, name="t")
    summary = summarise_parts([str(tmp_path / "t.json")], [str(tmp_path / f"e{p}.json") for p in range(2)],
                              str(tmp_path / "stats.json"))
    assert summary["exercises"]["valid"] == len(valid) and summary["exercises"]["requested"] == 120
    assert sum(summary["exercises"]["rejected"].values()) == len(bad) and summary["textbooks"]["parts"] == 1
