"""Seeded prompts for the synthetic datasets: each request constrained by a topic, an audience and
a style (textbooks) or by a function name and a domain (CodeExercises), as phi-1 describes.

Every prompt has a global index. Part p of P owns the indices p, p + P, p + 2P, ... so parts run
in parallel, never overlap and can grow until their token target is met, and a part always
renders the same prompts in the same order (its cache keys are stable, so a rerun resumes).

Textbook index i takes combination perm[i mod N] of topic x audience x style (N of them, perm a
seeded permutation): no two prompts repeat until all N are used; past that a round number
(i div N) goes into the request's seed. Exercise index i takes the i-th name of NameLedger, a
seeded permutation of verb x (modifier or none) x noun, so no name is ever given twice; its
domain is drawn from (seed, i).
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from functools import cached_property

import numpy as np

TEXTBOOK_TEMPLATE_VERSION = "textbook-v1"
TEXTBOOK_MARKER = "Write one section of a textbook that teaches Python programming."
TEXTBOOK_PROMPT = TEXTBOOK_MARKER + """
Topic: {topic}
Audience: {audience}
Style: {style}

Explain the topic clearly for this audience, in this style. Include short, runnable Python \
examples in ```python code blocks, and show what each example prints. Use Markdown headings. \
Do not mention these instructions."""

EXERCISE_TEMPLATE_VERSION = "exercise-v1"
EXERCISE_MARKER = "Write a Python exercise: one function whose docstring states a task, then its solution."
EXERCISE_PROMPT = EXERCISE_MARKER + """
Function name: {name}
Domain: {domain}

Requirements:
- Define exactly one top-level function named `{name}`, with type hints.
- Its docstring states the task and gives at least two examples in doctest format \
(`>>>` lines followed by the expected output).
- The function body solves the task, using only the Python standard library.
Answer with a single ```python code block and nothing else."""

_FIELD = re.compile(r"^(Topic|Audience|Style|Function name|Domain): (.+)$", re.MULTILINE)


def prompt_fields(prompt: str) -> dict[str, str]:
    """The constraint lines of a rendered prompt: {"Topic": ..., "Audience": ...} or {"Function name": ..., "Domain": ...}."""
    return dict(_FIELD.findall(prompt))


def part_indices(part: int, parts: int, start: int, stop: int) -> range:
    """The global indices of positions start..stop-1 of `part` (of `parts`): part + position * parts."""
    if not 0 <= part < parts:
        raise ValueError(f"part {part} is not in 0..{parts - 1}")
    return range(part + start * parts, part + stop * parts, parts)


@dataclass(frozen=True)
class TextbookPrompt:
    index: int
    topic: str
    audience: str
    style: str
    round: int  # 0 until every combination has been used once; then 1, 2, ...

    @property
    def text(self) -> str:
        return TEXTBOOK_PROMPT.format(topic=self.topic, audience=self.audience, style=self.style)


@dataclass(frozen=True)
class TextbookPrompts:
    topics: tuple[str, ...]
    audiences: tuple[str, ...]
    styles: tuple[str, ...]
    seed: int

    def __post_init__(self) -> None:
        for name in ("topics", "audiences", "styles"):
            values = getattr(self, name)
            if not values or len(set(values)) != len(values):
                raise ValueError(f"textbook {name} must be a non-empty list without repeats")

    @cached_property
    def _order(self) -> np.ndarray:
        return np.random.default_rng([self.seed, 0x7EB]).permutation(self.combinations)

    @property
    def combinations(self) -> int:
        return len(self.topics) * len(self.audiences) * len(self.styles)

    def __getitem__(self, index: int) -> TextbookPrompt:
        round_, position = divmod(index, self.combinations)
        combo = int(self._order[position])
        combo, s = divmod(combo, len(self.styles))
        t, a = divmod(combo, len(self.audiences))
        return TextbookPrompt(index, self.topics[t], self.audiences[a], self.styles[s], round_)


@dataclass(frozen=True)
class ExercisePrompt:
    index: int
    name: str
    domain: str

    @property
    def text(self) -> str:
        return EXERCISE_PROMPT.format(name=self.name, domain=self.domain)


@dataclass(frozen=True)
class NameLedger:
    """Unique function names: index i -> a name verb_[modifiers_]noun, never the same twice.

    Names come in tiers, each in a seeded random order: first verb_noun and verb_modifier_noun,
    then (max_modifiers=2) verb_modifier_modifier_noun with two distinct modifiers, so a small
    dataset gets the shorter names. An index beyond the name space is an error, never a repeat.
    """

    verbs: tuple[str, ...]
    modifiers: tuple[str, ...]
    nouns: tuple[str, ...]
    seed: int
    max_modifiers: int = 1

    def __post_init__(self) -> None:
        for name in ("verbs", "modifiers", "nouns"):
            values = getattr(self, name)
            if len(set(values)) != len(values) or not all(re.fullmatch(r"[a-z][a-z0-9]*", v) for v in values):
                raise ValueError(f"exercise {name} must be distinct lowercase words (letters and digits)")
        if not self.verbs or not self.nouns:
            raise ValueError("exercise verbs and nouns must not be empty")
        if self.max_modifiers not in (0, 1, 2):
            raise ValueError("max_modifiers must be 0, 1 or 2")

    @cached_property
    def _tiers(self) -> list[list[tuple[str, ...]]]:
        """The modifier sequences of each tier: [(), (m,)...] then [(m1, m2)...] with m1 != m2."""
        short = [()] + [(m,) for m in self.modifiers] * (self.max_modifiers >= 1)
        pairs = [(a, b) for a in self.modifiers for b in self.modifiers if a != b] * (self.max_modifiers >= 2)
        return [short, pairs] if pairs else [short]

    @property
    def size(self) -> int:
        return sum(self._tier_size(t) for t in self._tiers)

    def _tier_size(self, tier: list) -> int:
        return len(self.verbs) * len(tier) * len(self.nouns)

    @functools.cache
    def _order(self, tier: int) -> np.ndarray:
        return np.random.default_rng([self.seed, 0x11A, tier]).permutation(self._tier_size(self._tiers[tier]))

    def __getitem__(self, index: int) -> str:
        if not 0 <= index < self.size:
            raise IndexError(f"name {index} is beyond the {self.size:,} names of the vocabulary")
        offset = index
        for tier, modifiers in enumerate(self._tiers):
            if offset < self._tier_size(modifiers):
                break
            offset -= self._tier_size(modifiers)
        combo, n = divmod(int(self._order(tier)[offset]), len(self.nouns))
        v, m = divmod(combo, len(modifiers))
        return "_".join([self.verbs[v], *modifiers[m], self.nouns[n]])


@dataclass(frozen=True)
class ExercisePrompts:
    names: NameLedger
    domains: tuple[str, ...]
    seed: int

    def __getitem__(self, index: int) -> ExercisePrompt:
        rng = np.random.default_rng([self.seed, 0xD0, index])
        return ExercisePrompt(index, self.names[index], self.domains[int(rng.integers(len(self.domains)))])
