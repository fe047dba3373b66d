"""The annotation stage: a seeded, stratified sample of the deduplicated corpus, labelled by the
teacher for educational value with the paper's question.

phi-1 asked GPT-4 to "determine its educational value for a student whose goal is to learn basic
coding concepts". The answer (a 0-5 score and a one-sentence reason) is asked as structured output
where the server has it (`annotate.structured`), read by the tolerant parser in teacher/scores.py,
and an answer that still cannot be read is counted by reason and kept with its raw text, never
guessed at (see teacher/scoring.py, also for `annotate.repair`).
"""

from __future__ import annotations

import dataclasses
import logging
import time
from collections import Counter

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from ..errors import InputError
from ..io import ParquetWriter, read_parquet, write_json
from ..teacher.client import Request, Teacher, TeacherConfig
from ..teacher.endpoint import client_config
from ..teacher.scores import EDUCATIONAL_VALUE
from ..teacher.scoring import answer_format, ask_scores, response_format

log = logging.getLogger(__name__)

PROMPT_VERSION = "annotate-v1"
ANNOTATION_MARKER = "determine its educational value for a student whose goal is to learn basic coding concepts"
PROMPT = """\
Below is a Python code snippet from a public code corpus. Please """ + ANNOTATION_MARKER + """.

```python
{code}
```

{answer_format}"""
SCALE = EDUCATIONAL_VALUE
SCORE_HINT = "<an integer from 0 (no educational value) to 5 (textbook quality)>"

SAMPLE_SCHEMA = pa.schema(
    [("id", pa.string()), ("source", pa.string()), ("origin", pa.string()), ("shard", pa.string()),
     ("row", pa.int64()), ("text", pa.large_string()), ("n_bytes", pa.int64())]
)
LABEL_SCHEMA = pa.schema(
    [("id", pa.string()), ("source", pa.string()), ("shard", pa.string()), ("row", pa.int64()),
     ("score", pa.int8()), ("reason", pa.string()), ("parse_error", pa.string()), ("request_error", pa.string()),
     ("response", pa.string()), ("structured", pa.string()), ("repair_response", pa.string()), ("model", pa.string()), ("prompt_version", pa.string()),
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


def build_request(record: dict, annotate: dict, mode: str) -> Request:
    code = record["text"][: annotate["max_code_chars"]]
    prompt = PROMPT.format(code=code, answer_format=answer_format(SCALE, SCORE_HINT, mode))
    return Request(
        item_id=record["id"],
        model=annotate["model"],
        messages=[{"role": "user", "content": prompt}],
        params={"temperature": annotate["temperature"], "max_tokens": annotate["max_tokens"],
                "response_format": response_format(SCALE, mode)},
    )


def label_sample(sample: str, annotate: dict, teacher: TeacherConfig, batch: bool, out: str, stats_out: str) -> dict:
    """Ask the teacher about every sampled record; write labels with raw answers and lineage."""
    start = time.perf_counter()
    records = read_parquet(sample).to_pylist()
    with Teacher(teacher, stage="annotate") as client:
        log.info("pre-flight: %s", client.estimate([build_request(r, annotate, annotate["structured"]) for r in records]))
        scored, counts = ask_scores(client, lambda mode: [build_request(r, annotate, mode) for r in records], SCALE,
                                    annotate["structured"], annotate["repair"], batch, group="annotate")
    with ParquetWriter(out, LABEL_SCHEMA) as writer:
        for record, item in zip(records, scored):
            writer.write({"id": record["id"], "source": record["source"], "shard": record["shard"],
                          "row": record["row"], "score": item.parsed.score, "model": annotate["model"],
                          "prompt_version": PROMPT_VERSION, **item.row()})
    scores = Counter(s.parsed.score for s in scored if s.parsed.error is None and s.result.error is None)
    stats = {
        "records": len(records),
        "labelled": sum(scores.values()),
        "score_distribution": {str(s): scores[s] for s in range(6)},
        **counts,
        "model": annotate["model"], "teacher": teacher.teacher,
        "prompt_version": PROMPT_VERSION,
        "seconds": round(time.perf_counter() - start, 3),
    }
    write_json(stats_out, stats)
    log.info("labelled %d of %d (parse rate %s); failures %s; $%.4f", stats["labelled"], len(records),
             stats["parse_rate"], stats["failures"], stats["cost_usd"])
    return stats


def estimate_cost(sample: str, annotate: dict, teacher: dict, out: str) -> dict:
    """The pre-flight estimate of the labelling requests, tokens and dollars (cache hits are
    free), from the `teacher` config section, without calling the API."""
    requests = [build_request(r, annotate, annotate["structured"]) for r in read_parquet(sample).to_pylist()]
    with Teacher(client_config(teacher), stage="annotate") as client:
        estimate = client.estimate(requests)
    report = {"stage": "annotate", "model": annotate["model"], **dataclasses.asdict(estimate)}
    write_json(out, report)
    return report
