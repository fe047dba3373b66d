"""A score and a one-sentence reason, read from a teacher's answer however the model wrote it.

Real teachers rarely answer in exactly the asked lines: GPT-4 writes `**Score:** 4/5`, Llama-3
`Educational value: 4/5. The code ...`, Qwen a JSON object in a fence, others a score in prose
("I would rate this a 3"), a Python dict or a bare number on the first line. `parse_score` reads all
of these: a JSON object (else a Python dict literal, read with ast.literal_eval) anywhere in the
answer, else labelled or prose scores in the text with markdown emphasis, headings and bullets
removed (a full-width colon read as a colon), or a number alone on the first line; the reason from a
`reason:` label (same line or the next), a JSON field, or the text beside the score. Only the final
answer is read: a reasoning model's thinking (a `<think>...</think>` block, or the text before a lone
`</think>` when the chat template opened the block) is dropped, and an answer that is still thinking
(an unclosed `<think>`) is refused. It never guesses: two different scores, a score on another scale
(8/10 on a 0-5 scale), a fraction or a value out of range are refused with the reason why (ERRORS).
"""

from __future__ import annotations

import ast
import json
import re
from dataclasses import dataclass
from typing import Any

ERRORS = ("empty", "no_score", "ambiguous_score", "wrong_scale", "score_not_integer", "score_out_of_range",
          "unfinished_thinking")
REASON_KEYS = ("reason", "reasoning", "rationale", "justification", "explanation")
SCALES_SEEN = frozenset({5, 10, 100})  # denominators read as a scale; 3/4 is a share, not a score

_NUMBER = r"(?P<value>-?\d+(?:\.\d+)?)"
_OF_SCALE = r"(?:\s*(?:/|out\s+of)\s*(?P<den>\d+))"
_FRACTION = re.compile(rf"{_NUMBER}{_OF_SCALE}", re.IGNORECASE)
_PROSE = re.compile(  # "I would rate this snippet a 3", "I'd give it a score of 4", "grading it 7"
    r"\b(?:rat(?:e|ing)|giv(?:e|ing)|assign(?:ing)?|award(?:ing)?|grad(?:e|ing))\b(?:\s+(?:it|this|that|the|its|"
    r"snippet|code|solution|function|student'?s|educational|value|an?|score|grade|rating|of|as)\b){0,6}\s+"
    + _NUMBER + r"\b(?!\s*%)" + _OF_SCALE + "?",
    re.IGNORECASE,
)
_REASON = re.compile(rf"\b(?:{'|'.join(REASON_KEYS)})\b\s*(?:[:=]|-(?=\s))\s*(?P<text>.*)", re.IGNORECASE)
_EMPHASIS = re.compile(r"\*\*|__|`|(?<!\w)\*(?=\S)|(?<=\S)\*(?!\w)")
_LINE_MARKUP = re.compile(r"^[ \t]*(?:#+|[-+>]|\*(?=\s))[ \t]*", re.MULTILINE)
_LEADING_PUNCTUATION = re.compile(r"^[\s.,;:()\-\u2013\u2014]+")
_BARE = re.compile(rf"\s*{_NUMBER}\s*")  # a line that is only a number
_THINK_BLOCK = re.compile(r"<(think(?:ing)?)>.*?</\1>", re.IGNORECASE | re.DOTALL)
_THINK_OPEN = re.compile(r"<think(?:ing)?>", re.IGNORECASE)
_THINK_CLOSE = re.compile(r"</think(?:ing)?>", re.IGNORECASE)
_BRACE_TOKENS = re.compile(r"""'(?:\\.|[^'\\\n])*'|"(?:\\.|[^"\\\n])*"|[{}]""")  # quoted strings, braces


@dataclass(frozen=True)
class Scale:
    """What is asked: a `field` (score, grade) from 0 to `top`, also read under the `labels` given."""

    field: str
    top: int
    labels: tuple[str, ...]

    def schema(self) -> dict:
        """The JSON schema of the answer, in the subset OpenAI's strict mode, vLLM, llama.cpp and Ollama accept."""
        return {"type": "object", "additionalProperties": False, "required": [self.field, "reason"],
                "properties": {self.field: {"type": "integer", "enum": list(range(self.top + 1))},
                               "reason": {"type": "string"}}}

    def _labelled(self) -> re.Pattern:
        labels = "|".join(re.escape(label).replace(r"\ ", r"\s+") for label in self.labels)
        return re.compile(
            rf"\b(?:{labels})\b(?:\s+(?:for|of)\s+(?:this|the|its)\b[^:\d\n]{{0,40}}?)?"  # "The score for this code is 3"
            rf"\s*(?:\(\s*0\s*(?:-|to)\s*{self.top}\s*\))?\s*(?:[:=]|-(?!\d)|\bis\b|\bof\b)?\s*"
            rf"(?:an?\s+)?{_NUMBER}\b{_OF_SCALE}?(?P<alt>\s*(?:-|\u2013|\bor\b|\bto\b)\s*\d)?",
            re.IGNORECASE,
        )


EDUCATIONAL_VALUE = Scale("score", 5, ("score", "rating", "educational value"))  # the annotation's
SOLUTION_GRADE = Scale("grade", 10, ("grade", "score", "rating"))  # Table 2's grader's


@dataclass(frozen=True)
class Parsed:
    score: int | None
    reason: str | None
    error: str | None  # one of ERRORS, or None when a score was read


def parse_score(text: str, scale: Scale) -> Parsed:
    """The score and reason of an answer (see the module docstring), or the reason it cannot be read."""
    text = _final_answer(text or "")
    if text is None:
        return Parsed(None, None, "unfinished_thinking")
    if not text.strip():
        return Parsed(None, None, "empty")
    found, reason, rest = _from_json(text, scale)
    lines = _join_headings(_plain(rest).splitlines(), (*scale.labels, *REASON_KEYS))
    score_line = None
    bare = [(i, m) for i, line in enumerate(lines) if (m := _BARE.fullmatch(line))]
    first = next((i for i, line in enumerate(lines) if line.strip()), None)
    if bare and bare[0][0] == first:  # "4\nThe code ...": a number alone on the first line, and any others too
        found += [(m["value"], None) for _, m in bare]
        score_line = (first, len(lines[first]))
    labelled = scale._labelled()
    for i, line in enumerate(lines):
        for pattern in (labelled, _FRACTION, _PROSE):
            for m in pattern.finditer(line):
                if m.groupdict().get("alt"):
                    return Parsed(None, None, "ambiguous_score")
                if pattern is _FRACTION and int(m["den"]) not in SCALES_SEEN:
                    continue
                found.append((m["value"], m["den"]))
                if score_line is None:
                    score_line = (i, m.end())
    if not found:
        return Parsed(None, None, "no_score")
    if any(den is not None and int(den) != scale.top for _, den in found):
        return Parsed(None, None, "wrong_scale")
    values = {float(value) for value, _ in found}
    if len(values) > 1:
        return Parsed(None, None, "ambiguous_score")
    value = values.pop()
    if not value.is_integer():
        return Parsed(None, None, "score_not_integer")
    if not 0 <= value <= scale.top:
        return Parsed(None, None, "score_out_of_range")
    return Parsed(int(value), reason or _reason(lines, score_line), None)


def _final_answer(text: str) -> str | None:
    """`text` without the model's thinking; None when it is all unfinished thinking (an unclosed <think>)."""
    text = _THINK_BLOCK.sub("\n", text)
    if closes := list(_THINK_CLOSE.finditer(text)):  # the chat template opened the block: only its end is here
        text = text[closes[-1].end():]
    if opened := _THINK_OPEN.search(text):
        text = text[: opened.start()]
        return text if text.strip() else None
    return text


def _from_json(text: str, scale: Scale) -> tuple[list[tuple[str, str | None]], str | None, str]:
    """Scores (value, scale) and the reason from the JSON objects (or Python dicts) in `text`, and the text
    without them."""
    found, reason, rest, decoder, at = [], None, text, json.JSONDecoder(), 0
    keys = {_key(label) for label in (scale.field, *scale.labels)}
    while (start := text.find("{", at)) >= 0:
        obj, end = _object_at(decoder, text, start)
        if end is None:
            at = start + 1
            continue
        at = end
        for fields in _objects(obj):
            for key, value in fields.items():
                if _key(str(key)) in keys and (score := _json_value(value)):
                    found.append(score)
                elif _key(str(key)) in REASON_KEYS and isinstance(value, str) and value.strip():
                    reason = reason or value.strip()
        rest = rest.replace(text[start:end], "\n")
    return found, reason, rest


def _object_at(decoder: json.JSONDecoder, text: str, start: int) -> tuple[Any, int | None]:
    """The JSON value, else the Python literal (ast.literal_eval, never eval), opening with the brace at
    text[start], and where it ends; (None, None) when there is neither."""
    try:
        return decoder.raw_decode(text, start)
    except ValueError:
        pass
    depth = 0
    for token in _BRACE_TOKENS.finditer(text, start):
        depth += {"{": 1, "}": -1}.get(token[0], 0)
        if depth == 0:
            try:
                return ast.literal_eval(text[start: token.end()]), token.end()
            except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
                break
    return None, None


def _objects(obj) -> list[dict]:
    """A decoded JSON value's objects, nested ones included."""
    if isinstance(obj, dict):
        return [obj, *(o for v in obj.values() for o in _objects(v))]
    if isinstance(obj, list):
        return [o for v in obj for o in _objects(v)]
    return []


def _key(name: str) -> str:
    return re.sub(r"[\s_-]+", "_", name.strip().lower())


def _json_value(value) -> tuple[str, str | None] | None:
    """(value, scale) of a JSON score: a number, or a string such as "4" or "4/5"; None for anything else."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return str(value), None
    m = _FRACTION.fullmatch(str(value).strip()) or re.fullmatch(_NUMBER, str(value).strip())
    return (m["value"], m.groupdict().get("den")) if m else None


def _plain(text: str) -> str:
    """`text` without markdown emphasis, code spans, heading marks, bullets and quote marks, and with
    full-width colons (Score：4) as colons."""
    return _LINE_MARKUP.sub("", _EMPHASIS.sub("", text)).replace("\uff1a", ":")


def _join_headings(lines: list[str], labels: tuple[str, ...]) -> list[str]:
    """Lines with a label alone on its line (a heading such as '### Score') joined to the next text line."""
    out: list[str] = []
    for line in lines:
        if out and out[-1].endswith(":") and out[-1][:-1].strip().lower() in labels:
            out[-1] += " " + line if line.strip() else ""
        else:
            out.append(line.rstrip() + (":" if line.strip().lower() in labels else ""))
    return out


def _reason(lines: list[str], score_line: tuple[int, int] | None) -> str | None:
    """A labelled reason (on its line or the next), else the text after the score on its line, else the
    line after it; only a labelled one for a score read from a JSON object (score_line None)."""
    for i, line in enumerate(lines):
        if m := _REASON.search(line):
            text = m["text"].strip() or next((n.strip() for n in lines[i + 1:] if n.strip()), "")
            return text or None
    if score_line is None:
        return None
    i, end = score_line
    after = _LEADING_PUNCTUATION.sub("", lines[i][end:]).strip()
    return after or next((n.strip() for n in lines[i + 1:] if n.strip()), None)
