"""The offline teacher's `varied` answer style: a score and reason worded as real instruct models word them.

Each answer draws one of STYLES (the shapes GPT-4, GPT-3.5, Llama-3 and Qwen answers commonly take), and
with UNREADABLE_RATE one of UNREADABLE (two scores, or none), so the demo exercises the tolerant parser,
its refusals and the repair step. Placeholders: {field} (score, grade), {label} (how the answer names
it), {score}, {top}, {other} (another score) and {reason} ({reason_json}: escaped for a JSON string).
"""

from __future__ import annotations

import json
import random

from phi1repro.teacher.scores import Scale

UNREADABLE_RATE = 0.05
STYLES = (
    "**{Field}:** {score}/{top}\n**Reason:** {reason}.",  # GPT-4
    "{Field}: {score}\nReason: {reason}.",
    "**{label}: {score}/{top}**\n\n{reason}.",
    "{Field}: {score}.\nReason: {reason}.",  # GPT-3.5
    "{label}: {score} out of {top}. {reason}.",
    "Here is my evaluation:\n\n**{label}:** {score}/{top}\n\n**Reason:** {reason}.",  # Llama-3
    "I would rate this {score} out of {top}. {reason}.",
    '```json\n{{"{field}": {score}, "reason": "{reason_json}"}}\n```',  # Qwen
    "### Evaluation\n- **{Field}**: {score}\n- **Reason**: {reason}",
)
UNREADABLE = (
    "{label}: {score} or {other}. {reason}.",
    "{Reason}.",
)


def vary(scale: Scale, label: str, score: int, reason: str, rng: random.Random) -> str:
    """`score` and `reason` in a style drawn with `rng`."""
    styles = UNREADABLE if rng.random() < UNREADABLE_RATE else STYLES
    return rng.choice(styles).format(field=scale.field, Field=scale.field.capitalize(), label=label, score=score,
                                     top=scale.top, other=(score + 1) % (scale.top + 1), reason=reason,
                                     reason_json=json.dumps(reason)[1:-1],
                                     Reason=reason[:1].upper() + reason[1:])
