"""What exercise families share: the request a function name makes, the problem a family builds, the registry.

A function name such as `count_even_scores` is split into a verb (count), a modifier (even) and a noun
(scores), whose kind of data (NOUN_KINDS: numbers, words, text, matrix, intervals, records, points)
decides what the function takes. A family, registered with `@family(verbs, kinds, modifiers)`, builds a
Problem from such a Request: the task, the solution's body and the arguments of its examples. The
helpers below draw example data.
"""

from __future__ import annotations

import builtins
import keyword
import random
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ..tables import table

_WORDING = table("exercise_words.json")
WORDS: tuple[str, ...] = tuple(_WORDING["words"])  # the words of word-list examples
NOUN_KINDS: dict[str, str] = _WORDING["noun_kinds"]  # kind -> its nouns; any other noun holds "numbers"
KIND_OF_NOUN = {noun: kind for kind, nouns in NOUN_KINDS.items() for noun in nouns.split()}
GENERIC_PARAMETER: dict[str, str] = _WORDING["generic_parameters"]  # kind -> parameter name when the noun won't do
GENERIC_LABEL: dict[str, str] = _WORDING["generic_labels"]  # kind -> what the docstring then calls the argument
PREDICATES: dict[str, tuple[str, str]] = {  # modifier -> (condition on `value`, words for the docstring)
    modifier: tuple(predicate) for modifier, predicate in _WORDING["predicates"].items()
}


@dataclass(frozen=True)
class Request:
    """A requested function: its name, split into verb, modifier and noun, and its domain."""

    name: str
    verb: str
    modifier: str
    noun: str
    kind: str  # the data the noun suggests (NOUN_KINDS)
    domain: str

    @property
    def subject(self) -> str:
        """The noun as the thing one argument holds: a text noun in the singular ("sentences" -> "sentence")."""
        if self.kind == "text" and self.noun.endswith("s") and self.noun not in ("brackets", "characters", "letters"):
            return self.noun[:-1]
        return self.noun

    def parameter(self, kind: str) -> str:
        """The main parameter's name: the noun when it fits `kind` and is a plain identifier, else a generic name."""
        fits = self.kind == kind or (kind == "nested" and self.kind == "numbers")
        subject = self.subject
        usable = subject.isidentifier() and not keyword.iskeyword(subject) and not hasattr(builtins, subject)
        return subject if fits and usable else GENERIC_PARAMETER[kind]

    def label(self, kind: str) -> str:
        """What the docstring calls the main argument."""
        return self.subject.replace("_", " ") if self.kind == kind else GENERIC_LABEL[kind]


@dataclass(frozen=True)
class Problem:
    """An exercise before it is written out. `task` follows "In a <domain> app, "; `body` is the solution's
    statements (unindented); `calls` are the arguments of the doctest examples."""

    params: str
    returns: str
    task: str
    body: str
    calls: tuple[tuple[Any, ...], ...]
    imports: tuple[str, ...] = ()


@dataclass(frozen=True)
class Family:
    """A parameterised problem family and the name parts it suits."""

    name: str
    build: Callable[[Request, random.Random], Problem]
    verbs: frozenset[str]
    modifiers: frozenset[str]
    kinds: frozenset[str]


FAMILIES: dict[str, Family] = {}  # in registration order, from which choose_family draws: it decides the answers


def family(verbs: str, kinds: str, modifiers: str = "") -> Callable:
    """Register a problem family for the verbs, data kinds and modifiers given as space-separated words."""

    def register(build: Callable[[Request, random.Random], Problem]) -> Callable[[Request, random.Random], Problem]:
        FAMILIES[build.__name__] = Family(build.__name__, build, frozenset(verbs.split()),
                                          frozenset(modifiers.split()), frozenset(kinds.split()))
        return build

    return register


def random_numbers(rng: random.Random, low: int = 0, high: int = 50, size: int | None = None) -> list[int]:
    return [rng.randint(low, high) for _ in range(size if size is not None else rng.randint(4, 7))]


def random_words(rng: random.Random, size: int | None = None) -> list[str]:
    return rng.sample(WORDS, size if size is not None else rng.randint(3, 5))


def twice(make: Callable[[], Any], *extra: Any) -> tuple[tuple[Any, ...], ...]:
    """Arguments for two examples: each a fresh `make()`, then the `extra` arguments."""
    return (make(), *extra), (make(), *extra)


def list_kind(r: Request) -> tuple[str, str]:
    """(kind, element type) for a family that works on words and numbers alike: words if the noun names words."""
    return ("words", "str") if r.kind == "words" else ("numbers", "int")


def random_items(rng: random.Random, kind: str, size: int) -> list[Any]:
    return random_words(rng, size) if kind == "words" else random_numbers(rng, size=size)


def repeating(rng: random.Random, kind: str) -> list[Any]:
    """Words or small numbers, drawn with repeats."""
    return rng.choices(random_words(rng, 4), k=6) if kind == "words" else random_numbers(rng, 0, 6, 7)


def chosen_predicate(r: Request, rng: random.Random) -> tuple[str, str]:
    """The predicate the modifier names, else one drawn at random."""
    return PREDICATES.get(r.modifier) or PREDICATES[rng.choice(sorted(PREDICATES))]

