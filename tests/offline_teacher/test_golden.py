"""The offline teacher's answers, byte for byte, to requests built by the pipeline's own prompt code.

The demo's numbers are a function of these answers: a change to the offline teacher's code or data
that changes one of them changes the demo, and must be deliberate. The golden file is rewritten with
`python -m tests.offline_teacher.test_golden` (then review its diff). Textbook sections quote the
interpreter's own docstrings, so the file records the Python version it was written with.
"""

import json
import sys
from pathlib import Path

import yaml

from tests.needs import missing
from phi1repro.config import validate_config
from phi1repro.offline_teacher.answers import answer
from phi1repro.paper import grading
from phi1repro.quality.annotate import build_request
from phi1repro.synth.generate import exercise_prompts, exercise_request, textbook_request
from phi1repro.synth.prompts import TextbookPrompts
from phi1repro.synth.vocabulary import AUDIENCES, DOMAINS, MODIFIERS, NOUNS, STYLES, TOPICS, VERBS
from phi1repro.teacher.scoring import answer_format, response_format

ROOT = Path(__file__).resolve().parents[2]
GOLDEN = Path(__file__).resolve().parents[1] / "data/offline_teacher_golden.json"
SNIPPETS = [  # code of every grade the rubric tells apart
    "x = 1\n",
    "import tkinter as tk\nroot = tk.Tk()\nroot.title('app')\nroot.mainloop()\n",
    "from .models import User\n\n\ndef get(id):\n    return User.objects.get(id=id)\n",
    'def mean(xs):\n    """The arithmetic mean of a non-empty list."""\n    return sum(xs) / len(xs)\n',
    'def fib(n: int) -> int:\n    """The n-th Fibonacci number.\n\n    >>> fib(10)\n    55\n    """\n'
    "    a, b = 0, 1\n    for _ in range(n):\n        a, b = b, a + b\n    return a\n",
    "HOST = 'localhost'\nPORT = 8080\nDEBUG = True\nTIMEOUT = 30\n",
    "def f(a,b,c,d,e):\n  if a:\n    if b:\n      if c:\n        return d(e)\n  return None\n",
    "class Stack:\n    def __init__(self):\n        self.items = []\n\n    def push(self, x):\n"
    "        self.items.append(x)\n\n    def pop(self):\n        return self.items.pop()\n",
]


def _config() -> dict:
    config = yaml.safe_load((ROOT / "configs" / "demo.yaml").read_text())
    return validate_config(config, ROOT / "schemas" / "config.schema.yaml")


def golden_requests() -> dict[str, dict]:
    """Name -> (request body, answer style): annotation and grading in every answer mode, textbooks, exercises."""
    config = _config()
    requests = {}
    for mode in ("none", "json_schema", "json_object"):
        for i, code in enumerate(SNIPPETS):
            body = build_request({"id": str(i), "text": code}, config["annotate"], mode).body
            for style in ("plain", "varied") if mode == "none" else ("plain",):
                requests[f"annotate/{mode}/{style}/{i}"] = {"body": body, "style": style}
    prompts = TextbookPrompts(TOPICS, AUDIENCES, STYLES, 0)
    textbooks = {**config["synth"]["textbooks"], "model": "gpt-3.5-turbo"}
    for index in range(0, 60, 5):
        requests[f"textbook/{index}"] = {"body": textbook_request(prompts, index, textbooks).body, "style": "plain"}
    exercises = {**config["synth"]["exercises"], "verbs": VERBS, "modifiers": MODIFIERS, "nouns": NOUNS,
                 "domains": DOMAINS, "count": 100}
    names = exercise_prompts(exercises, 0)
    for index in range(0, 100, 4):
        requests[f"exercise/{index}"] = {"body": exercise_request(names, index, exercises).body, "style": "plain"}
    problems = [json.loads(line) for line in (ROOT / "phi1repro" / "data" / "unconventional.jsonl").open()][:4]
    completions = ("    return 0\n", None)  # a wrong answer, and the reference itself
    for mode in ("none", "json_schema"):
        for p in problems:
            for c, completion in enumerate(completions):
                solution = p["prompt"] + (completion or p["canonical_solution"])
                reference = p["prompt"] + p["canonical_solution"]
                content = grading.PROMPT.format(problem=p["prompt"].rstrip(), reference=reference.rstrip(),
                                                solution=solution.rstrip(),
                                                answer_format=answer_format(grading.SCALE, grading.GRADE_HINT, mode))
                body = {"model": "gpt-4", "messages": [{"role": "user", "content": content}], "temperature": 0.0,
                        "max_tokens": 400, **({"response_format": response_format(grading.SCALE, mode)}
                                              if mode != "none" else {})}
                for style in ("plain", "varied") if mode == "none" else ("plain",):
                    requests[f"grade/{mode}/{style}/{p['task_id']}/{c}"] = {"body": body, "style": style}
    return requests


def answers() -> dict[str, list[str]]:
    return {name: [choice["message"]["content"] for choice in answer(r["body"], r["style"])["choices"]]
            for name, r in golden_requests().items()}


def python_version() -> str:
    return ".".join(map(str, sys.version_info[:3]))


def test_answers_are_those_of_the_golden_file():
    golden = json.loads(GOLDEN.read_text())
    if golden["python"] != python_version():
        message = (f"{GOLDEN.name} was written with Python {golden['python']}, this is {python_version()}: "
                   "textbook sections quote the interpreter's docstrings")
        missing(message)
    got = answers()
    assert got.keys() == golden["answers"].keys()
    changed = [name for name in got if got[name] != golden["answers"][name]]
    assert not changed, f"{len(changed)} answers changed, first {changed[0]}:\n{got[changed[0]][0][:2000]}"


def test_the_golden_requests_cover_every_kind_of_answer():
    golden = json.loads(GOLDEN.read_text())["answers"]
    kinds = {name.split("/")[0] for name in golden}
    assert kinds == {"annotate", "textbook", "exercise", "grade"}
    assert all(texts and all(t.strip() for t in texts) for texts in golden.values())
    for kind in ("textbook", "exercise"):  # every prompt its own answer
        texts = [t[0] for name, t in golden.items() if name.startswith(kind)]
        assert len(set(texts)) == len(texts)
    for kind in ("annotate", "grade"):  # judgements that differ between the items
        assert len({t[0] for name, t in golden.items() if name.startswith(f"{kind}/json_schema")}) > 2


if __name__ == "__main__":
    GOLDEN.write_text(json.dumps({"python": python_version(), "answers": answers()}, indent=1, ensure_ascii=False)
                      + "\n")
    print(f"wrote {GOLDEN}")
