"""The library: everything the textbook generator quotes, verified once, and an index to find it by topic.

It holds the documentation (material.py) and, for the default topics (data/topics.json), the short
programs and wrong/right pairs written for them (data/textbook_examples.toml, data/pitfalls.toml),
each with what running it printed. A topic outside the defaults finds the documentation and the
default topic that share the most words with it. The library is built on first use, in well under a
second, and kept for the life of the process.
"""

from __future__ import annotations

import ast
import math
import re
import threading
import warnings
from collections import defaultdict
from dataclasses import dataclass, field
from functools import lru_cache

from .material import Example, Material, documentation
from .sandbox import run_script
from .tables import table

TOPIC_MATERIAL: dict[str, tuple[str, ...]] = {  # topic -> material keys (see Material.key)
    topic: tuple(keys) for topic, keys in table("topics.json")["material"].items()
}
TOPIC_ALIASES: dict[str, str] = table("topics.json")["aliases"]  # topic -> more words to find it by
TOPIC_EXAMPLES: dict[str, tuple[str, ...]] = {  # topic -> scripts; their output is computed by running them
    topic: tuple(scripts) for topic, scripts in table("textbook_examples.toml").items()
}
PITFALLS: dict[str, dict[str, str]] = table("pitfalls.toml")  # topic -> {wrong, right: scripts; lesson}


@dataclass(frozen=True)
class Pitfall:
    wrong: Example
    right: Example
    lesson: str


@dataclass(frozen=True)
class Library:
    """Everything the textbook generator quotes, verified once: documentation by material key, the examples
    and pitfalls of the default topics, and a keyword index over materials and default topics."""

    materials: dict[str, Material]
    topic_examples: dict[str, tuple[Example, ...]]
    pitfalls: dict[str, Pitfall]
    rejected: tuple[str, ...]  # written examples that failed to run: none, unless a Python version changes them
    silenced: dict[Example, Example]  # an example -> the same without print(), for the "first attempt" of a section
    postings: dict[str, list[tuple[str, float]]] = field(repr=False)  # stem -> (material key or topic, weight)

    def best_matches(self, topic: str) -> tuple[list[Material], str | None]:
        """The materials (at most 3) and the default topic that share the most words with `topic`; without such a
        topic, the first default topic that quotes one of those materials."""
        scores: dict[str, float] = defaultdict(float)
        for stem in set(stems(topic)):
            postings = self.postings.get(stem, ())
            idf = math.log((len(self.materials) + len(TOPIC_MATERIAL)) / (1 + len(postings)))
            for key, weight in postings:
                scores[key] += idf * weight
        ranked = sorted(scores, key=lambda k: (-scores[k], k))
        materials = [self.materials[k] for k in ranked if k in self.materials][:3]
        best_topic = next((k.removeprefix("topic:") for k in ranked if k.startswith("topic:")), None)
        if best_topic is None:
            best_topic = next((t for m in materials for t, keys in TOPIC_MATERIAL.items() if m.key in keys), None)
        return materials, best_topic


_STOP_WORDS = frozenset(
    "a an and are as at be by can do for from how in into is it its of on or the this that to use using what when "
    "with your you python programming program introduction basic basics advanced".split()
)


def stems(text: str) -> list[str]:
    """Crude stems of the words of `text` (plural, -ing and -ed endings and a final e removed), without stop words."""
    result = []
    for word in re.findall(r"[a-z][a-z0-9]*", text.lower().replace("_", " ")):
        if word in _STOP_WORDS:
            continue
        if word.endswith("ies") and len(word) > 4:
            word = word[:-3] + "y"
        elif re.search(r"(s|x|ch|sh)es$", word):
            word = word[:-2]
        elif word.endswith("s") and not word.endswith("ss") and len(word) > 3:
            word = word[:-1]
        for suffix in ("ing", "ed"):
            if word.endswith(suffix) and len(word) - len(suffix) >= 3:
                word = word[: -len(suffix)]
        result.append(word.removesuffix("e") if len(word) > 3 else word)
    return result


def _silence(example: Example) -> Example | None:
    """`example` with each one-line top-level `print(x)` turned into a bare `x`, as someone used to the `>>>`
    prompt might write it, and what that prints (often nothing); None if it has no such line."""
    lines = example.code.splitlines()
    for node in ast.parse(example.code).body:
        call = node.value if isinstance(node, ast.Expr) else None
        if (isinstance(call, ast.Call) and isinstance(call.func, ast.Name) and call.func.id == "print"
                and len(call.args) == 1 and not call.keywords and node.lineno == node.end_lineno):
            line = lines[node.lineno - 1]
            argument = ast.get_source_segment(example.code, call.args[0])
            lines[node.lineno - 1] = f"{line[: node.col_offset]}{argument}{line[node.end_col_offset:]}"
    code = "\n".join(lines)
    output = run_script(code) if code != example.code else None
    return Example(code, output) if output is not None else None


def _postings(materials: dict[str, Material]) -> dict[str, list[tuple[str, float]]]:
    """stem -> (key, weight): 3 for a word of a material's or default topic's name, 1 for one of its summary."""
    postings: dict[str, list[tuple[str, float]]] = defaultdict(list)
    documents = [(key, m.key, m.summary) for key, m in materials.items()]
    documents += [(f"topic:{topic}", f"{topic} {TOPIC_ALIASES.get(topic, '')}", "") for topic in TOPIC_MATERIAL]
    for key, name, summary in documents:
        name_stems = set(stems(name.removeprefix("ref:")))
        for stem in name_stems:
            postings[stem].append((key, 3.0))
        for stem in set(stems(summary)) - name_stems:
            postings[stem].append((key, 1.0))
    return dict(postings)


def _build_library() -> Library:
    with warnings.catch_warnings():  # deprecated names in typing and friends warn when read
        warnings.simplefilter("ignore")
        materials = documentation()
        rejected: list[str] = []
        topic_examples: dict[str, tuple[Example, ...]] = {}
        for topic, scripts in TOPIC_EXAMPLES.items():
            outputs = [(code, run_script(code)) for code in scripts]
            rejected += [code for code, output in outputs if not (output and output.strip())]
            topic_examples[topic] = tuple(Example(code, out) for code, out in outputs if out and out.strip())
        pitfalls: dict[str, Pitfall] = {}
        for topic, pitfall in PITFALLS.items():
            wrong, right, lesson = pitfall["wrong"], pitfall["right"], pitfall["lesson"]
            wrong_output, right_output = run_script(wrong), run_script(right)
            if wrong_output and right_output:
                pitfalls[topic] = Pitfall(Example(wrong, wrong_output), Example(right, right_output), lesson)
            else:
                rejected += [wrong, right]
        examples = [e for m in materials.values() for e in m.examples]
        examples += [e for written in topic_examples.values() for e in written]
        silenced = {e: quiet for e in examples if (quiet := _silence(e))}
    return Library(materials, topic_examples, pitfalls, tuple(rejected), silenced, _postings(materials))


_library_lock = threading.Lock()


@lru_cache(maxsize=1)
def _cached_library() -> Library:
    return _build_library()


def library() -> Library:
    """The verified material, built on first use (well under a second) and kept for the life of the process."""
    with _library_lock:  # concurrent first callers wait for one build
        return _cached_library()
