"""The offline teacher's generators of textbook sections and exercises (offline_teacher/textbooks.py, exercises/)."""

import ast
import json
import random
import re
import subprocess
import sys
from collections import Counter

import openai
import pytest

from phi1repro.synth import vocabulary
from phi1repro.synth.prompts import EXERCISE_MARKER, TEXTBOOK_MARKER, ExercisePrompts, NameLedger, TextbookPrompts
from phi1repro.offline_teacher import exercises
from phi1repro.offline_teacher import library as textbook_library
from phi1repro.offline_teacher.answers import GENERATORS, AnnotationGenerator
from phi1repro.offline_teacher.exercises import FLAW_KINDS, FLAW_RATE, ExerciseGenerator, draw_flaw, write_exercise
from phi1repro.offline_teacher.server import serve_in_thread
from phi1repro.offline_teacher.textbooks import TextbookGenerator, write_section

PYTHON_BLOCK = re.compile(r"```python\n(.*?)\n```(?:\n\nOutput:\n\n```text\n(.*?)\n```)?", re.DOTALL)
RUN_BLOCKS = r"""
import contextlib, io, json, sys, traceback
results = []
for code in json.load(sys.stdin):
    out = io.StringIO()
    try:
        with contextlib.redirect_stdout(out):
            exec(compile(code, "<block>", "exec"), {"__name__": "__main__"})
        results.append([True, out.getvalue()])
    except BaseException:
        results.append([False, traceback.format_exc()])
print(json.dumps(results))
"""
RUN_EXERCISES = r"""
import doctest, json, signal, sys, types

def stop(signum, frame):
    raise KeyboardInterrupt  # the one exception doctest does not catch inside an example

signal.signal(signal.SIGALRM, stop)
results = []
for name, code in json.load(sys.stdin):
    module = types.ModuleType("exercise")
    try:
        exec(compile(code, "<exercise>", "exec"), module.__dict__)
    except SyntaxError:
        results.append("syntax_error")
        continue
    function = module.__dict__.get(name)
    if function is None:
        results.append("wrong_name")
        continue
    if len(doctest.DocTestParser().get_examples(function.__doc__ or "")) < 2:
        results.append("no_examples")
        continue
    runner = doctest.DocTestRunner(verbose=False)
    signal.alarm(1)
    try:
        for test in doctest.DocTestFinder().find(function, name, globs=module.__dict__):
            runner.run(test, out=lambda text: None)
        results.append("wrong_output" if runner.failures else "ok")
    except KeyboardInterrupt:
        results.append("infinite_loop")
    finally:
        signal.alarm(0)
print(json.dumps(results))
"""


def run_isolated(runner: str, payload: list) -> list:
    """Run `runner` in a fresh isolated interpreter (`-I`: another hash seed, no user site) on JSON `payload`."""
    proc = subprocess.run([sys.executable, "-I", "-c", runner], input=json.dumps(payload), capture_output=True,
                          text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


def textbook_messages(topic: str, audience: str, style: str) -> list[dict]:
    return [{"role": "user", "content": TEXTBOOK_MARKER + f"\nTopic: {topic}\nAudience: {audience}\n"
             f"Style: {style}\n\nExplain the topic."}]


def code_of(answer: str) -> str:
    assert answer.startswith("```python\n") and answer.endswith("```"), answer
    return answer.removeprefix("```python\n").removesuffix("```")


# --- textbook sections ---------------------------------------------------------------------------------------------


def test_generators_are_registered_after_the_annotation_generator():
    kinds = [type(g) for g in GENERATORS]
    assert kinds[0] is AnnotationGenerator
    assert TextbookGenerator in kinds and ExerciseGenerator in kinds


def test_the_library_verifies_all_written_material_and_covers_every_default_topic():
    library = textbook_library.library()
    assert library.rejected == ()
    assert set(textbook_library.TOPIC_MATERIAL) == set(vocabulary.TOPICS) == set(textbook_library.TOPIC_EXAMPLES)
    wanted = {key for keys in textbook_library.TOPIC_MATERIAL.values() for key in keys}
    assert wanted <= set(library.materials)
    assert all(len(library.topic_examples[topic]) >= 2 for topic in vocabulary.TOPICS)
    assert sum(len(m.examples) for m in library.materials.values()) >= 80  # doctest examples that passed


def test_textbook_sections_are_deterministic_and_vary_with_seed_topic_audience_and_style():
    base = ("binary search", "a high-school student", "a clear explanation followed by worked examples")
    section = write_section(*base, random.Random(1))
    assert section == write_section(*base, random.Random(1))
    assert section != write_section(*base, random.Random(2))
    assert section != write_section("recursion", *base[1:], random.Random(1))
    assert section != write_section(base[0], "a professional software engineer", base[2], random.Random(1))
    assert section != write_section(*base[:2], "questions and answers", random.Random(1))
    generator, messages = TextbookGenerator(), textbook_messages(*base)
    assert generator.matches(messages) and not ExerciseGenerator().matches(messages)
    assert generator.respond(messages, random.Random(1)) == section


@pytest.mark.parametrize(("style", "marks"), [
    ("a clear explanation followed by worked examples", ["## Summary", "### Example 1"]),
    ("a step-by-step tutorial", ["## Step 1:", "## Step 2:"]),
    ("a story with characters who solve a problem", ["## The problem", "## Trying it out"]),
    ("questions and answers", ["### Q:", "**A:**"]),
    ("a comparison of a wrong and a right approach", ["## A first attempt", "## A better way"]),
    ("a short lecture with a summary at the end", ["# Lecture:", "## Summary"]),
])
def test_the_layout_follows_the_style(style, marks):
    for topic in ("lists", "recursion", "JSON"):
        section = write_section(topic, "a self-taught beginner", style, random.Random(topic))
        assert all(mark in section for mark in marks), section


def test_the_introduction_depends_on_the_audience_class():
    intros = {audience: write_section("while loops", audience, "a step-by-step tutorial", random.Random(0))
              .split("\n\n")[1] for audience in ("a curious ten-year-old", "a professional software engineer",
                                                 "a teacher preparing a lesson")}
    assert len(set(intros.values())) == 3
    assert "JavaScript" in write_section("lists", "a programmer coming from JavaScript", "", random.Random(0))


def test_sections_have_the_topic_in_the_heading_and_two_to_five_examples():
    prompts = TextbookPrompts(vocabulary.TOPICS, vocabulary.AUDIENCES, vocabulary.STYLES, seed=0)
    for index in range(150):
        prompt = prompts[index]
        section = write_section(prompt.topic, prompt.audience, prompt.style, random.Random(index))
        heading = section.partition("\n")[0]
        assert heading.startswith("# ") and prompt.topic.lower() in heading.lower(), heading
        assert 2 <= section.count("```python") <= 5
        assert 150 <= len(section.split()) <= 1200


def test_every_code_block_runs_and_prints_the_output_shown():
    prompts = TextbookPrompts(vocabulary.TOPICS, vocabulary.AUDIENCES, vocabulary.STYLES, seed=1)
    blocks: dict[str, str] = {}
    for index in range(200):
        prompt = prompts[index]
        section = write_section(prompt.topic, prompt.audience, prompt.style, random.Random(index))
        found = PYTHON_BLOCK.findall(section)
        assert len(found) == section.count("```python")
        blocks.update(found)
    for topic in ("sorting dictionaries by value", "unicode and encodings", "heap sort", "zzz qqq"):
        blocks.update(PYTHON_BLOCK.findall(write_section(topic, "a beginner", "", random.Random(3))))
    results = run_isolated(RUN_BLOCKS, list(blocks))
    checked = 0
    for (code, shown), (ran, printed) in zip(blocks.items(), results):
        assert ran, f"{code}\n{printed}"
        if shown:
            assert printed.rstrip("\n") == shown, code
            checked += 1
    assert checked > len(blocks) // 2


def test_unknown_topics_are_matched_by_keywords():
    section = write_section("heap sort", "a high-school student", "questions and answers", random.Random(0))
    assert section.startswith("# Heap sort") and "heap" in section.lower()
    assert write_section("", "", "", random.Random(0)).count("```python") >= 2


# --- code exercises ------------------------------------------------------------------------------------------------


def exercise_messages(name: str, domain: str) -> list[dict]:
    return [{"role": "user", "content": EXERCISE_MARKER + f"\nFunction name: {name}\nDomain: {domain}\n"}]


def test_exercises_are_correct_unless_deliberately_flawed():
    ledger = NameLedger(vocabulary.VERBS, vocabulary.MODIFIERS, vocabulary.NOUNS, seed=0)
    prompts, generator = ExercisePrompts(ledger, vocabulary.DOMAINS, seed=0), ExerciseGenerator()
    answers, flaws = [], []
    for index in range(300):
        prompt = prompts[index]
        messages = exercise_messages(prompt.name, prompt.domain)
        assert generator.matches(messages) and not TextbookGenerator().matches(messages)
        seed = f"exercise-{index}"
        answer = generator.respond(messages, random.Random(seed))
        assert answer == generator.respond(messages, random.Random(seed))
        flaw = draw_flaw(random.Random(seed))
        answers.append((prompt, code_of(answer)))
        flaws.append(flaw)
        if flaw is None:
            tree = ast.parse(code_of(answer))
            functions = [node for node in tree.body if isinstance(node, ast.FunctionDef)]
            assert [f.name for f in functions] == [prompt.name] and len(tree.body) == len(functions) + sum(
                isinstance(node, (ast.Import, ast.ImportFrom)) for node in tree.body)
            function = functions[0]
            assert function.returns and all(arg.annotation for arg in function.args.args)
            docstring = ast.get_docstring(function)
            assert prompt.domain in docstring and docstring.count(">>> ") >= 2
    outcomes = run_isolated(RUN_EXERCISES, [(p.name, code) for p, code in answers])
    assert outcomes == [flaw or "ok" for flaw in flaws]
    assert 0.01 <= sum(f is not None for f in flaws) / len(flaws) <= 0.15  # FLAW_RATE is 0.06


def test_flaws_are_drawn_at_the_documented_rates():
    rng = random.Random(0)
    draws = Counter(draw_flaw(rng) for _ in range(50_000))
    flawed = sum(n for kind, n in draws.items() if kind)
    assert abs(flawed / 50_000 - FLAW_RATE) < 0.005
    assert set(draws) == {None, *FLAW_KINDS}
    assert draws["infinite_loop"] < draws["wrong_output"] / 1.5  # rare: each costs the validator a timeout


def test_each_flaw_kind_shows_its_symptom():
    cases = [(kind, name, domain) for kind in ("ok", *FLAW_KINDS)
             for name, domain in (("count_even_scores", "school grades"), ("parse_words", "banking"))]
    codes = [(name, code_of(write_exercise(name, domain, random.Random(7), None if kind == "ok" else kind)))
             for kind, name, domain in cases]
    assert run_isolated(RUN_EXERCISES, codes) == [kind for kind, _, _ in cases]


def test_every_family_gives_a_passing_exercise_and_some_use_imports():
    codes, imports = [], 0
    for family in exercises.FAMILIES.values():
        verb, kind = sorted(family.verbs)[0], sorted(family.kinds)[0]
        noun = {"text": "sentences", "words": "words", "matrix": "grid", "intervals": "intervals",
                "records": "records", "points": "points"}.get(kind, "scores")
        modifier = sorted(family.modifiers)[0] if family.modifiers else "sorted"
        name = f"{verb}_{modifier}_{noun}"
        request = exercises.parse_request(name, "games")
        exercise = exercises.family_exercise(family, request, random.Random(family.name))
        codes.append((name, f"{exercise.source()}"))
        imports += bool(exercise.imports)
    assert len(codes) >= 25 and imports >= 10
    assert run_isolated(RUN_EXERCISES, codes) == ["ok"] * len(codes)


def test_names_of_any_shape_get_a_function_named_as_asked():
    for name in ("sum", "sorted", "frobnicate", "getTopScores", "x"):
        tree = ast.parse(code_of(write_exercise(name, "", random.Random(name))))
        assert [n.name for n in tree.body if isinstance(n, ast.FunctionDef)] == [name]


# --- through the server --------------------------------------------------------------------------------------------


def test_the_server_answers_textbook_and_exercise_prompts():
    topic = TextbookPrompts(vocabulary.TOPICS, vocabulary.AUDIENCES, vocabulary.STYLES, seed=2)[0]
    with serve_in_thread() as server:
        client = openai.OpenAI(base_url=server.base_url, api_key="x", max_retries=0)
        textbook = client.chat.completions.create(
            model="offline-teacher", messages=[{"role": "user", "content": topic.text}], seed=5)
        exercise = client.chat.completions.create(
            model="offline-teacher", messages=exercise_messages("count_even_scores", "school grades"), seed=5)
    content = textbook.choices[0].message.content
    assert content.startswith("# ") and topic.topic.lower() in content.partition("\n")[0].lower()
    assert content.count("```python") >= 2
    code = exercise.choices[0].message.content
    assert "def count_even_scores(" in code or "def countEvenScores(" in code
