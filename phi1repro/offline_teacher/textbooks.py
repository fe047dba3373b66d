"""Textbook sections: the answer to a textbook prompt, in the layout its style asks for.

TextbookGenerator answers textbook prompts (synth/prompts.py: TEXTBOOK_MARKER) with a Markdown section
for the requested topic, audience and style. This is NOT a language model and writes nothing new in
the way GPT-3.5 did for phi-1: its explanations quote real documentation (material.py), and its code
examples are documentation examples and programs written for the default topics, each shown with
what running it printed (library.py). A layout per style (STYLE_CLASSES) arranges the parts that
sections.py writes: an explanation, a lecture, steps, a story, questions and answers, or a wrong and
a right approach. Wording, layout details and the choice of examples vary with `rng`.
"""

from __future__ import annotations

import random
from collections.abc import Callable

from phi1repro.synth.prompts import TEXTBOOK_MARKER, prompt_fields

from .messages import Messages, last_user_text
from .sections import SectionWriter, classify, plan_section
from .tables import table

STYLE_CLASSES: tuple[tuple[str, str], ...] = tuple(map(tuple, table("sections.json")["style_classes"]))
"""(layout, pattern): the first whose pattern matches the style wins, else "explanation"."""
CHARACTERS: tuple[str, ...] = tuple(table("sections.json")["characters"])  # of the story layout
PROJECTS: tuple[str, ...] = tuple(table("sections.json")["projects"])  # what the story's characters build


def _explanation_layout(w: SectionWriter) -> None:
    w.heading(1, w.words["Topic"])
    w.intro()
    w.heading(2, w.rng.choice(("The idea", "What it is", "Background")))
    for material in w.plan.materials:
        w.explain(material)
    w.heading(2, w.rng.choice(("Worked examples", "Examples", "Seeing it in action")))
    for number, example in enumerate(w.plan.examples, 1):
        w.heading(3, f"Example {number}")
        w.show(example)
    w.heading(2, "Try it yourself")
    w.practice()
    w.heading(2, "Summary")
    w.summary_points()


def _lecture_layout(w: SectionWriter) -> None:
    w.heading(1, f"Lecture: {w.words['topic']}")
    w.intro()
    w.heading(2, "Key ideas")
    examples = list(w.plan.examples)
    for material in w.plan.materials:
        w.explain(material, follow_up=False)
        if examples:
            w.show(examples.pop(0))
    if examples:
        w.heading(2, "More examples")
        for example in examples:
            w.show(example)
    w.heading(2, "Exercises")
    w.practice()
    w.heading(2, "Summary")
    w.summary_points()


def _steps_layout(w: SectionWriter) -> None:
    w.heading(1, f"{w.words['Topic']}: a step-by-step tutorial")
    w.intro()
    step = 1
    for material in w.plan.materials[:1]:
        w.heading(2, f"Step {step}: Read what the documentation says")
        w.explain(material)
        step += 1
    for number, example in enumerate(w.plan.examples):
        title = "Run a first example" if number == 0 else w.rng.choice(
            ("Try another example", "Go one step further", "Look at a variation"))
        w.heading(2, f"Step {step}: {title}")
        w.show(example, lead=w.rng.choice(("Type in the following program and run it.",
                                            "Run this code, then read the output carefully.",
                                            "Next, run this program.")))
        step += 1
    w.heading(2, f"Step {step}: Practise")
    w.practice()
    w.heading(2, f"Step {step + 1}: Check what you learned")
    w.summary_points()


def _story_layout(w: SectionWriter) -> None:
    first, second = w.rng.sample(CHARACTERS, 2)
    project = w.rng.choice(PROJECTS)
    w.heading(1, w.words["Topic"])
    w.intro()
    w.heading(2, "The problem")
    w.add(f"{first} and {second} were building {project}. To finish it, {first} had to use {w.words['topic']}, "
          f"but was not sure how to do that in Python. \"Let's find out properly,\" said {second}.")
    if w.plan.materials:
        w.add(f"{second} opened the Python documentation first.")
        w.explain(w.plan.materials[0], follow_up=False)
        w.add(f"\"That sounds right,\" said {first}, \"but I want to see it work.\"")
    w.heading(2, "Trying it out")
    for number, example in enumerate(w.plan.examples):
        typist = (first, second)[number % 2]
        w.show(example, lead=w.rng.choice((f"{typist} typed:", f"{typist} tried this:",
                                            f"Then {typist} wrote a small test:")), note=False)
        w.add(w.rng.choice((f"{(second, first)[number % 2]} pointed at the output: \"See? It does exactly what "
                            "the code says.\"", f"\"Now I get it,\" said {typist}.",
                            f"They changed a value, ran it again, and {typist} smiled.")))
    w.heading(2, f"What {first} and {second} learned")
    w.summary_points()


def _qa_layout(w: SectionWriter) -> None:
    w.heading(1, f"{w.words['Topic']}: questions and answers")
    w.intro()
    for material in w.plan.materials[:2]:
        w.heading(3, f"Q: What does the documentation say about {material.name}?")
        w.add("**A:** " + w.say(w.voice.doc_leads, source=material.source), f"> {material.summary}")
    questions = ["Can you show me a short example?", "What does this program print?",
                 "How does it look in a slightly bigger program?", "Is there another way to use it?",
                 "What happens with different values?"]
    w.rng.shuffle(questions)
    for question, example in zip(questions, w.plan.examples):
        w.heading(3, f"Q: {question}")
        w.show(example, lead="**A:** " + w.rng.choice(("Here you go:", "Sure. Run this:", "Look at this program:")))
    w.heading(3, "Q: How can I practise?")
    w.practice()
    w.heading(3, "Q: What should I remember?")
    w.summary_points()


def _compare_layout(w: SectionWriter) -> None:
    pitfall = w.plan.pitfall
    if pitfall is None:
        _explanation_layout(w)
        return
    w.heading(1, f"{w.words['Topic']}: a wrong and a right approach")
    w.intro()
    w.heading(2, "A first attempt")
    w.show(pitfall.wrong, lead=w.rng.choice(("Here is how many people first try it:",
                                             "A natural first attempt looks like this:")), note=False)
    w.add(w.rng.choice(("Something is off.", "This is not what we wanted.", "Look closely at the result.")))
    w.heading(2, "A better way")
    w.show(pitfall.right, lead="Now compare with this version:", note=False)
    w.add(f"**Why it matters:** {pitfall.lesson}")
    others = [e for e in w.plan.examples if e not in (pitfall.wrong, pitfall.right)]
    if w.plan.materials or others:
        w.heading(2, "More on the topic")
    for material in w.plan.materials[:1]:
        w.explain(material)
    for example in others[:2]:
        w.show(example)
    w.heading(2, "Summary")
    w.summary_points()


LAYOUTS: dict[str, Callable[[SectionWriter], None]] = {
    "explanation": _explanation_layout, "lecture": _lecture_layout, "steps": _steps_layout,
    "story": _story_layout, "qa": _qa_layout, "compare": _compare_layout,
}


def write_section(topic: str, audience: str, style: str, rng: random.Random) -> str:
    """A Markdown textbook section on `topic` for `audience`, laid out as `style` asks (see STYLE_CLASSES)."""
    writer = SectionWriter(plan_section(topic, audience, rng), rng)
    LAYOUTS[classify(style, STYLE_CLASSES, "explanation")](writer)
    return writer.text()


class TextbookGenerator:
    """Answers textbook prompts (TEXTBOOK_MARKER, with Topic/Audience/Style lines) with write_section."""

    def matches(self, messages: Messages) -> bool:
        return TEXTBOOK_MARKER in last_user_text(messages)

    def respond(self, messages: Messages, rng: random.Random) -> str:
        fields = prompt_fields(last_user_text(messages))
        return write_section(fields.get("Topic", "Python programming"), fields.get("Audience", "a beginner"),
                             fields.get("Style", ""), rng)

