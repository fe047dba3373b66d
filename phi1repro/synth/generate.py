"""Generating the synthetic datasets, one part per Snakemake job: textbook sections up to a token
target, and CodeExercises, each validated by execution as it arrives.

A part asks the teacher in rounds of prompts (prompts.py: the part's own global indices, in
order). Every answer is cached the moment it arrives, so a part that is killed resumes from the
cache with no repeated request. The rows a part writes depend only on the answers, never on the
round size or on what was cached: textbook rows are taken in index order until the part's token
share is reached; exercise rows are every index the part owns.
"""

from __future__ import annotations

import hashlib
import logging
import math
import time
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass

import pyarrow as pa

from ..io import ParquetWriter, read_json, write_json
from ..sandbox import Limits
from ..teacher.client import Request, Result, Teacher, TeacherConfig
from .prompts import (
    EXERCISE_TEMPLATE_VERSION,
    TEXTBOOK_TEMPLATE_VERSION,
    ExercisePrompts,
    NameLedger,
    TextbookPrompts,
    part_indices,
)
from .validate import ExerciseValidator, Verdict

log = logging.getLogger(__name__)

ROUND_MARGIN = 1.1  # a textbook round asks for this many times the answers the part still needs

LINEAGE = [("model", pa.string()), ("template_version", pa.string()), ("request_key", pa.string()),
           ("prompt_tokens", pa.int64()), ("completion_tokens", pa.int64()), ("cost_usd", pa.float64()),
           ("cached", pa.bool_())]
TEXTBOOK_SCHEMA = pa.schema(
    [("id", pa.string()), ("part", pa.int32()), ("index", pa.int64()), ("topic", pa.string()),
     ("audience", pa.string()), ("style", pa.string()), ("round", pa.int32()), ("text", pa.large_string()),
     *LINEAGE]
)
EXERCISE_SCHEMA = pa.schema(
    [("id", pa.string()), ("part", pa.int32()), ("index", pa.int64()), ("name", pa.string()),
     ("domain", pa.string()), ("task", pa.large_string()), ("solution", pa.large_string()),
     ("text", pa.large_string()), ("imports", pa.list_(pa.string())), ("examples", pa.int32()), *LINEAGE]
)
REJECTED_SCHEMA = pa.schema(
    [("part", pa.int32()), ("index", pa.int64()), ("name", pa.string()), ("domain", pa.string()),
     ("reason", pa.string()), ("detail", pa.string()), ("response", pa.large_string()), *LINEAGE]
)


def text_id(text: str) -> str:
    """The id of a generated text: blake2b-128 of its UTF-8 bytes, as corpus records."""
    return hashlib.blake2b(text.encode(), digest_size=16).hexdigest()


def lineage(request: Request, result: Result, template_version: str) -> dict:
    return {"model": request.model, "template_version": template_version, "request_key": result.key,
            "prompt_tokens": result.prompt_tokens, "completion_tokens": result.completion_tokens,
            "cost_usd": result.cost_usd, "cached": result.cached}


@dataclass
class Accounting:
    """What a part asked and got, for its stats file."""

    requests: int = 0
    cached: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cost_usd: float = 0.0

    def add(self, results: Sequence[Result]) -> None:
        self.requests += len(results)
        self.cached += sum(r.cached for r in results)
        self.prompt_tokens += sum(r.prompt_tokens for r in results)
        self.completion_tokens += sum(r.completion_tokens for r in results)
        self.cost_usd += sum(r.cost_usd for r in results)

    def as_dict(self) -> dict:
        return {"requests": self.requests, "requests_cached": self.cached, "prompt_tokens": self.prompt_tokens,
                "completion_tokens": self.completion_tokens, "cost_usd": round(self.cost_usd, 6)}


def ask(client: Teacher, requests: list[Request], batch: bool, group: str) -> list[Result]:
    return client.run_batch(requests, group=group) if batch else client.run(requests)


def request_error_kind(error: str) -> str:
    """A short counter key for a failed request's error: its status and code, e.g. '400 content_policy_violation'."""
    return error.partition(":")[0][:80]


# --- textbooks ---------------------------------------------------------------------------------


def textbook_request(prompts: TextbookPrompts, index: int, cfg: dict) -> Request:
    prompt = prompts[index]
    return Request(item_id=f"textbook-{index}", model=cfg["model"],
                   messages=[{"role": "user", "content": prompt.text}],
                   params={"temperature": cfg["temperature"], "max_tokens": cfg["max_tokens"], "seed": index})


def generate_textbooks(part: int, cfg: dict, seed: int, teacher: TeacherConfig, batch: bool, out: str,
                       stats_out: str) -> dict:
    """Textbook sections for `part` of cfg["parts"] until the part has its share of cfg["tokens"]
    (completion tokens as the teacher counts them)."""
    start = time.perf_counter()
    prompts = TextbookPrompts(tuple(cfg["topics"]), tuple(cfg["audiences"]), tuple(cfg["styles"]), seed)
    target = math.ceil(cfg["tokens"] / cfg["parts"])
    accounting, errors = Accounting(), Counter()
    tokens = rows = asked = 0
    with Teacher(teacher, stage="synth-textbooks") as client, ParquetWriter(out, TEXTBOOK_SCHEMA) as writer:
        while tokens < target:
            # Size the round by the mean answer so far (at first, a quarter of max_tokens), with a
            # margin, so that a part overshoots its target by little and ends in few rounds.
            mean = tokens / rows if rows else cfg["max_tokens"] / 4
            size = min(cfg["round_size"], math.ceil(ROUND_MARGIN * (target - tokens) / mean))
            indices = part_indices(part, cfg["parts"], asked, asked + size)
            asked += size
            requests = [textbook_request(prompts, i, cfg) for i in indices]
            results = ask(client, requests, batch, group=f"synth-textbooks-{part}-{indices[0]}")
            accounting.add(results)
            answered = 0
            for index, request, result in zip(indices, requests, results):
                if result.error or not result.texts or not result.texts[0].strip():
                    errors[request_error_kind(result.error) if result.error else "empty_answer"] += 1
                    continue
                answered += 1
                if tokens >= target:
                    continue  # answered beyond the target: cached for a larger target, not written
                prompt, text = prompts[index], result.texts[0]
                writer.write({"id": text_id(text), "part": part, "index": index, "topic": prompt.topic,
                              "audience": prompt.audience, "style": prompt.style, "round": prompt.round,
                              "text": text, **lineage(request, result, TEXTBOOK_TEMPLATE_VERSION)})
                tokens += result.completion_tokens
                rows += 1
            if not answered:
                raise RuntimeError(f"textbooks part {part}: no answer to a round of {len(requests)} requests "
                                   f"({dict(errors)}); see the log above")
    stats = {"part": part, "rows": rows, "tokens": tokens, "target_tokens": target,
             "failures": dict(sorted(errors.items())), **accounting.as_dict(), "model": cfg["model"],
             "teacher": teacher.teacher, "template_version": TEXTBOOK_TEMPLATE_VERSION,
             "seconds": round(time.perf_counter() - start, 3)}
    write_json(stats_out, stats)
    log.info("textbooks part %d: %d sections, %d tokens (target %d)", part, rows, tokens, target)
    return stats


# --- exercises ---------------------------------------------------------------------------------


def exercise_prompts(cfg: dict, seed: int) -> ExercisePrompts:
    names = NameLedger(tuple(cfg["verbs"]), tuple(cfg["modifiers"]), tuple(cfg["nouns"]), seed,
                       cfg["max_modifiers"])
    if cfg["count"] > names.size:
        raise ValueError(f"synth.exercises.count is {cfg['count']:,} but the vocabularies give only "
                         f"{names.size:,} distinct function names: add verbs, modifiers or nouns")
    return ExercisePrompts(names, tuple(cfg["domains"]), seed)


def exercise_request(prompts: ExercisePrompts, index: int, cfg: dict) -> Request:
    return Request(item_id=f"exercise-{index}", model=cfg["model"],
                   messages=[{"role": "user", "content": prompts[index].text}],
                   params={"temperature": cfg["temperature"], "max_tokens": cfg["max_tokens"], "seed": index})


def rounds(indices: range, size: int) -> Iterator[range]:
    for start in range(0, len(indices), size):
        yield indices[start: start + size]


def generate_exercises(part: int, cfg: dict, seed: int, teacher: TeacherConfig, batch: bool, out: str,
                       rejected_out: str, stats_out: str, indices: range | None = None,
                       stage: str = "synth-exercises") -> dict:
    """CodeExercises for the indices `part` owns below cfg["count"] (or for `indices`); each answer
    validated by execution while the next round is being generated. Valid ones go to `out`,
    rejected ones (with their reason) to `rejected_out`."""
    start = time.perf_counter()
    prompts = exercise_prompts(cfg, seed)
    indices = range(part, cfg["count"], cfg["parts"]) if indices is None else indices
    validation = cfg["validation"]
    limits = Limits(timeout_s=validation["timeout_s"], memory_mb=validation["memory_mb"])
    accounting, reasons, validation_seconds = Accounting(), Counter(), 0.0
    with (Teacher(teacher, stage=stage) as client,
          ExerciseValidator(workers=validation["workers"], limits=limits) as validator,
          ThreadPoolExecutor(1, thread_name_prefix="validate") as background,
          ParquetWriter(out, EXERCISE_SCHEMA) as valid,
          ParquetWriter(rejected_out, REJECTED_SCHEMA) as rejected):
        pending: Future | None = None
        for batch_indices in rounds(indices, cfg["round_size"]):
            requests = [exercise_request(prompts, i, cfg) for i in batch_indices]
            results = ask(client, requests, batch, group=f"{stage}-{part}-{batch_indices[0]}")
            accounting.add(results)
            if pending:
                validation_seconds += pending.result()
            pending = background.submit(_validate_round, validator, prompts, part, batch_indices, requests, results,
                                        valid.write, rejected.write, reasons)
        if pending:
            validation_seconds += pending.result()
    stats = {"part": part, "requested": len(indices), "valid": reasons.pop("valid", 0),
             "rejected": dict(sorted(reasons.items())), **accounting.as_dict(), "model": cfg["model"],
             "teacher": teacher.teacher, "template_version": EXERCISE_TEMPLATE_VERSION,
             "validation_seconds": round(validation_seconds, 3), "seconds": round(time.perf_counter() - start, 3)}
    stats["rejected_total"] = sum(stats["rejected"].values())
    write_json(stats_out, stats)
    log.info("exercises part %d: %d valid of %d; rejected %s", part, stats["valid"], len(indices), stats["rejected"])
    return stats


def _validate_round(validator: ExerciseValidator, prompts: ExercisePrompts, part: int, indices: range,
                    requests: list[Request], results: list[Result], write_valid: Callable[[dict], None],
                    write_rejected: Callable[[dict], None], reasons: Counter) -> float:
    """Validate one round's answers and write its rows; count them in `reasons`; return the seconds taken."""
    start = time.perf_counter()
    answered = [(i, req, res) for i, req, res in zip(indices, requests, results) if res.texts]
    verdicts: list[Verdict] = validator.validate([(prompts[i].name, res.texts[0]) for i, _, res in answered])
    verdict_of = {i: v for (i, _, _), v in zip(answered, verdicts)}
    for index, request, result in zip(indices, requests, results):
        prompt, verdict = prompts[index], verdict_of.get(index)
        row = {"part": part, "index": index, "name": prompt.name, "domain": prompt.domain,
               **lineage(request, result, EXERCISE_TEMPLATE_VERSION)}
        if verdict is not None and verdict.reason is None:
            ex = verdict.exercise
            write_valid({"id": text_id(ex.code), **row, "task": ex.task, "solution": ex.solution, "text": ex.code,
                         "imports": list(ex.imports), "examples": ex.examples})
            reasons["valid"] += 1
            continue
        if verdict is None:
            reason, detail = "request_error", result.error
        else:
            reason, detail = verdict.reason, verdict.detail
        reasons[reason] += 1
        write_rejected({**row, "reason": reason, "detail": detail,
                        "response": result.texts[0] if result.texts else None})
    return time.perf_counter() - start


# --- stats -------------------------------------------------------------------------------------

SUMMED = ("rows", "tokens", "target_tokens", "requested", "valid", "rejected_total", "requests", "requests_cached",
          "prompt_tokens", "completion_tokens", "cost_usd", "seconds", "validation_seconds")


def summarise_parts(textbooks: list[str], exercises: list[str], out: str) -> dict:
    """The stage's stats: each dataset's part stats summed, failure and rejection reasons merged."""
    summary = {}
    for dataset, paths, reasons_key in (("textbooks", textbooks, "failures"), ("exercises", exercises, "rejected")):
        parts = [read_json(p) for p in paths]
        totals = {k: sum(p[k] for p in parts) for k in SUMMED if k in parts[0]}
        reasons = sum((Counter(p[reasons_key]) for p in parts), Counter())
        summary[dataset] = {"parts": len(parts), **totals, reasons_key: dict(sorted(reasons.items())),
                            "model": parts[0]["model"], "template_version": parts[0]["template_version"]}
        summary[dataset]["cost_usd"] = round(summary[dataset]["cost_usd"], 6)
    exercises_summary = summary["exercises"]
    exercises_summary["valid_share"] = round(exercises_summary["valid"] / max(exercises_summary["requested"], 1), 4)
    write_json(out, summary)
    return summary
