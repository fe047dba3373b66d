"""Asking the teacher for a score and a reason: structured outputs where the server has them, a
tolerant parse of what comes back, and an optional repair request; nothing paid for is dropped.

`structured` (per stage) is how the answer is asked for:
  json_schema  `response_format: {type: json_schema}`: the server constrains the answer to Scale.schema()
               (OpenAI's newer models, vLLM, llama.cpp's llama-server, Ollama >= 0.5)
  json_object  `response_format: {type: json_object}`: any JSON object, its fields named in the prompt
  none         no response_format: the two-line free-text answer (the requests of earlier versions)
A server that refuses the mode (a 4xx naming response_format, as OpenAI's gpt-4 does for json_schema)
gets the next one down for the rest of the run: one probe request finds out, and the fall is logged
once and reported in the stats. An answer that still fails to parse keeps its raw text; with
`repair`, it is asked once more with a short repair prompt (cached and priced like any request).
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass

from .client import Request, Result, Teacher
from .scores import Parsed, Scale, parse_score

log = logging.getLogger(__name__)

MODES = ("json_schema", "json_object", "none")
REPAIR_PROMPT = "Your answer could not be read ({error}). {answer_format}"


def answer_format(scale: Scale, hint: str, mode: str) -> str:
    """The prompt's last lines: how to answer, with `hint` describing the score."""
    if mode == "none":
        return f"Answer in exactly two lines and nothing else:\n{scale.field}: {hint}\nreason: <one sentence>"
    return f'Answer with a JSON object and nothing else: {{"{scale.field}": {hint}, "reason": "<one sentence>"}}'


def response_format(scale: Scale, mode: str) -> dict | None:
    """The request's `response_format` for `mode` (None: the parameter is left out)."""
    if mode == "json_schema":
        return {"type": "json_schema", "json_schema": {"name": scale.field, "strict": True, "schema": scale.schema()}}
    return {"type": "json_object"} if mode == "json_object" else None


@dataclass
class Scored:
    """One item's answer: the request's result, the repair's (if asked) and what was read."""

    result: Result
    mode: str
    parsed: Parsed
    repair: Result | None = None
    first_error: str | None = None  # the first answer's parse error, when it was repaired

    @property
    def response(self) -> str | None:
        return self.result.texts[0] if self.result.texts else None

    def row(self) -> dict:
        """The fields every scored item records, beside the stage's own."""
        repair = self.repair
        return {
            "reason": self.parsed.reason, "parse_error": self.parsed.error, "request_error": self.result.error,
            "response": self.response, "structured": self.mode,
            "repair_response": repair.texts[0] if repair and repair.texts else None,
            "request_key": self.result.key, "cached": self.result.cached,
            **{k: getattr(self.result, k) + (getattr(repair, k) if repair else 0)
               for k in ("prompt_tokens", "completion_tokens", "cost_usd")},
        }


def ask_scores(client: Teacher, build: Callable[[str], list[Request]], scale: Scale, structured: str, repair: bool,
               batch: bool = False, group: str = "") -> tuple[list[Scored], dict]:
    """Answers to the requests `build(mode)` makes, parsed, and their stats; see the module docstring."""
    mode, fallbacks, probe = structured, [], None
    requests = build(mode)
    while mode != "none" and requests:
        probe = client.run(requests[:1])[0]
        if not _refuses_format(probe.error):
            break
        error = probe.error
        fallback = MODES[MODES.index(mode) + 1]
        log.warning("%s: the server refuses response_format %s (%s); asking with %s for the rest of this run",
                    client.stage, mode, error, fallback)
        fallbacks.append(f"{mode} -> {fallback}")
        mode, requests = fallback, build(fallback)
    results = client.run_batch(requests, group=group) if batch else client.run(requests)
    if probe is not None and probe.key == results[0].key:  # the probe's answer, paid in this run, is no cache hit
        results[0] = probe
    scored = [Scored(r, mode, _parse(r, scale)) for r in results]
    if repair:
        _repair(client, [(s, q) for s, q in zip(scored, requests) if s.parsed.error], scale)
    return scored, _stats(scored, mode, fallbacks, repair)


def _parse(result: Result, scale: Scale) -> Parsed:
    return parse_score(result.texts[0], scale) if result.texts else Parsed(None, None, None)


def _refuses_format(error: str | None) -> bool:
    """Whether a request error is the server refusing response_format (OpenAI, vLLM, llama.cpp word it so)."""
    text = (error or "").lower()
    return text[:1] == "4" and any(word in text for word in ("response_format", "json_schema", "json_object"))


def _repair(client: Teacher, failed: list[tuple[Scored, Request]], scale: Scale) -> None:
    """Ask once more for each failed parse, in the conversation, with REPAIR_PROMPT; keep what parses."""
    hint = f"<an integer from 0 to {scale.top}>"
    requests = [Request(f"{q.item_id}#repair", q.model, [
        *q.messages, {"role": "assistant", "content": s.response},
        {"role": "user", "content": REPAIR_PROMPT.format(error=s.parsed.error.replace("_", " "),
                                                          answer_format=answer_format(scale, hint, s.mode))}],
        q.params) for s, q in failed]
    for (scored, _), result in zip(failed, client.run(requests) if requests else []):
        scored.repair, scored.first_error = result, scored.parsed.error
        if (parsed := _parse(result, scale)).error is None and result.error is None:
            scored.parsed = parsed


def _stats(scored: list[Scored], mode: str, fallbacks: list[str], repair: bool) -> dict:
    """Counts of a stage's answers: parsed, failures by reason, the parse rate of the answers that arrived,
    the structured mode used, repairs, tokens and dollars (repairs included)."""
    failures = Counter("request_error" if s.result.error else s.parsed.error for s in scored
                       if s.result.error or s.parsed.error)
    answered = sum(s.result.error is None for s in scored)
    parsed = answered - sum(n for reason, n in failures.items() if reason != "request_error")
    repairs = [s for s in scored if s.repair is not None]
    rows = [s.row() for s in scored]
    return {
        "answered": answered,
        "parsed": parsed,
        "parse_rate": round(parsed / answered, 4) if answered else None,  # repairs included
        "first_answer_parse_rate": round((parsed - sum(s.parsed.error is None for s in repairs)) / answered, 4)
        if answered else None,
        "failures": dict(sorted(failures.items())),
        "without_reason": sum(s.parsed.error is None and s.parsed.reason is None for s in scored),
        "structured": mode,
        "structured_fallbacks": fallbacks,
        "repair": {"enabled": repair, "asked": len(repairs), "fixed": sum(s.parsed.error is None for s in repairs),
                   "asked_by_reason": dict(sorted(Counter(s.first_error for s in repairs).items())),
                   "cost_usd": round(sum(s.repair.cost_usd for s in repairs), 6)},
        "requests_cached": sum(s.result.cached for s in scored),
        "prompt_tokens": sum(r["prompt_tokens"] for r in rows),
        "completion_tokens": sum(r["completion_tokens"] for r in rows),
        "cost_usd": round(sum(r["cost_usd"] for r in rows), 6),
    }
