"""The demo's held-out benchmark: exercises for names training never gets, as HumanEval problems
that the sandbox scores like HumanEval's."""

import json

import pyarrow.parquet as pq
import pytest

from phi1repro.evaluate.score import score_samples, self_check
from phi1repro.evaluate.tasks import load_tasks
from phi1repro.sandbox import Limits
from phi1repro.synth.generate import exercise_prompts, generate_exercises
from phi1repro.synth.heldout import check_function, generate_heldout, heldout_indices
from phi1repro.offline_teacher.server import serve_in_thread
from phi1repro.offline_teacher.state import ServerConfig
from tests.synth.test_generate import EXERCISES, teacher

COUNT = 40


@pytest.fixture(scope="module")
def heldout(tmp_path_factory):
    root = tmp_path_factory.mktemp("heldout")
    with serve_in_thread(ServerConfig()) as server:
        config = teacher(server, root)
        training = [generate_exercises(p, EXERCISES, 0, config, False, str(root / f"train-{p}.parquet"),
                                       str(root / f"rejected-{p}.parquet"), str(root / f"train-{p}.json"))
                    for p in range(EXERCISES["parts"])]
        stats = generate_heldout(EXERCISES, COUNT, 0, config, False, str(root / "heldout.jsonl"),
                                 str(root / "heldout.rejected.parquet"), str(root / "heldout.stats.json"))
    trained = [row for p in range(EXERCISES["parts"]) for row in pq.read_table(root / f"train-{p}.parquet").to_pylist()]
    return {"root": root, "stats": stats, "training": training, "trained": trained,
            "problems": [json.loads(line) for line in (root / "heldout.jsonl").read_text().splitlines()]}


def test_the_held_out_names_follow_the_training_names():
    indices = heldout_indices(EXERCISES, COUNT, 0)
    assert indices == range(EXERCISES["count"], EXERCISES["count"] + COUNT)
    names = exercise_prompts(EXERCISES, 0).names
    with pytest.raises(ValueError, match=f"give only {names.size:,} distinct function names"):
        heldout_indices(EXERCISES, names.size, 0)


def test_no_held_out_problem_shares_a_name_or_an_answer_with_training(heldout):
    problems, trained = heldout["problems"], heldout["trained"]
    stats = heldout["stats"]
    assert stats["requested"] == COUNT and stats["problems"] == len(problems) == stats["valid"] - stats["untestable"]
    assert len(problems) >= 0.7 * COUNT  # the offline teacher's deliberate flaws are rejected
    assert {p["entry_point"] for p in problems}.isdisjoint(row["name"] for row in trained)
    assert {p["request_key"] for p in problems}.isdisjoint(row["request_key"] for row in trained)
    assert {p["prompt"] + p["canonical_solution"] for p in problems}.isdisjoint(row["text"] for row in trained)
    assert all(p["task_id"].startswith("Heldout/") and p["prompt"].endswith('"""\n') for p in problems)


def test_references_pass_and_wrong_bodies_fail_in_the_judge(heldout):
    tasks = load_tasks(heldout["root"] / "heldout.jsonl", "heldout")
    assert self_check(tasks, Limits(timeout_s=2.0), workers=2)["references_passed"] == len(tasks)
    wrong = [{"task_id": t, "sample": 0, "completion": "    return None\n"} for t in tasks]
    result, _ = score_samples(tasks, wrong, limits=Limits(timeout_s=2.0), workers=2)
    assert result["pass@1"] == 0.0


def test_check_function_asserts_each_example():
    doc = ("Count the values above `limit`.\n\n>>> count_above([1, 5, 9], 4)\n2\n>>> count_above([], 4)\n0\n"
           ">>> reset_all([1]) is None\nTrue\n")
    assert check_function("count_above", doc) == ("def check(candidate):\n"
                                                  "    assert (candidate([1, 5, 9], 4)) == 2\n"
                                                  "    assert (candidate([], 4)) == 0\n"
                                                  "    assert (reset_all([1]) is None) == True\n")
    setup = ">>> values = [3, 1]\n>>> sort_values(values)\n[1, 3]\n"
    assert check_function("sort_values", setup) == ("def check(candidate):\n    values = [3, 1]\n"
                                                    "    assert (candidate(values)) == [1, 3]\n")
    assert check_function("make_point", ">>> make_point(1, 2)\nPoint(x=1, y=2)\n") is None  # not a literal
    assert check_function("nothing", "No examples.") is None
    assert check_function("reset_all", ">>> reset_all([1]) is None\nTrue\n") is None  # checks no value
