"""The annotation stage with `teacher.batch: true`, run by Snakemake against an offline teacher process: a job
SIGKILLed while it polls its batch polls the same batch when rerun, and pays for each request once."""

import contextlib
import json
import signal
import sqlite3
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import openai
import psutil
import pyarrow.parquet as pq
import pytest
import yaml

from phi1repro.corpus.records import make_record
from phi1repro.io import write_parquet
from phi1repro.offline_teacher.server import serve_in_thread
from phi1repro.quality.annotate import SAMPLE_SCHEMA

REPO = Path(__file__).resolve().parents[2]
SNAKEMAKE = Path(sys.executable).parent / "snakemake"
SAMPLE = "results/quality/annotation_sample.parquet"
LABELS, STATS = "results/quality/labels.parquet", "results/quality/labels.stats.json"
RECORDS = 6
BATCH_FINAL = {"completed", "failed", "expired", "cancelled"}


@contextlib.contextmanager
def offline_teacher(batch_seconds: float):
    """The offline teacher as its own process; yields its base URL."""
    server = subprocess.Popen([sys.executable, "-m", "phi1repro.offline_teacher", "--batch-seconds", str(batch_seconds)],
                              stdout=subprocess.PIPE, text=True)
    try:
        line = server.stdout.readline()
        assert line.startswith("listening on "), line
        yield line.split()[-1]
    finally:
        server.terminate()
        server.wait(timeout=30)


def server_stats(base_url: str) -> dict:
    with urllib.request.urlopen(base_url.removesuffix("/v1") + "/stats", timeout=10) as response:
        return json.load(response)


def stage_workdir(tmp_path: Path, name: str, base_url: str) -> Path:
    """A run directory holding the annotation sample (so only annotate_labels is to run) and its config."""
    workdir = tmp_path / name
    (workdir / SAMPLE).parent.mkdir(parents=True)
    records = [make_record(f"def add_{i}(x):\n    return x + {i}\n", source="local", origin=f"add_{i}.py")
               for i in range(RECORDS)]
    write_parquet(workdir / SAMPLE, [{**{k: r[k] for k in ("id", "source", "origin", "text", "n_bytes")},
                                      "shard": "local-00000", "row": i} for i, r in enumerate(records)], SAMPLE_SCHEMA)
    config = {"corpus": {"sources": [{"name": "local", "kind": "local", "paths": [str(tmp_path)], "shards": 1}]},
              "teacher": {"base_url": base_url, "identity": "offline-teacher",  # the same teacher on any port
                          "cache": ".cache/teacher.sqlite", "batch": True, "batch_poll_s": 0.2,
                          "prices": {"gpt-4": {"prompt": 30.0, "completion": 60.0}}},
              "annotate": {"structured": "none"}}
    (workdir / "config.yaml").write_text(yaml.safe_dump(config))
    return workdir


def start_stage(workdir: Path) -> subprocess.Popen:
    """Snakemake making the labels, its output in snakemake.log."""
    with open(workdir / "snakemake.log", "a") as log:
        return subprocess.Popen([SNAKEMAKE, "-s", REPO / "Snakefile", "-d", workdir, "--cores", "1", LABELS,
                                 "--configfile", workdir / "config.yaml"], stdout=log, stderr=subprocess.STDOUT)


def finish(stage: subprocess.Popen, workdir: Path) -> None:
    assert stage.wait(timeout=300) == 0, (workdir / "snakemake.log").read_text()[-5000:]


def cache_rows(workdir: Path, query: str) -> list[tuple]:
    with contextlib.closing(sqlite3.connect(workdir / ".cache/teacher.sqlite", timeout=10)) as db:
        return db.execute(query).fetchall()


def kill_job_while_polling(stage: subprocess.Popen, base_url: str, timeout_s: float = 120) -> None:
    """SIGKILL the annotate_labels job (not Snakemake), as a cluster ends a job past its time limit, once the
    server has seen its batch created and retrieved."""
    deadline = time.monotonic() + timeout_s
    while server_stats(base_url)["requests"]["batches"] < 2:
        assert stage.poll() is None and time.monotonic() < deadline, "the stage never polled its batch"
        time.sleep(0.05)
    job = [p for p in psutil.Process(stage.pid).children(recursive=True) if "annotate_labels" in " ".join(p.cmdline())]
    assert job, "no annotate_labels process under Snakemake"
    for process in job:
        process.send_signal(signal.SIGKILL)
    assert stage.wait(timeout=60) != 0  # Snakemake reports the job failed


def test_files_are_listed_by_purpose():
    with serve_in_thread() as server:
        client = openai.OpenAI(base_url=server.base_url, api_key="offline-teacher")
        batch_input = client.files.create(file=("in.jsonl", b"{}\n"), purpose="batch")
        other = client.files.create(file=("notes.txt", b"x"), purpose="assistants")
        assert [f.id for f in client.files.list(purpose="batch")] == [batch_input.id]
        assert [f.id for f in client.files.list()] == [other.id, batch_input.id]


@pytest.mark.slow
def test_a_killed_batch_job_polls_the_same_batch_when_rerun_and_pays_once(tmp_path):
    with offline_teacher(batch_seconds=0.3) as base_url:
        reference = stage_workdir(tmp_path, "reference", base_url)
        finish(start_stage(reference), reference)

    with offline_teacher(batch_seconds=6) as base_url:
        workdir = stage_workdir(tmp_path, "killed", base_url)
        kill_job_while_polling(start_stage(workdir), base_url)
        [(batch_id, status)] = cache_rows(workdir, "SELECT batch_id, status FROM batches")
        assert status not in BATCH_FINAL and not (workdir / LABELS).exists()
        assert f"created batch {batch_id}" in (workdir / "logs/annotate/labels.log").read_text()
        polled = server_stats(base_url)["requests"]["batches"]

        finish(start_stage(workdir), workdir)
        assert f"resuming batch {batch_id}" in (workdir / "logs/annotate/labels.log").read_text()
        client = openai.OpenAI(base_url=base_url, api_key="offline-teacher")
        [batch] = client.batches.list().data  # no second batch
        assert batch.id == batch_id and batch.status == "completed"
        assert [f.id for f in client.files.list(purpose="batch")] == [batch.input_file_id]  # uploaded once
        stats = server_stats(base_url)
    assert stats["requests"]["batches"] > polled  # the rerun polled it
    assert stats["batch_lines"] == stats["completed"] == RECORDS and set(stats["chat_by_key"].values()) == {1}
    assert stats["requests"]["chat_completions"] == 0

    assert pq.read_table(workdir / LABELS).equals(pq.read_table(reference / LABELS))
    labels, expected = (json.loads((d / STATS).read_text()) for d in (workdir, reference))
    assert labels.pop("seconds") >= 0 and expected.pop("seconds") >= 0
    assert labels == expected and labels["labelled"] == RECORDS and labels["requests_cached"] == 0
    [(stage, paid, keys, usd)] = cache_rows(workdir, "SELECT stage, COUNT(*), COUNT(DISTINCT key), SUM(cost_usd) "
                                                     "FROM ledger GROUP BY stage")
    assert (stage, paid, keys) == ("annotate", RECORDS, RECORDS) and usd == pytest.approx(labels["cost_usd"])
    assert labels["cost_usd"] > 0
