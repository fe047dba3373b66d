"""The annotation stage: a seeded, stratified sample of the deduplicated corpus, labelled by the
teacher for educational value with the paper's question, parsed strictly.

phi-1 asked GPT-4 to "determine its educational value for a student whose goal is to learn basic
coding concepts". The answer format asked here (a 0-5 score line and a one-line reason) parses
reliably; an answer that does not follow it is counted as a parse failure, never guessed at.
"""

from __future__ import annotations

import dataclasses
import logging
import re
import time
from collections import Counter

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from ..errors import InputError
from ..io import ParquetWriter, read_parquet, write_json
from ..teacher.client import Request, Teacher, TeacherConfig
from ..teacher.endpoint import client_config

log = logging.getLogger(__name__)

PROMPT_VERSION = "annotate-v1"
PROMPT = """\
Below is a Python code snippet from a public code corpus. Please determine its educational value \
for a student whose goal is to learn basic coding concepts.

```python
{code}
```

Answer in exactly two lines and nothing else:
score: <an integer from 0 (no educational value) to 5 (textbook quality)>
reason: <one sentence>"""

SCORE_LINE = re.compile(r"^\s*score\s*:\s*(\S+?)\s*(?:/\s*5)?\s*$", re.IGNORECASE | re.MULTILINE)
REASON_LINE = re.compile(r"^\s*reason\s*:\s*(\S.*?)\s*$", re.IGNORECASE | re.MULTILINE)

SAMPLE_SCHEMA = pa.schema(
    [("id", pa.string()), ("source", pa.string()), ("origin", pa.string()), ("shard", pa.string()),
     ("row", pa.int64()), ("text", pa.large_string()), ("n_bytes", pa.int64())]
)
LABEL_SCHEMA = pa.schema(
    [("id", pa.string()), ("source", pa.string()), ("shard", pa.string()), ("row", pa.int64()),
     ("score", pa.int8()), ("reason", pa.string()), ("parse_error", pa.string()), ("request_error", pa.string()),
     ("response", pa.string()), ("model", pa.string()), ("prompt_version", pa.string()),
     ("request_key", pa.string()), ("prompt_tokens", pa.int64()), ("completion_tokens", pa.int64()),
     ("cost_usd", pa.float64()), ("cached", pa.bool_())]
)


def allocate(sizes: list[int], n: int) -> list[int]:
    """Split `n` draws across strata in proportion to their sizes (largest remainder), never
    more than a stratum holds."""
    total = sum(sizes)
    if n >= total:
        return list(sizes)
    quotas = np.asarray(sizes, dtype=float) * n / total
    counts = np.floor(quotas).astype(int)
    for i in np.argsort(-(quotas - counts), kind="stable")[: n - counts.sum()]:
        counts[i] += 1
    return counts.tolist()


def sample_corpus(shards: dict[str, str], n: int, seed: int, out: str, stats_out: str) -> dict:
    """Draw `n` records across the deduplicated shards (name -> parquet path), each shard in
    proportion to its size, rows chosen by a generator seeded with (seed, shard position)."""
    sizes = []
    for path in shards.values():
        try:
            sizes.append(pq.ParquetFile(path).metadata.num_rows)
        except (OSError, pa.ArrowInvalid) as e:
            raise InputError(path, f"not a readable parquet file ({e})") from None
    counts = allocate(sizes, n)
    if sum(counts) < n:
        log.warning("annotate.sample_size is %d but the corpus has only %d records: labelling all", n, sum(sizes))
    by_source: Counter = Counter()
    with ParquetWriter(out, SAMPLE_SCHEMA) as writer:
        for position, ((name, path), size, k) in enumerate(zip(shards.items(), sizes, counts)):
            if not k:
                continue
            rows = np.sort(np.random.default_rng([seed, position]).choice(size, k, replace=False))
            table = read_parquet(path, columns=["id", "source", "origin", "text", "n_bytes"]).take(rows)
            table = table.append_column("shard", pa.array([name] * k)).append_column("row", pa.array(rows))
            writer.write_table(table)
            by_source.update(table.column("source").to_pylist())
    stats = {"records": int(sum(counts)), "corpus_records": int(sum(sizes)), "seed": seed,
             "by_source": dict(sorted(by_source.items()))}
    write_json(stats_out, stats)
    return stats


def build_request(record: dict, annotate: dict) -> Request:
    code = record["text"][: annotate["max_code_chars"]]
    return Request(
        item_id=record["id"],
        model=annotate["model"],
        messages=[{"role": "user", "content": PROMPT.format(code=code)}],
        params={"temperature": annotate["temperature"], "max_tokens": annotate["max_tokens"]},
    )


def parse_label(text: str) -> tuple[int | None, str | None, str | None]:
    """(score, reason, None) for an answer in the asked format, else (None, None, why it failed)."""
    scores = SCORE_LINE.findall(text)
    if len(scores) != 1:
        return None, None, "no_score_line" if not scores else "several_score_lines"
    if not re.fullmatch(r"[0-5]", scores[0]):
        return None, None, "score_not_0_to_5"
    reason = REASON_LINE.search(text)
    if not reason:
        return None, None, "no_reason_line"
    return int(scores[0]), reason.group(1), None


def label_sample(sample: str, annotate: dict, teacher: TeacherConfig, batch: bool, out: str, stats_out: str) -> dict:
    """Ask the teacher about every sampled record; write labels with raw answers and lineage."""
    start = time.perf_counter()
    records = read_parquet(sample).to_pylist()
    requests = [build_request(r, annotate) for r in records]
    with Teacher(teacher, stage="annotate") as client:
        log.info("pre-flight: %s", client.estimate(requests))
        results = client.run_batch(requests, group="annotate") if batch else client.run(requests)

    scores: Counter = Counter()
    failures: Counter = Counter()
    with ParquetWriter(out, LABEL_SCHEMA) as writer:
        for record, request, result in zip(records, requests, results):
            response = result.texts[0] if result.texts else None
            score, reason, parse_error = parse_label(response) if response is not None else (None, None, None)
            if result.error:
                failures["request_error"] += 1
            elif parse_error:
                failures[parse_error] += 1
            else:
                scores[score] += 1
            writer.write({
                "id": record["id"], "source": record["source"], "shard": record["shard"], "row": record["row"],
                "score": score, "reason": reason, "parse_error": parse_error, "request_error": result.error,
                "response": response, "model": request.model, "prompt_version": PROMPT_VERSION,
                "request_key": result.key, "prompt_tokens": result.prompt_tokens,
                "completion_tokens": result.completion_tokens, "cost_usd": result.cost_usd, "cached": result.cached,
            })
    stats = {
        "records": len(records),
        "labelled": sum(scores.values()),
        "score_distribution": {str(s): scores[s] for s in range(6)},
        "failures": dict(sorted(failures.items())),
        "requests_cached": sum(r.cached for r in results),
        "prompt_tokens": sum(r.prompt_tokens for r in results),
        "completion_tokens": sum(r.completion_tokens for r in results),
        "cost_usd": round(sum(r.cost_usd for r in results), 6),
        "model": annotate["model"],
        "prompt_version": PROMPT_VERSION,
        "seconds": round(time.perf_counter() - start, 3),
    }
    write_json(stats_out, stats)
    log.info("labelled %d of %d; failures %s; $%.4f", stats["labelled"], len(records), stats["failures"], stats["cost_usd"])
    return stats


def estimate_cost(sample: str, annotate: dict, teacher: dict, out: str) -> dict:
    """The pre-flight estimate of the labelling requests, tokens and dollars (cache hits are
    free), from the `teacher` config section, without calling the API."""
    requests = [build_request(r, annotate) for r in read_parquet(sample).to_pylist()]
    with Teacher(client_config(teacher), stage="annotate") as client:
        estimate = client.estimate(requests)
    report = {"stage": "annotate", "model": annotate["model"], **dataclasses.asdict(estimate)}
    write_json(out, report)
    return report
