"""Answering a chat completion: which generator answers, and the chat.completion object it makes.

The offline teacher is NOT a language model. It answers from transparent, deterministic procedural
generators (GENERATORS; the first that matches answers), so the demo, the tests and CI exercise the
real `openai` client, retries, caching and the Batch API end to end. The same (model, messages,
temperature, seed, choice index) always gets the same content.

Structured outputs: `response_format` {type: json_schema} gets the annotation's or grader's judgement as
a JSON object (checked against the request's schema by the server), {type: json_object} the same object.
Free-text answers to those prompts come in the answer style: 'plain' (the asked lines) or 'varied'
(phrasing.py: as real models word them).
"""

from __future__ import annotations

import hashlib
import json
import random
import time
from typing import Any, Protocol

from phi1repro.quality.annotate import ANNOTATION_MARKER
from phi1repro.teacher.scores import EDUCATIONAL_VALUE

from .exercises import ExerciseGenerator
from .grader import GradingGenerator
from .messages import Messages, last_user_text, marked_text, message_text
from .phrasing import vary
from .protocol import JSON_FORMATS, canonical_json, count_tokens, max_tokens_of, new_id, response_format_type, truncate
from .rubric import educational_value, extract_code
from .textbooks import TextbookGenerator


class Generator(Protocol):
    """A procedural answerer for the requests it recognises."""

    def matches(self, messages: Messages) -> bool: ...

    def respond(self, messages: Messages, rng: random.Random) -> str: ...


class AnnotationGenerator:
    """phi-1's educational-value question, answered by the rubric in rubric.py as 'score: N\\nreason: ...'."""

    marker, scale, label = ANNOTATION_MARKER, EDUCATIONAL_VALUE, "Educational value"

    def matches(self, messages: Messages) -> bool:
        return any(ANNOTATION_MARKER in message_text(m) for m in messages)

    def judge(self, messages: Messages) -> tuple[int, str]:
        return educational_value(extract_code(marked_text(messages, ANNOTATION_MARKER)))

    def respond(self, messages: Messages, rng: random.Random) -> str:
        return "score: {}\nreason: {}".format(*self.judge(messages))


class FallbackGenerator:
    """Answers what no generator recognises with a short note saying what the offline teacher is."""

    def matches(self, messages: Messages) -> bool:
        return True

    def respond(self, messages: Messages, rng: random.Random) -> str:
        first_line = last_user_text(messages).strip().partition("\n")[0][:60]
        return (
            f"This is the offline teacher, a deterministic procedural stand-in for a language model; no "
            f"generator recognises the prompt starting {first_line!r}. Reply variant {rng.randrange(1000):03d}."
        )


GENERATORS: list[Generator] = [AnnotationGenerator(), GradingGenerator(), TextbookGenerator(), ExerciseGenerator()]
"""The generators, in order; the first whose `matches` is true answers. Append new ones here."""
FALLBACK: Generator = FallbackGenerator()


def answer(body: dict[str, Any], style: str = "plain", teacher_seed: int = 0) -> dict[str, Any]:
    """The chat.completion object for a valid request body, free-text judgements worded in `style`, drawn
    as the teacher of `teacher_seed` draws them."""
    model, messages = body["model"], body["messages"]
    generator = next((g for g in GENERATORS if g.matches(messages)), FALLBACK)
    choices = []
    for index in range(body.get("n") or 1):
        seed = canonical_json([model, messages, body.get("temperature"), body.get("seed"), index,
                               *([teacher_seed] if teacher_seed else [])])
        rng = random.Random(hashlib.sha256(seed).hexdigest())
        content, finish_reason = truncate(_content(generator, body, style, rng), max_tokens_of(body))
        choices.append({"index": index, "message": {"role": "assistant", "content": content, "refusal": None},
                        "logprobs": None, "finish_reason": finish_reason})
    prompt_tokens = sum(count_tokens(message_text(m)) for m in messages)
    completion_tokens = sum(count_tokens(c["message"]["content"]) for c in choices)
    return {
        "id": new_id("chatcmpl"),
        "object": "chat.completion",
        "created": int(time.time()),
        "model": model,
        "choices": choices,
        "usage": {"prompt_tokens": prompt_tokens, "completion_tokens": completion_tokens,
                  "total_tokens": prompt_tokens + completion_tokens},
    }


def _content(generator: Generator, body: dict[str, Any], style: str, rng: random.Random) -> str:
    """A generator's answer: a judge's as a JSON object when one is asked for, else in `style` when the
    judged question is the last message (a follow-up such as a repair prompt gets the asked lines)."""
    messages, judge = body["messages"], getattr(generator, "judge", None)
    if response_format_type(body) in JSON_FORMATS:
        if judge is None:
            return json.dumps({"text": generator.respond(messages, rng)})
        return json.dumps(dict(zip((generator.scale.field, "reason"), judge(messages))))
    if judge is not None and style == "varied" and generator.marker in last_user_text(messages):
        return vary(generator.scale, generator.label, *judge(messages), rng)
    return generator.respond(messages, rng)
