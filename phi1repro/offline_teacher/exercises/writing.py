"""Writing an exercise: from a function name to a ```python block with a docstring, doctest examples and a body.

parse_request splits the name into verb, modifier and noun; choose_family picks a registered problem
family for them (FAMILIES, in registration order); the family builds the problem, set in the requested
domain. Expected outputs are computed by running the reference solution, so examples are correct by
construction, except in deliberately flawed answers: with probability FLAW_RATE an answer has one of
FLAW_KINDS, so the downstream validator has broken exercises to catch, as it would with a real teacher.
"""

from __future__ import annotations

import ast
import copy
import keyword
import random
import re
import textwrap
from dataclasses import dataclass, replace
from typing import Any

from phi1repro.synth.prompts import EXERCISE_MARKER, prompt_fields

from ..messages import Messages, last_user_text
from ..sandbox import names_read_and_bound
from ..tables import table
from .problems import FAMILIES, KIND_OF_NOUN, Family, Problem, Request

FLAW_RATE = 0.06
"""The share of exercise answers with one deliberate flaw, as a real teacher sometimes produces broken exercises."""
FLAW_KINDS = ("wrong_output", "syntax_error", "wrong_name", "no_examples", "infinite_loop")
"""wrong_output: one doctest example expects a wrong value; syntax_error: the code does not parse; wrong_name: the
function has another name than asked; no_examples: the docstring has no doctest examples; infinite_loop: the body
starts with `while True: pass`, so running an example never ends."""
FLAW_WEIGHTS = (0.225, 0.225, 0.225, 0.225, 0.1)  # infinite loops are rare: each costs the validator a timeout

DOMAIN_LEADS: tuple[str, ...] = tuple(table("exercise_words.json")["domain_leads"])  # sets the task in a domain


def split_name(name: str) -> list[str]:
    """The lowercase words of an identifier, in snake_case or camelCase."""
    return [w.lower() for w in re.findall(r"[A-Z]+(?![a-z])|[A-Z]?[a-z]+|\d+", name)]


def identifier(name: str) -> str:
    """`name` as a Python identifier: other characters become '_', a leading digit or a keyword gets one more."""
    text = re.sub(r"\W", "_", name.strip()) or "solve"
    return f"_{text}" if text[0].isdigit() else f"{text}_" if keyword.iskeyword(text) else text


def parse_request(name: str, domain: str) -> Request:
    """verb = the first word of the name, noun = the last (of two or more), modifier = a word in between."""
    words = split_name(name) or ["solve"]
    noun = words[-1] if len(words) > 1 else "values"
    modifier = next((w for w in words[1:-1] if any(w in f.modifiers for f in FAMILIES.values())),
                    words[1] if len(words) > 2 else "")
    return Request(identifier(name), words[0], modifier, noun, KIND_OF_NOUN.get(noun, "numbers"), domain.strip())


def choose_family(r: Request, rng: random.Random) -> Family:
    """A family for the verb (any family for an unknown verb), preferring those that suit the noun's kind of
    data, then those that use the modifier."""
    candidates = [f for f in FAMILIES.values() if r.verb in f.verbs] or list(FAMILIES.values())
    fitting = [f for f in candidates if r.kind in f.kinds or (r.kind == "numbers" and "nested" in f.kinds)]
    candidates = fitting or candidates
    candidates = [f for f in candidates if r.modifier in f.modifiers] or candidates
    return rng.choice(candidates)


def _well_formed(source: str, name: str) -> bool:
    """True if `source` compiles and no parameter of `name` is reassigned or shadowed in its body."""
    try:
        tree = ast.parse(source)
        compile(tree, "<exercise>", "exec", dont_inherit=True)
    except SyntaxError:
        return False
    function = next(n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name == name)
    parameters = {a.arg for a in function.args.args}
    bound = set().union(*(names_read_and_bound(statement)[1] for statement in function.body))
    return not parameters & bound


def _perturbed(value: Any) -> Any:
    """A value of the same type that differs from `value`: a plausible but wrong expected output."""
    if isinstance(value, bool):
        return not value
    if isinstance(value, (int, float)):
        return round(value + 1, 2)
    if isinstance(value, str):
        return value[:-1] if len(value) > 1 else value + "x"
    if isinstance(value, (list, tuple)):
        return value[:-1] if value else type(value)([0])
    if isinstance(value, dict):
        return dict(list(value.items())[:-1]) if value else {"": 0}
    return 0


@dataclass(frozen=True)
class Exercise:
    """A written exercise: its imports, signature line, docstring text, doctest examples and body."""

    imports: tuple[str, ...]
    signature: str  # "def name(params) -> returns:"
    task: str
    examples: tuple[tuple[str, str], ...]  # (call source, expected output)
    body: str  # indented

    def source(self, with_examples: bool = True, closed_docstring: bool = True) -> str:
        lines = textwrap.wrap(self.task, width=84)
        doc = [f'    """{lines[0]}', *(f"    {line}" for line in lines[1:])]
        if with_examples and self.examples:
            doc += ["", *(f"    >>> {call}\n    {want}" for call, want in self.examples)]
        doc.append('    """' if closed_docstring else "")
        prefix = "r" if any("\\" in line for line in doc) else ""  # keep a backslash in an example literal
        doc[0] = doc[0].replace('"""', prefix + '"""', 1)
        header = "\n".join(self.imports) + "\n\n\n" if self.imports else ""
        return f"{header}{self.signature}\n" + "\n".join(doc) + f"\n{self.body}\n"


MAX_ATTEMPTS = 8


def build_exercise(name: str, domain: str, rng: random.Random) -> Exercise:
    """A correct exercise for the function `name`: doctest outputs come from running the reference solution.
    If the solution fails (a name that shadows a builtin it uses, such as `sum`), another family is tried."""
    request = parse_request(name, domain)
    family = choose_family(request, rng)
    for _ in range(MAX_ATTEMPTS):
        try:
            return family_exercise(family, request, rng)
        except Exception:  # the generated solution failed on its own examples
            family = rng.choice(list(FAMILIES.values()))
    raise RuntimeError(f"no problem family gives a working exercise for {name!r}")


def family_exercise(family: Family, request: Request, rng: random.Random) -> Exercise:
    """The family's exercise for `request` with the outputs of its examples, computed by running the solution."""
    state = rng.getstate()
    problem = family.build(request, rng)
    exercise = _draft(request, problem, rng)
    if not _well_formed(exercise.source(), request.name):  # the noun clashes with a name in the body
        rng.setstate(state)
        problem = family.build(replace(request, kind="generic"), rng)
        exercise = _draft(request, problem, rng)
    namespace: dict[str, Any] = {}
    exec(compile(exercise.source(with_examples=False), "<exercise>", "exec", dont_inherit=True), namespace)
    function = namespace[request.name]
    examples = []
    for arguments in problem.calls:
        call = f"{request.name}({', '.join(map(repr, arguments))})"
        result = function(*copy.deepcopy(arguments))
        examples.append((f"{call} is None", "True") if result is None else (call, repr(result)))
    return replace(exercise, examples=tuple(examples))


def _draft(r: Request, problem: Problem, rng: random.Random) -> Exercise:
    domain = r.domain or "general-purpose"
    lead = rng.choice(DOMAIN_LEADS).format(a="an" if domain[0].lower() in "aeiou" else "a", domain=domain)
    return Exercise(problem.imports, f"def {r.name}({problem.params}) -> {problem.returns}:",
                    f"{lead}, {problem.task}.", (), textwrap.indent(problem.body, "    "))


def other_name(name: str) -> str:
    """A near miss for `name`, as a careless answer would use: camelCase, or a suffix."""
    words = split_name(name)
    camel = words[0] + "".join(w.capitalize() for w in words[1:]) if words else ""
    return camel if camel and camel != name else f"{name}_solution"


def write_exercise(name: str, domain: str, rng: random.Random, flaw: str | None = None) -> str:
    """The answer to an exercise prompt: one ```python block with the function `name`, set in `domain`;
    with `flaw` (one of FLAW_KINDS), deliberately broken in that way."""
    exercise = build_exercise(name, domain, rng)
    source = exercise.source()
    match flaw:
        case None:
            pass
        case "wrong_output":
            index = rng.randrange(len(exercise.examples))
            call, want = exercise.examples[index]
            wrong = "False" if want == "True" else repr(_perturbed(ast.literal_eval(want)))
            examples = exercise.examples[:index] + ((call, wrong),) + exercise.examples[index + 1:]
            source = replace(exercise, examples=examples).source()
        case "syntax_error":
            source = (source.replace(exercise.signature, exercise.signature.removesuffix(":"), 1)
                      if rng.random() < 0.5 else exercise.source(closed_docstring=False))
        case "wrong_name":
            function_name = identifier(name)
            source = source.replace(f"def {function_name}(", f"def {other_name(function_name)}(", 1)
        case "no_examples":
            source = exercise.source(with_examples=False)
        case "infinite_loop":
            source = replace(exercise, body="    while True:\n        pass\n" + exercise.body).source()
        case _:
            raise ValueError(f"unknown flaw {flaw!r}; expected one of {FLAW_KINDS}")
    return f"```python\n{source}```"


def draw_flaw(rng: random.Random) -> str | None:
    """The flaw of one answer: None with probability 1 - FLAW_RATE, else one of FLAW_KINDS, by FLAW_WEIGHTS."""
    return rng.choices(FLAW_KINDS, FLAW_WEIGHTS)[0] if rng.random() < FLAW_RATE else None


class ExerciseGenerator:
    """Answers exercise prompts (EXERCISE_MARKER, with Function name/Domain lines) with write_exercise, after
    drawing the answer's flaw (draw_flaw) first from its rng."""

    def matches(self, messages: Messages) -> bool:
        return EXERCISE_MARKER in last_user_text(messages)

    def respond(self, messages: Messages, rng: random.Random) -> str:
        fields = prompt_fields(last_user_text(messages))
        flaw = draw_flaw(rng)
        return write_exercise(fields.get("Function name", "solve"), fields.get("Domain", ""), rng, flaw)
