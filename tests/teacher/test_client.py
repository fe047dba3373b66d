"""The teacher client against the offline teacher server: the real openai client over HTTP, no mocks."""

import asyncio
import contextlib
import dataclasses
import json
import logging
import signal
import sqlite3
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import openai
import pytest

from phi1repro.config import ConfigError
from phi1repro.teacher.cache import request_key
from phi1repro.teacher.client import BudgetExceeded, Request, Teacher, TeacherConfig
from phi1repro.teacher.limiter import RateLimiter
from phi1repro.offline_teacher import protocol as offline
from phi1repro.offline_teacher.server import serve_in_thread
from phi1repro.offline_teacher.state import Faults, ServerConfig

SECRET = "sk-test-SECRET-123"
PRICES = {"m": {"prompt": 1000.0, "completion": 2000.0}}  # $/1M tokens: about 4 cents a request below
FAULTS = Faults(rate_429=0.2, retry_after_s=0.05, rate_500=0.1, rate_drop=0.05, rate_malformed=0.05, rate_slow=0.02,
                slow_s=0.5, seed=0)

# The subprocess that is killed mid-run: builds the Teacher from a JSON config, runs the requests in a JSON file.
CHILD = textwrap.dedent("""
    import json, sys
    from phi1repro.teacher.client import Request, Teacher, TeacherConfig
    config, requests_path, mode = json.loads(sys.argv[1]), sys.argv[2], sys.argv[3]
    requests = [Request(**r) for r in json.loads(open(requests_path).read())]
    teacher = Teacher(TeacherConfig(**config), "child")
    teacher.run(requests) if mode == "run" else teacher.run_batch(requests, "group")
""")


def make_requests(tag: str, n: int, model: str = "m", **params) -> list[Request]:
    params = {"max_tokens": 20, **params}
    return [Request(f"{tag}-{i}", model, [{"role": "user", "content": f"{tag} question {i}"}], params)
            for i in range(n)]


def config(server, tmp_path, **overrides) -> TeacherConfig:
    fields = dict(base_url=server.base_url, cache_path=str(tmp_path / "teacher.sqlite"), max_concurrency=16,
                  timeout_s=5.0, backoff_s=0.02, backoff_max_s=0.2, batch_poll_s=0.05, prices=PRICES)
    return TeacherConfig(**fields | overrides)


def server_counts(server, requests: list[Request]) -> dict[str, int]:
    """How often the server answered each request (by our key): chat_by_key, keyed the server's way."""
    by_key = server.stats()["chat_by_key"]
    return {r.key: by_key.get(offline.request_key(r.body), 0) for r in requests}


def sql(path, query: str) -> list[tuple]:
    """Rows from the cache file, read by a separate connection (as another process would); [] before it exists."""
    try:
        with contextlib.closing(sqlite3.connect(path, timeout=10)) as db:
            return db.execute(query).fetchall()
    except sqlite3.OperationalError:
        return []


def cached_keys(path) -> set[str]:
    return {key for (key,) in sql(path, "SELECT key FROM responses")}


def start_child(cfg: TeacherConfig, requests: list[Request], tmp_path: Path, mode: str,
                name: str = "child") -> subprocess.Popen:
    """A process running the Teacher over `requests` (mode "run" or "batch"); its output goes to <name>.log."""
    requests_path = tmp_path / f"{name}.json"
    requests_path.write_text(json.dumps([dataclasses.asdict(r) for r in requests]))
    args = [sys.executable, "-c", CHILD, json.dumps(dataclasses.asdict(cfg)), str(requests_path), mode]
    with open(tmp_path / f"{name}.log", "w") as log:
        return subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT)


def kill_when(child: subprocess.Popen, ready, timeout_s: float = 20.0) -> None:
    """SIGKILL `child` as soon as `ready()` is true; fail if it ends or times out first."""
    deadline = time.monotonic() + timeout_s
    while not ready():
        assert child.poll() is None, f"child ended early (see child.log): rc {child.returncode}"
        assert time.monotonic() < deadline, "child made no progress"
        time.sleep(0.01)
    child.send_signal(signal.SIGKILL)
    assert child.wait() == -signal.SIGKILL


@pytest.fixture(scope="module")
def server():
    with serve_in_thread(ServerConfig(latency_s=0.01, batch_seconds=0.3)) as running:
        yield running


def test_request_key_is_canonical():
    messages = [{"role": "user", "content": "hi"}]
    key = request_key("m", messages, {"temperature": 0, "max_tokens": 5, "seed": None})
    assert key == request_key("m", messages, {"max_tokens": 5, "temperature": 0})
    assert key != request_key("m", messages, {"max_tokens": 5, "temperature": 1})
    assert len(key) == 64


def test_faults_are_retried_and_every_request_completes_once(tmp_path):
    requests = make_requests("faults", 200)
    duplicates = [dataclasses.replace(r, item_id=f"dup-{r.item_id}") for r in requests[:20]]
    with serve_in_thread(ServerConfig(faults=FAULTS)) as running:
        teacher = Teacher(config(running, tmp_path, max_concurrency=64, max_retries=20, timeout_s=2.0), "faults")
        results = teacher.run(requests + duplicates)
        stats = running.stats()
    assert [r.item_id for r in results] == [r.item_id for r in requests + duplicates]
    assert all(r.error is None and r.texts and r.texts[0] for r in results)
    assert all(r.texts == d.texts and d.cached and d.cost_usd == 0 for r, d in zip(results, results[200:]))
    assert all(n == 1 for n in server_counts(running, requests).values())  # duplicates sent once; no repeats
    assert stats["completed"] == 200
    assert all(stats["faults"][kind] > 0 for kind in ("429", "500", "drop", "malformed", "slow"))
    # every fault but a slow answer costs one retry
    assert stats["requests"]["chat_completions"] == 200 + sum(stats["faults"][k] for k in ("429", "500", "drop",
                                                                                         "malformed"))
    assert teacher.spent()["stage"]["requests"] == 200 == len(teacher.cache)
    assert teacher.spent()["stage"]["usd"] == pytest.approx(sum(r.cost_usd for r in results))


def test_cache_hits_are_free_and_not_resent(server, tmp_path):
    requests = make_requests("hits", 30)
    teacher = Teacher(config(server, tmp_path), "hits")
    first = teacher.run(requests[:20])
    estimate = teacher.estimate(requests)
    assert (estimate.requests, estimate.cached) == (30, 20) and "30 requests (20 cached)" in str(estimate)
    again = teacher.run(requests)
    assert [r.texts for r in again[:20]] == [r.texts for r in first]
    assert all(r.cached and r.cost_usd == 0 for r in again[:20]) and not any(r.cached for r in again[20:])
    assert all(n == 1 for n in server_counts(server, requests).values())
    assert teacher.spent()["stage"]["requests"] == 30


def test_refusal_is_recorded_per_item(server, tmp_path):
    requests = make_requests("refuse", 20)
    requests[7] = Request("bad", "m", [{"role": "user", "content": "please [[refuse]] this"}], {"max_tokens": 20})
    results = Teacher(config(server, tmp_path), "refuse").run(requests)
    assert results[7].texts is None and results[7].error.startswith("400 content_policy_violation: ")
    assert server_counts(server, requests)[requests[7].key] == 1  # permanent: not retried
    assert all(r.error is None and r.texts for i, r in enumerate(results) if i != 7)


def test_retries_give_up_per_item(tmp_path):
    with serve_in_thread(ServerConfig(faults=Faults(rate_500=1.0))) as running:
        results = Teacher(config(running, tmp_path, max_retries=2), "give-up").run(make_requests("give-up", 5))
        assert running.stats()["requests"]["chat_completions"] == 15
    assert all(r.texts is None and r.error.startswith("500 ") and r.error.endswith("(gave up after 3 attempts)")
               for r in results)


@pytest.mark.parametrize("header", ["retry-after", "retry-after-ms"])
def test_a_429_is_retried_after_the_wait_it_asks_for(tmp_path, header):
    faults = Faults(script=("429",), retry_after_s=0.6, retry_after_header=header)
    with serve_in_thread(ServerConfig(faults=faults)) as running:
        cfg = config(running, tmp_path)
        assert faults.retry_after_s > 2 * cfg.backoff_max_s  # a backoff alone would retry too soon
        [result] = Teacher(cfg, "retry-after").run(make_requests("retry-after", 1))
        limited, retried = running.arrivals()
    assert result.error is None and (limited.fault, retried.fault) == ("429", None)
    assert retried.at - limited.at >= faults.retry_after_s


def answer_held_past_the_timeout(tmp_path, stage: str):
    """One request whose first answer the server holds four times the client's timeout_s: the teacher, the
    request's result, the server's arrivals, and the usage the server answers the request with."""
    faults = Faults(script=("slow",), slow_s=1.0)
    with serve_in_thread(ServerConfig(faults=faults)) as running:
        teacher = Teacher(config(running, tmp_path, timeout_s=0.25), stage)
        assert faults.slow_s >= 4 * teacher.config.timeout_s
        [request] = make_requests(stage, 1)
        [result] = teacher.run([request])
        arrivals = running.arrivals()
        usage = openai.OpenAI(base_url=running.base_url, api_key="x").chat.completions.create(**request.body).usage
    return teacher, result, arrivals, usage


def test_a_slow_answer_is_timed_out_and_retried(tmp_path):
    teacher, result, arrivals, _ = answer_held_past_the_timeout(tmp_path, "slow")
    held, retried = arrivals
    assert result.error is None and result.texts and (held.fault, retried.fault) == ("slow", None)
    assert teacher.config.timeout_s <= retried.at - held.at < 1.0  # timed out, not waited out


def test_a_timed_out_request_is_charged_once(tmp_path):
    teacher, result, arrivals, usage = answer_held_past_the_timeout(tmp_path, "charged")
    assert [a.fault for a in arrivals] == ["slow", None]
    price = PRICES["m"]
    cost = (usage.prompt_tokens * price["prompt"] + usage.completion_tokens * price["completion"]) / 1e6
    assert (result.prompt_tokens, result.completion_tokens) == (usage.prompt_tokens, usage.completion_tokens)
    assert result.cost_usd == pytest.approx(cost)
    assert teacher.spent()["total"] == {"requests": 1, "prompt_tokens": usage.prompt_tokens,
                                        "completion_tokens": usage.completion_tokens,
                                        "tokens": usage.total_tokens, "usd": pytest.approx(cost)}


def test_budget_stops_the_stage_and_a_rerun_resumes(server, tmp_path):
    requests = make_requests("budget", 40)
    teacher = Teacher(config(server, tmp_path, budget_usd=0.5, max_concurrency=4), "budget")
    estimate = teacher.estimate(requests)
    with pytest.raises(BudgetExceeded, match="rerun with a higher budget_usd") as e:
        teacher.run(requests)
    spent = teacher.spent()["total"]
    assert 0 < spent["requests"] < 40 and spent["usd"] <= 0.5
    assert f"{spent['requests']:,} distinct requests done, about {40 - spent['requests']:,} left" in str(e.value)
    assert len(teacher.cache) == spent["requests"]

    teacher = Teacher(config(server, tmp_path, budget_usd=10.0), "budget")
    results = teacher.run(requests)
    assert all(r.texts for r in results) and sum(r.cached for r in results) == spent["requests"]
    assert all(n == 1 for n in server_counts(server, requests).values())  # nothing paid twice
    assert teacher.spent()["total"]["requests"] == 40
    assert teacher.spent()["total"]["usd"] <= estimate.cost_usd


def test_sigkill_mid_run_loses_nothing_finished(tmp_path):
    requests = make_requests("kill", 200)
    with serve_in_thread(ServerConfig(latency_s=0.05)) as running:
        cfg = config(running, tmp_path, max_concurrency=8)
        child = start_child(cfg, requests, tmp_path, "run")
        kill_when(child, lambda: len(cached_keys(cfg.cache_path)) >= 40)
        finished = cached_keys(cfg.cache_path)
        assert 40 <= len(finished) < 200
        results = Teacher(cfg, "rerun").run(requests)
        counts = server_counts(running, requests)
    assert all(r.texts for r in results) and {r.key for r in results if r.cached} == finished
    assert all(counts[k] == 1 for k in finished)  # zero repeats of finished work
    assert all(counts[r.key] >= 1 for r in requests)
    assert sum(n - 1 for n in counts.values()) <= cfg.max_concurrency  # only requests in flight at the kill


def test_parallel_jobs_share_one_cache(server, tmp_path):
    cfg = config(server, tmp_path)
    jobs = [make_requests(f"job{j}", 150) for j in range(3)]
    children = [start_child(cfg, requests, tmp_path, "run", name=f"job{j}") for j, requests in enumerate(jobs)]
    assert [child.wait(timeout=30) for child in children] == [0, 0, 0]
    teacher = Teacher(cfg, "after")
    assert len(teacher.cache) == 450 and teacher.spent()["stage"]["requests"] == 0
    assert teacher.cache.spent("child")["requests"] == 450
    assert all(r.cached for r in teacher.run([r for requests in jobs for r in requests]))


def test_batch_api(server, tmp_path):
    requests = make_requests("batch", 30, temperature=0.5)
    requests[3] = Request("bad", "m", [{"role": "user", "content": "[[refuse]] in a batch"}], {"max_tokens": 20})
    teacher = Teacher(config(server, tmp_path), "batch")
    results = teacher.run_batch(requests, "batch-test")
    assert results[3].texts is None and results[3].error.startswith("400 content_policy_violation")
    assert all(r.texts and not r.cached for i, r in enumerate(results) if i != 3)
    price, first = PRICES["m"], results[0]
    sync_cost = (price["prompt"] * first.prompt_tokens + price["completion"] * first.completion_tokens) / 1e6
    assert first.cost_usd == pytest.approx(0.5 * sync_cost)  # the Batch API discount
    assert teacher.spent()["stage"]["requests"] == 29

    lines = server.stats()["batch_lines"]
    again = teacher.run_batch(requests[:3] + requests[4:], "batch-test")  # all cached: no batch, no fetch
    assert all(r.cached for r in again) and server.stats()["batch_lines"] == lines


def batch_job_killed_while_polling(running, tmp_path, requests) -> tuple[TeacherConfig, str, str]:
    """A child process running `requests` as a batch, killed once it has saved its batch: its config, and
    the saved batch's id and status."""
    cfg = config(running, tmp_path, batch_poll_s=0.1)
    child = start_child(cfg, requests, tmp_path, "batch")
    kill_when(child, lambda: sql(cfg.cache_path, "SELECT batch_id FROM batches"))
    [(batch_id, status)] = sql(cfg.cache_path, "SELECT batch_id, status FROM batches")
    return cfg, batch_id, status


def test_killed_batch_job_resumes_the_same_batch(tmp_path):
    requests = make_requests("resume", 20)
    with serve_in_thread(ServerConfig(batch_seconds=2.0)) as running:
        cfg, batch_id, status = batch_job_killed_while_polling(running, tmp_path, requests)
        assert status not in ("completed", "failed", "expired", "cancelled")
        results = Teacher(cfg, "rerun").run_batch(requests, "group")
        created = openai.OpenAI(base_url=running.base_url, api_key="x").batches.list().data
    assert all(r.texts for r in results)
    assert [b.id for b in created] == [batch_id]  # polled again, not paid twice
    assert sql(cfg.cache_path, "SELECT status FROM batches") == [("completed",)]


def test_a_batch_the_server_no_longer_knows_is_submitted_again(tmp_path):
    """As after a killed job whose offline teacher, which keeps batches in memory, died with it."""
    requests = make_requests("lost", 5)
    with serve_in_thread(ServerConfig(batch_seconds=30.0)) as first:
        cfg, lost, _ = batch_job_killed_while_polling(first, tmp_path, requests)
    with serve_in_thread(ServerConfig(batch_seconds=0.2)) as second:
        results = Teacher(dataclasses.replace(cfg, base_url=second.base_url), "rerun").run_batch(requests, "group")
        [batch] = openai.OpenAI(base_url=second.base_url, api_key="x").batches.list().data
    assert all(r.texts for r in results) and batch.id != lost
    assert sql(cfg.cache_path, "SELECT batch_id, status FROM batches") == [(batch.id, "completed")]


def test_api_key_never_leaks(server, tmp_path, monkeypatch, caplog, capsys):
    monkeypatch.setenv("OPENAI_API_KEY", SECRET)
    caplog.set_level(logging.DEBUG)
    cfg = config(server, tmp_path)
    teacher = Teacher(cfg, "secret")
    requests = make_requests("secret", 10)
    # the server echoes an invalid parameter in its 400 error: the key must be scrubbed from it
    requests[0] = Request("echo", "m", [{"role": "user", "content": "hi"}], {"temperature": SECRET, "max_tokens": 9})
    requests[1] = Request("refused", "m", [{"role": "user", "content": "[[refuse]]"}], {"max_tokens": 9})
    results = teacher.run(requests)
    assert "[REDACTED]" in results[0].error and results[1].error
    results += teacher.run_batch(make_requests("secret-batch", 3), "secret")
    capped = Teacher(dataclasses.replace(cfg, budget_usd=teacher.spent()["total"]["usd"] + 0.1), "secret")
    with pytest.raises(BudgetExceeded) as e:
        capped.run(make_requests("secret-capped", 10))
    teacher.close()
    capped.close()
    texts = [repr(results), str(e.value), repr(teacher), repr(cfg), caplog.text, *capsys.readouterr()]
    texts += [p.read_bytes().decode(errors="replace") for p in tmp_path.iterdir()]
    assert all(SECRET not in t for t in texts)


def test_missing_key_names_the_variable(server, tmp_path, monkeypatch):
    monkeypatch.delenv("PHI1_TEST_KEY", raising=False)
    requests = make_requests("no-key", 3)
    Teacher(config(server, tmp_path, api_key_env="PHI1_TEST_KEY"), "no-key").run(requests[:2])  # offline: no key
    remote = Teacher(config(server, tmp_path, api_key_env="PHI1_TEST_KEY", base_url="https://api.invalid/v1"), "no-key")
    assert remote.estimate(requests).cached == 2
    assert all(r.cached for r in remote.run(requests[:2]))  # nothing to send, no key needed
    with pytest.raises(ConfigError, match="environment variable PHI1_TEST_KEY is not set"):
        remote.run(requests)


def test_limiter_keeps_the_rate_under_contention():
    async def count(limiter: RateLimiter, tokens: int, seconds: float) -> float:
        done, start = 0, time.monotonic()

        async def worker():
            nonlocal done
            while time.monotonic() - start < seconds:
                await limiter.acquire(tokens)
                done += 1

        await asyncio.gather(*(worker() for _ in range(16)))
        return done / (time.monotonic() - start) * 60

    async def both():
        return await asyncio.gather(count(RateLimiter(rpm=1200, tpm=None), 0, 3.0),
                                    count(RateLimiter(rpm=None, tpm=60_000), 50, 3.0))

    rpm, tpm_as_rpm = asyncio.run(both())
    assert rpm == pytest.approx(1200, rel=0.05)
    assert tpm_as_rpm == pytest.approx(60_000 / 50, rel=0.05)


def test_teacher_keeps_the_set_rpm(server, tmp_path):
    requests = make_requests("rpm", 60)
    teacher = Teacher(config(server, tmp_path, rpm=1200), "rpm")
    start = time.monotonic()
    teacher.run(requests)
    assert 60 / (time.monotonic() - start) * 60 == pytest.approx(1200, rel=0.05)
