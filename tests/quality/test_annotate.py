import sys
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from phi1repro.corpus.records import SCHEMA, make_record
from phi1repro.errors import InputError
from phi1repro.io import write_parquet
from phi1repro.config import validate_config
from phi1repro.offline_teacher.workflow import as_served
from phi1repro.quality.annotate import allocate, estimate_cost, label_sample, sample_corpus
from phi1repro.teacher.endpoint import teacher_endpoint

SCHEMA_PATH = Path(__file__).resolve().parents[2] / "schemas/config.schema.yaml"


def test_allocate_is_proportional_and_exact():
    assert allocate([100, 300, 600], 10) == [1, 3, 6]
    assert sum(allocate([7, 13, 1, 29], 17)) == 17
    assert allocate([5, 0, 2], 100) == [5, 0, 2]


def write_shards(tmp_path, sizes):
    shards = {}
    for name, size in sizes.items():
        source = name.split("-")[0]
        records = [make_record(f"def f_{name}_{i}(): return {i}\n", source=source, origin=f"{name}:{i}")
                   for i in range(size)]
        shards[name] = str(tmp_path / f"{name}.parquet")
        write_parquet(shards[name], records, SCHEMA)
    return shards


def test_sample_is_seeded_and_stratified(tmp_path):
    shards = write_shards(tmp_path, {"stack-00000": 500, "stack-00001": 300, "so-00000": 200})
    stats = sample_corpus(shards, 100, seed=3, out=str(tmp_path / "a.parquet"), stats_out=str(tmp_path / "a.json"))
    assert stats["by_source"] == {"so": 20, "stack": 80}
    sample = pq.read_table(tmp_path / "a.parquet").to_pylist()
    assert {s: sum(r["shard"] == s for r in sample) for s in shards} == {"stack-00000": 50, "stack-00001": 30,
                                                                          "so-00000": 20}
    assert all(r["text"].startswith(f"def f_{r['shard']}_{r['row']}(") for r in sample)

    sample_corpus(shards, 100, seed=3, out=str(tmp_path / "b.parquet"), stats_out=str(tmp_path / "b.json"))
    sample_corpus(shards, 100, seed=4, out=str(tmp_path / "c.parquet"), stats_out=str(tmp_path / "c.json"))
    ids = {k: pq.read_table(tmp_path / f"{k}.parquet").column("id").to_pylist() for k in "abc"}
    assert ids["a"] == ids["b"] and ids["a"] != ids["c"]


def test_sample_larger_than_corpus_takes_everything(tmp_path):
    shards = write_shards(tmp_path, {"local-00000": 7})
    assert sample_corpus(shards, 100, 0, str(tmp_path / "s.parquet"), str(tmp_path / "s.json"))["records"] == 7


def test_sample_names_a_corrupt_shard(tmp_path):
    shards = write_shards(tmp_path, {"local-00000": 7})
    (tmp_path / "local-00000.parquet").write_bytes(b"garbage")
    with pytest.raises(InputError, match="local-00000.parquet: not a readable parquet file"):
        sample_corpus(shards, 3, 0, str(tmp_path / "s.parquet"), str(tmp_path / "s.json"))


def teacher_section(tmp_path, **offline):
    config = {"corpus": {"sources": [{"name": "x", "kind": "local", "paths": ["x"], "shards": 1}]},
              "teacher": {"cache": str(tmp_path / "cache" / "teacher.sqlite"), "offline": offline,
                          "prices": {"gpt-4": {"prompt": 30.0, "completion": 60.0}}, "backoff_s": 0.01}}
    validate_config(config, SCHEMA_PATH)
    config["teacher"] = as_served(config["teacher"], sys.executable)
    return config


def test_labels_through_the_offline_teacher_with_faults(tmp_path):
    config = teacher_section(tmp_path, rate_429=0.2, rate_500=0.1, rate_drop=0.05, rate_malformed=0.05)
    shards = write_shards(tmp_path, {"local-00000": 40})
    sample_corpus(shards, 30, 0, str(tmp_path / "s.parquet"), str(tmp_path / "s.json"))
    out, stats_out = str(tmp_path / "labels.parquet"), str(tmp_path / "labels.json")
    with teacher_endpoint(config["teacher"]) as teacher:
        assert teacher.base_url.startswith("http://127.0.0.1:") and teacher.cache_path.endswith("teacher-offline.sqlite")
        stats = label_sample(str(tmp_path / "s.parquet"), config["annotate"], teacher, False, out, stats_out)
    assert stats["labelled"] == 30 and stats["failures"] == {} and stats["requests_cached"] == 0
    assert stats["cost_usd"] > 0
    labels = pq.read_table(out).to_pylist()
    assert all(0 <= r["score"] <= 5 and r["reason"] and r["prompt_version"] == "annotate-v1" for r in labels)
    assert len({r["request_key"] for r in labels}) == 30

    with teacher_endpoint(config["teacher"]) as teacher:
        again = label_sample(str(tmp_path / "s.parquet"), config["annotate"], teacher, False, out, stats_out)
    assert again["requests_cached"] == 30 and again["cost_usd"] == 0
    assert pq.read_table(out).column("score").to_pylist() == [r["score"] for r in labels]


def test_estimate_needs_no_server(tmp_path, monkeypatch):
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    config = teacher_section(tmp_path)
    config["teacher"]["base_url"] = "https://api.example.invalid/v1"
    shards = write_shards(tmp_path, {"local-00000": 10})
    sample_corpus(shards, 10, 0, str(tmp_path / "s.parquet"), str(tmp_path / "s.json"))
    report = estimate_cost(str(tmp_path / "s.parquet"), config["annotate"], config["teacher"], str(tmp_path / "e.json"))
    assert report["requests"] == 10 and report["cost_usd"] > 0


def test_a_refusing_server_gets_free_text_once_and_varied_answers_are_read_or_repaired(tmp_path):
    config = teacher_section(tmp_path, answer_style="varied", response_formats=[])
    config["annotate"]["repair"] = True
    shards = write_shards(tmp_path, {"local-00000": 80})
    sample_corpus(shards, 80, 0, str(tmp_path / "s.parquet"), str(tmp_path / "s.json"))
    out, stats_out = str(tmp_path / "labels.parquet"), str(tmp_path / "labels.json")
    with teacher_endpoint(config["teacher"]) as teacher:
        stats = label_sample(str(tmp_path / "s.parquet"), config["annotate"], teacher, False, out, stats_out)
    assert stats["structured"] == "none" and stats["structured_fallbacks"] == ["json_schema -> json_object",
                                                                               "json_object -> none"]
    assert stats["answered"] == 80 and stats["repair"]["asked"] > 0  # the varied style writes a few unreadable
    assert stats["repair"]["fixed"] == stats["repair"]["asked"] and stats["labelled"] == 80
    labels = pq.read_table(out).to_pylist()
    assert len({r["response"].partition(":")[0] for r in labels}) > 3  # answers in several styles
    assert all(r["structured"] == "none" for r in labels)
    assert sum(r["repair_response"] is not None for r in labels) == stats["repair"]["asked"]
