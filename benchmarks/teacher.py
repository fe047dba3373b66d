"""Benchmark the teacher client (phi1repro.teacher) against the offline teacher server.

The server runs in its own process (`python -m phi1repro.offline_teacher.server`) with a fixed latency
per chat completion (200 ms by default) and no faults; each measurement uses fresh prompts and a
fresh cache file in a temporary directory, so nothing is served from the cache. Measured:

1. throughput: requests/s of Teacher.run at max_concurrency 64, against the ideal of
   concurrency / latency (320 req/s), against the bare client at the same concurrency (64
   asyncio tasks sharing one `openai.AsyncOpenAI`, no cache, no accounting: what the machine
   allows), and against a naive sequential loop of `openai.OpenAI().chat.completions.create`;
2. rate limits: the achieved rate of Teacher.run under rpm=6000, and under a tpm limit (tokens
   reserved as estimated prompt + max_tokens, refunded to the real usage), against the set
   rate, each over --limiter-seconds (the rate counts from the first request to the last answer);
3. cache lookups: TeacherCache.get of --lookups random existing keys (response JSON decoded) in
   a file of --cache-entries answers of about 1 kB (built with executemany), and as many through
   get_many, --batch keys a call.

The server and the client share the machine's cores; on a small machine they compete for them,
and the bare-client row shows the ceiling that leaves. It reports numbers; it checks nothing.
Run from the repository root:

    .venv/bin/python benchmarks/teacher.py [--requests N] [--limiter-seconds S] [--cache-entries N] [--out PATH]

A full run takes about a minute and a half; `--requests 640 --limiter-seconds 5 --cache-entries 100000`
is a quick one.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import hashlib
import os
import platform
import random
import re
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from importlib.metadata import version
from pathlib import Path

import openai

from phi1repro.io import write_json
from phi1repro.teacher.cache import TeacherCache, canonical_json
from phi1repro.teacher.client import Request, Teacher, TeacherConfig

MODEL = "bench"
MAX_TOKENS = 64


@contextlib.contextmanager
def offline_server(latency_ms: float) -> Iterator[str]:
    """The offline teacher in a subprocess; yields its base URL."""
    cmd = [sys.executable, "-m", "phi1repro.offline_teacher.server", "--port", "0", "--latency-ms", str(latency_ms)]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True)
    try:
        line = proc.stdout.readline()
        match = re.match(r"listening on (\S+)", line)
        if not match:
            raise RuntimeError(f"the offline teacher did not start: {line!r}")
        yield match.group(1)
    finally:
        proc.terminate()
        proc.wait()


def requests(tag: str, n: int) -> list[Request]:
    return [Request(f"{tag}-{i}", MODEL, [{"role": "user", "content": f"{tag} question {i}"}],
                    {"max_tokens": MAX_TOKENS}) for i in range(n)]


def timed_run(base_url: str, reqs: list[Request], **config) -> tuple[float, dict]:
    """Seconds for Teacher.run over `reqs` on a fresh cache, and the ledger totals."""
    with tempfile.TemporaryDirectory() as tmp:
        cfg = TeacherConfig(base_url=base_url, cache_path=str(Path(tmp, "cache.sqlite")), **config)
        with Teacher(cfg, "bench") as teacher:
            start = time.perf_counter()
            results = teacher.run(reqs)
            elapsed = time.perf_counter() - start
            if any(r.error for r in results):
                raise RuntimeError(f"requests failed: {next(r.error for r in results if r.error)}")
            return elapsed, teacher.spent()["stage"]


async def bare_client(base_url: str, reqs: list[Request], concurrency: int) -> float:
    """Seconds for `concurrency` tasks sharing one AsyncOpenAI to send `reqs`."""
    queue = iter(reqs)
    async with openai.AsyncOpenAI(base_url=base_url, api_key="offline", max_retries=0) as client:
        async def worker():
            for r in queue:
                await client.chat.completions.create(**r.body)

        start = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        return time.perf_counter() - start


def throughput(base_url: str, n: int, concurrency: int, latency_s: float, n_sequential: int) -> dict:
    teacher = n / timed_run(base_url, requests("concurrent", n), max_concurrency=concurrency)[0]
    bare = n / asyncio.run(bare_client(base_url, requests("bare", n), concurrency))
    ideal = concurrency / latency_s
    client = openai.OpenAI(base_url=base_url, api_key="offline", max_retries=0)
    start = time.perf_counter()
    for r in requests("sequential", n_sequential):
        client.chat.completions.create(**r.body)
    sequential = n_sequential / (time.perf_counter() - start)
    return {"requests": n, "concurrency": concurrency, "latency_s": latency_s, "ideal_req_per_s": ideal,
            "teacher_req_per_s": round(teacher, 1), "teacher_share_of_ideal": round(teacher / ideal, 4),
            "bare_client_req_per_s": round(bare, 1), "bare_client_share_of_ideal": round(bare / ideal, 4),
            "sequential_requests": n_sequential, "sequential_req_per_s": round(sequential, 2),
            "speedup_over_sequential": round(teacher / sequential, 1)}


def limiter(base_url: str, seconds: float, rpm: float, tpm: float) -> dict:
    n_rpm = round(rpm / 60 * seconds)
    elapsed, _ = timed_run(base_url, requests("rpm", n_rpm), rpm=rpm)
    by_requests = n_rpm / elapsed * 60
    _, probe = timed_run(base_url, requests("probe", 1))  # real tokens of one answer, to size the tpm run
    tpm_requests = requests("tpm", round(tpm / 60 * seconds / probe["tokens"]))
    elapsed, spent = timed_run(base_url, tpm_requests, tpm=tpm)
    by_tokens = spent["tokens"] / elapsed * 60
    reserved = tpm_requests[0].prompt_tokens_estimate + tpm_requests[0].completion_tokens_bound
    return {"rpm": {"set": rpm, "achieved": round(by_requests, 1), "ratio": round(by_requests / rpm, 4),
                    "requests": n_rpm},
            "tpm": {"set": tpm, "achieved": round(by_tokens, 1), "ratio": round(by_tokens / tpm, 4),
                    "requests": len(tpm_requests), "tokens_reserved_per_request": reserved,
                    "tokens_used_per_request": round(spent["tokens"] / len(tpm_requests), 1)}}


def cache_lookups(entries: int, lookups: int, batch: int) -> dict:
    """A cache file of `entries` answers (about 1 kB each, like a short completion), then timed lookups."""
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp, "cache.sqlite")
        TeacherCache(path).close()  # the schema
        keys = [hashlib.sha256(str(i).encode()).hexdigest() for i in range(entries)]
        request, response = (canonical_json(obj) for obj in (
            {"model": MODEL, "messages": [{"role": "user", "content": "KEY"}], "max_tokens": MAX_TOKENS},
            {"id": "KEY", "object": "chat.completion", "model": MODEL, "usage": {"prompt_tokens": 9,
             "completion_tokens": 40}, "choices": [{"index": 0, "message": {"role": "assistant",
             "content": "answer KEY " * 8}, "finish_reason": "stop"}]}))
        start = time.perf_counter()
        with sqlite3.connect(path) as db:  # one transaction, keys in index order
            db.execute("PRAGMA synchronous = OFF")
            db.executemany("INSERT INTO responses VALUES (?, ?, ?, ?, ?, ?, ?)", (
                (key, MODEL, request.replace("KEY", key), response.replace("KEY", key), 9, 40, 0.0)
                for key in sorted(keys)))
        built = time.perf_counter() - start
        rng = random.Random(0)
        with TeacherCache(path) as cache:
            sample = rng.choices(keys, k=lookups)
            start = time.perf_counter()
            for key in sample:
                cache.get(key)
            get_rate = lookups / (time.perf_counter() - start)
            sample = rng.choices(keys, k=lookups)
            start = time.perf_counter()
            for i in range(0, lookups, batch):
                cache.get_many(sample[i : i + batch])
            many_rate = lookups / (time.perf_counter() - start)
        return {"entries": entries, "build_s": round(built, 2), "file_mb": round(path.stat().st_size / 1e6, 1),
                "lookups": lookups, "get_per_s": round(get_rate), "get_many_batch": batch,
                "get_many_keys_per_s": round(many_rate)}


def machine() -> dict:
    with open("/proc/cpuinfo") as f:
        cpu = next((line.split(":", 1)[1].strip() for line in f if line.startswith("model name")), platform.machine())
    return {"cpu": cpu, "cores": os.cpu_count(), "python": platform.python_version(), "sqlite": sqlite3.sqlite_version,
            **{name: version(name) for name in ("openai", "aiohttp")}}


def print_table(tp: dict, lim: dict, cache: dict) -> None:
    print(f"\nthroughput, {tp['requests']} requests, {tp['latency_s'] * 1000:g} ms latency each")
    print(f"  {'ideal (concurrency / latency)':34} {tp['ideal_req_per_s']:8.1f} req/s")
    print(f"  {'Teacher, concurrency ' + str(tp['concurrency']):34} {tp['teacher_req_per_s']:8.1f} req/s "
          f"({tp['teacher_share_of_ideal']:.1%} of ideal)")
    print(f"  {'bare AsyncOpenAI, same concurrency':34} {tp['bare_client_req_per_s']:8.1f} req/s "
          f"({tp['bare_client_share_of_ideal']:.1%} of ideal)")
    print(f"  {'sequential openai loop':34} {tp['sequential_req_per_s']:8.1f} req/s "
          f"(Teacher {tp['speedup_over_sequential']:g}x faster)")
    print("\nrate limits (achieved / set)")
    for name, r in lim.items():
        print(f"  {name:6} {r['achieved']:12,.0f} / {r['set']:<10,.0f} {r['ratio']:7.2%}  ({r['requests']} requests)")
    print(f"\ncache, {cache['entries']:,} entries ({cache['file_mb']} MB, built in {cache['build_s']} s)")
    print(f"  get of a random key: {cache['get_per_s']:,} /s; get_many, {cache['get_many_batch']:,} keys a call: "
          f"{cache['get_many_keys_per_s']:,} keys/s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=3200, help="for the throughput run (default 3200)")
    parser.add_argument("--concurrency", type=int, default=64, help="max_concurrency (default 64)")
    parser.add_argument("--latency-ms", type=float, default=200.0, help="the server's latency (default 200)")
    parser.add_argument("--sequential", type=int, default=25, help="requests of the sequential loop (default 25)")
    parser.add_argument("--limiter-seconds", type=float, default=20.0, help="length of each limiter run (default 20)")
    parser.add_argument("--rpm", type=float, default=6000.0, help="requests per minute to set (default 6000)")
    parser.add_argument("--tpm", type=float, default=300_000.0, help="tokens per minute to set (default 300000)")
    parser.add_argument("--cache-entries", type=int, default=1_000_000, help="responses in the cache (default 1M)")
    parser.add_argument("--lookups", type=int, default=200_000, help="timed gets (default 200000)")
    parser.add_argument("--batch", type=int, default=10_000, help="keys per get_many call (default 10000)")
    parser.add_argument("--out", default="results/speed/teacher.json", help="JSON results")
    args = parser.parse_args()

    with offline_server(args.latency_ms) as base_url:
        tp = throughput(base_url, args.requests, args.concurrency, args.latency_ms / 1000, args.sequential)
        lim = limiter(base_url, args.limiter_seconds, args.rpm, args.tpm)
    cache = cache_lookups(args.cache_entries, args.lookups, args.batch)
    print_table(tp, lim, cache)
    write_json(args.out, {"machine": machine(), "throughput": tp, "limiter": lim, "cache": cache,
                          "settings": {k: v for k, v in vars(args).items() if k != "out"}})


if __name__ == "__main__":
    main()
