"""Planning a textbook section and writing its parts in the voice of its audience.

plan_section picks what a section says: the documentation it quotes (a default topic's material,
else the documentation and default topic that share the most words with the prompt's topic), two to
five examples that mix documentation examples with written ones, and a pitfall to contrast. A
SectionWriter then writes the parts (introduction, quotes, examples with their output, practice,
summary) with templates of the audience's Voice (data/voices.json), varied by `rng`.
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass
from functools import lru_cache

from .library import TOPIC_MATERIAL, Pitfall, library
from .material import Example, Material, first_sentences
from .tables import table


@dataclass(frozen=True)
class Voice:
    """How a section talks to one class of audience: templates with {topic}, {Topic}, {audience}, {source}."""

    intros: tuple[str, ...]
    motivations: tuple[str, ...]
    doc_leads: tuple[str, ...]
    doc_follow_ups: tuple[str, ...]
    example_leads: tuple[str, ...]
    output_notes: tuple[str, ...]
    closings: tuple[str, ...]
    quoted_sentences: int  # how much of a documentation paragraph to quote
    show_signatures: bool


VOICES: dict[str, Voice] = {  # audience class -> voice
    name: Voice(**{key: tuple(value) if isinstance(value, list) else value for key, value in fields.items()})
    for name, fields in table("voices.json").items()
}
AUDIENCE_CLASSES: tuple[tuple[str, str], ...] = tuple(map(tuple, table("sections.json")["audience_classes"]))
"""(voice, pattern): the first whose pattern matches the audience wins, else "beginner"."""
ORIGIN_NOTES: tuple[str, ...] = tuple(table("sections.json")["origin_notes"])  # under a documentation example
PRACTICE: tuple[str, ...] = tuple(table("sections.json")["practice"])  # exercises on the examples, by ordinal
SUMMARY_POINTS: tuple[str, ...] = tuple(table("sections.json")["summary_points"])
ORDINALS = ("first", "second", "third", "fourth", "fifth")
# the lesson of a pitfall made from an example by taking its print() away (Library.silenced)
ECHO_LESSON = ("A script does not show the value of an expression the way the interactive `>>>` prompt does: "
               "the first version computes its results and throws them away. Pass each result you want to see "
               "to `print()`.")
FALLBACK_TOPICS = ("lists", "for loops and range", "strings and string methods", "dictionaries")
"""Where a section draws its examples when nothing in the index matches its topic."""


def classify(text: str, classes: tuple[tuple[str, str], ...], default: str) -> str:
    return next((name for name, pattern in classes if re.search(pattern, text, re.IGNORECASE)), default)


def _known_topic(topic: str) -> str | None:
    wanted = topic.strip().lower()
    return next((t for t in TOPIC_MATERIAL if t.lower() == wanted), None)


@lru_cache(maxsize=4096)
def _matches(topic: str) -> tuple[tuple[Material, ...], str | None]:
    materials, best_topic = library().best_matches(topic)
    return tuple(materials), best_topic


@dataclass(frozen=True)
class SectionPlan:
    """What a section will say: the documentation it quotes, the examples it shows, the pitfall it contrasts."""

    topic: str
    audience: str
    voice: Voice
    materials: tuple[Material, ...]
    examples: tuple[Example, ...]
    pitfall: Pitfall | None


def plan_section(topic: str, audience: str, rng: random.Random) -> SectionPlan:
    """Choose material for `topic`: the default topic's table entry, else the default topic and documentation
    that share the most words with it (FALLBACK_TOPICS when no topic does); then 2 to 5 examples, mixing
    documentation examples with written ones, and a pitfall for the compare layout."""
    lib = library()
    known = _known_topic(topic)
    if known:
        materials, example_topic = [lib.materials[k] for k in TOPIC_MATERIAL[known] if k in lib.materials], known
    else:
        matched, example_topic = _matches(topic.strip().lower())
        fallback = example_topic is None
        example_topic = rng.choice(FALLBACK_TOPICS) if fallback else example_topic
        related = [lib.materials[k] for k in TOPIC_MATERIAL[example_topic] if k in lib.materials]
        materials = list(dict.fromkeys([*matched, *related] if fallback else [*related, *matched]))
    explained = (materials[:1] + rng.sample(materials[1:], min(len(materials) - 1, rng.randint(1, 2)))
                 if materials else [])
    documented = list(dict.fromkeys(e for m in materials for e in m.examples))
    written = list(lib.topic_examples.get(example_topic, ()))
    wanted = rng.choice((2, 3, 3, 4, 4, 5))
    chosen = [rng.choice(documented)] if documented and (not written or rng.random() < 0.7) else []
    others = [e for e in written + documented if e not in chosen]
    rng.shuffle(others)
    chosen += others[: wanted - len(chosen)]
    if len(chosen) < 2:
        extra = [e for e in lib.topic_examples[rng.choice(FALLBACK_TOPICS)] if e not in chosen]
        chosen += rng.sample(extra, 2 - len(chosen))
    pitfall = lib.pitfalls.get(example_topic)
    if pitfall is None:
        pitfall = next((Pitfall(lib.silenced[e], e, ECHO_LESSON) for e in chosen if e in lib.silenced), None)
    voice = VOICES[classify(audience, AUDIENCE_CLASSES, "beginner")]
    return SectionPlan(topic.strip(), audience.strip(), voice, tuple(explained), tuple(chosen), pitfall)


class SectionWriter:
    """Writes one Markdown section from a plan, in the layout that the style asks for."""

    def __init__(self, plan: SectionPlan, rng: random.Random):
        self.plan, self.rng, self.voice = plan, rng, plan.voice
        self.parts: list[str] = []
        self.used: set[str] = set()
        topic = plan.topic
        self.words = {"topic": topic, "Topic": topic[:1].upper() + topic[1:], "audience": plan.audience}

    def say(self, templates: tuple[str, ...], **extra: str) -> str:
        """One of `templates`, filled in; one not used yet in this section while there is one."""
        fresh = [t for t in templates if t not in self.used] or list(templates)
        template = self.rng.choice(fresh)
        self.used.add(template)
        return template.format(**self.words, **extra)

    def add(self, *parts: str) -> None:
        self.parts.extend(p for p in parts if p)

    def heading(self, level: int, text: str) -> None:
        self.add("#" * level + " " + text)

    def intro(self) -> None:
        text = f"{self.say(self.voice.intros)} {self.say(self.voice.motivations)}"
        language = re.search(r"coming from ([\w+#.-]+)", self.plan.audience, re.IGNORECASE)
        if language:
            name = language.group(1).rstrip(".")
            text += (f" If you know {name}, read each example twice: once to see what it does, and once to spot "
                     f"where Python's rules differ from {name}'s.")
        self.add(text)

    def explain(self, material: Material, follow_up: bool = True) -> None:
        quote = first_sentences(material.summary, self.voice.quoted_sentences)
        self.add(self.say(self.voice.doc_leads, source=material.source), f"> {quote}")
        if material.signature and self.voice.show_signatures:
            self.add(f"Its signature is `{material.signature}`.")
        if follow_up and self.rng.random() < 0.6:
            self.add(self.say(self.voice.doc_follow_ups))

    def show(self, example: Example, lead: str | None = None, note: bool = True) -> None:
        self.add(lead if lead is not None else self.say(self.voice.example_leads),
                 f"```python\n{example.code}\n```")
        if example.output:
            self.add("Output:", f"```text\n{example.output.rstrip(chr(10))}\n```")
        else:
            self.add("Running it prints nothing at all.")
        if example.origin:
            self.add(self.say(ORIGIN_NOTES, source=example.origin))
        if note and self.rng.random() < 0.5:
            self.add(self.say(self.voice.output_notes))

    def practice(self) -> None:
        """Two exercises on the examples shown, by their position ("the second example")."""
        count = len(self.plan.examples)
        tasks = self.rng.sample(PRACTICE, 2)
        first, second = self.rng.sample(range(count), 2)
        self.add("\n".join(f"{n}. " + t.format(one=ORDINALS[first], other=ORDINALS[second])
                           for n, t in enumerate(tasks, 1)))

    def summary_points(self) -> None:
        points = [f"- {m.name}: {first_sentences(m.summary, 1)}" for m in self.plan.materials]
        points.append(f"- {self.rng.choice(SUMMARY_POINTS)}")
        self.add("\n".join(points), self.say(self.voice.closings))

    def text(self) -> str:
        return "\n\n".join(self.parts) + "\n"

