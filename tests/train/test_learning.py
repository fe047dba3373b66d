"""End to end through the real code: a tiny model memorises a few HumanEval-format problems and passes them all.

Tokenizer, packing, the training loss, export, loading, KV-cache generation, stop sequences and the sandbox
have to work together for pass@1 to be 1; the same run with lr 0 must score 0. Each document continues
past the body with a `__main__` block that exits, as scripts do, so a completion passes only when
generation cuts it at a stop sequence ("\\nif").
"""

import json
import random

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from phi1repro.evaluate.generate import generate_samples
from phi1repro.evaluate.score import score_file
from phi1repro.evaluate.tasks import default_stop
from phi1repro.tokens.pack import pack_files
from phi1repro.tokens.tokenizer import train_tokenizer
from phi1repro.train.trainer import train

pytestmark = pytest.mark.usefixtures("one_torch_thread")

SIZE = {"layers": 2, "hidden": 96, "intermediate": 384, "heads": 4, "rotary_dim": 8, "max_positions": 128}
RECIPE = {"size": SIZE, "seq_len": 128, "steps": 150, "global_batch": 8, "micro_batch": 8, "lr": 3e-3, "warmup": 10,
          "precision": "fp32", "zero_stage": 0, "dropout": 0.0, "seed": 0, "checkpoint_every": 1000}
SCRIPT_END = '\n\nif __name__ == "__main__":\n    raise SystemExit(0)\n'  # an exit: kept, it fails the program
COPIES = 40  # of each document in the training text


def problem(n: int, signature: str, doc: str, body: str, asserts: list[str]) -> dict:
    name = signature.split("(")[0]
    return {"task_id": f"Memorised/{n}", "prompt": f'def {signature}:\n    """{doc}\n    """\n',
            "canonical_solution": body, "entry_point": name,
            "test": "def check(candidate):\n" + "".join(f"    assert candidate{a}\n" for a in asserts)}


PROBLEMS = [
    problem(0, "add(a: int, b: int) -> int", "Return the sum of a and b.", "    return a + b\n",
            ["(2, 3) == 5", "(-1, 1) == 0"]),
    problem(1, "reverse(text: str) -> str", "Return text backwards.", "    return text[::-1]\n",
            ["('abc') == 'cba'", "('') == ''"]),
    problem(2, "count_evens(numbers: list) -> int", "Count the even numbers.",
            "    return sum(1 for n in numbers if n % 2 == 0)\n", ["([1, 2, 4]) == 2", "([]) == 0"]),
    problem(3, "is_palindrome(word: str) -> bool", "Whether word reads the same both ways.",
            "    return word == word[::-1]\n", ["('level') is True", "('ab') is False"]),
    problem(4, "factorial(k: int) -> int", "The product 1 * 2 * ... * k.",
            "    result = 1\n    for n in range(2, k + 1):\n        result *= n\n    return result\n",
            ["(0) == 1", "(5) == 120"]),
]


@pytest.fixture(scope="module")
def corpus(tmp_path_factory) -> dict:
    """The problems as a benchmark file, and a tokenizer and a token shard of their solved scripts, shuffled."""
    root = tmp_path_factory.mktemp("learning")
    (root / "problems.jsonl").write_text("".join(json.dumps(p) + "\n" for p in PROBLEMS))
    documents = [p["prompt"] + p["canonical_solution"] + SCRIPT_END for p in PROBLEMS] * COPIES
    random.Random(0).shuffle(documents)
    pq.write_table(pa.table({"text": documents}), root / "scripts.parquet")
    train_tokenizer([str(root / "scripts.parquet")], 400, str(root / "tokenizer"))
    pack_files([str(root / "scripts.parquet")], str(root / "tokenizer"), str(root / "scripts.bin"),
               str(root / "scripts.json"))
    return {"root": root, "tokenizer": str(root / "tokenizer"), "shard": str(root / "scripts.json"),
            "problems": str(root / "problems.jsonl")}


def train_and_score(corpus: dict, name: str, **changes) -> tuple[dict, list[dict]]:
    """Train the recipe with `changes`, sample each problem greedily from the export, score: (result, samples)."""
    run = corpus["root"] / name
    export, samples_file = str(run / "export"), run / "samples.jsonl"
    summary = train({**RECIPE, **changes}, [corpus["shard"]], corpus["tokenizer"], str(run / "out"), export)
    prompts = [{"task_id": p["task_id"], "prompt": p["prompt"]} for p in PROBLEMS]
    generate_samples(export, prompts, str(samples_file), max_new_tokens=64, stop=default_stop("humaneval"))
    result = score_file(str(samples_file), corpus["problems"], "humaneval", str(run / "result.json"))
    samples = [json.loads(line) for line in samples_file.read_text().splitlines()]
    print(f"{name}: final loss {summary['final_loss']:.4f}, pass@1 {result['pass@1']}")
    return result, samples


def test_a_model_that_memorised_the_problems_passes_them_all(corpus):
    result, samples = train_and_score(corpus, "memorised")
    assert result["pass@1"] == 1.0, samples
    assert all(s["finish"] == "stop" for s in samples), samples  # cut at "\nif", before the exit
    assert [s["completion"] for s in samples] == [p["canonical_solution"] + "\n" for p in PROBLEMS]


def test_the_same_run_with_lr_0_passes_none(corpus):
    result, samples = train_and_score(corpus, "lr0", lr=0.0)
    assert result["pass@1"] == 0.0, samples
