"""Sampling completions from a checkpoint, on the CPU with a tiny randomly initialised model."""

import inspect
import json
import textwrap
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import torch
from transformers import AutoTokenizer

from phi1repro.errors import InputError
from phi1repro.evaluate.generate import (
    checkpoint_sha256,
    finish,
    generate_samples,
    load_checkpoint,
    truncate_at_stop,
)
from phi1repro.evaluate.likelihood import solution_likelihood
from phi1repro.tokens.tokenizer import train_tokenizer
from phi1repro.train.model import build_model, phi_config

pytestmark = pytest.mark.usefixtures("one_torch_thread")

TINY = {"layers": 2, "hidden": 64, "intermediate": 256, "heads": 4, "rotary_dim": 8, "max_positions": 256}
STOP = ["\n", "s"]  # the random model writes these in some completions but not all, greedy or sampled
PROMPTS = [{"task_id": f"T/{n}", "prompt": prompt} for n, prompt in enumerate([
    'def add(a, b):\n    """Add two numbers."""\n',
    "x",
    "class Stack:\n    def __init__(self):\n        self.items = []\n\n    def push(self, item):\n",
    "import os\n",
    "def f():",
])]


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory) -> str:
    """A byte-level BPE trained on a little Python, and a tiny Phi model over it, seeded."""
    root = tmp_path_factory.mktemp("checkpoint")
    texts = [inspect.getsource(module) for module in (inspect, json.decoder, textwrap)]
    pq.write_table(pa.table({"text": pa.array(texts, pa.string())}), root / "texts.parquet")
    out = root / "model"
    train_tokenizer([str(root / "texts.parquet")], 400, str(out))
    tok = AutoTokenizer.from_pretrained(out)
    torch.manual_seed(0)
    model = build_model(phi_config(TINY, len(tok), dropout=0.0, eos_token_id=tok.eos_token_id))
    model.save_pretrained(out)
    (out / "training.json").write_text("{}")
    return str(out)


def run(checkpoint, out, **kw) -> tuple[list[dict], dict]:
    kw = {"max_new_tokens": 24, "stop": STOP, "batch_size": 4, **kw}
    stats = generate_samples(checkpoint, PROMPTS, str(out), **kw)
    return [json.loads(line) for line in Path(out).read_text().splitlines()], stats


def test_truncate_at_stop():
    assert truncate_at_stop("a\nb\ndef c", ["\ndef", "\n"]) == "a"  # the earliest stop wins
    assert truncate_at_stop("ab\ndef c\n", ["\n", "\ndef"]) == "ab"
    assert truncate_at_stop("return x\nclass A", ["\nclass", "\nif"]) == "return x"
    assert truncate_at_stop("return x", ["\nclass"]) == "return x"
    assert truncate_at_stop("\nclass A", ["\nclass"]) == ""
    assert truncate_at_stop("anything", []) == "anything"


@pytest.fixture(scope="module")
def greedy(checkpoint, tmp_path_factory) -> tuple[list[dict], dict]:
    return run(checkpoint, tmp_path_factory.mktemp("greedy") / "samples.jsonl")


def test_greedy_batched_equals_one_at_a_time(checkpoint, greedy, tmp_path):
    samples, stats = greedy
    assert [s["task_id"] for s in samples] == [p["task_id"] for p in PROMPTS]
    assert stats["samples"] == len(PROMPTS) and stats["resumed"] == 0
    for n, prompt in enumerate(PROMPTS):
        out = tmp_path / f"{n}.jsonl"
        generate_samples(checkpoint, [prompt], str(out), max_new_tokens=24, stop=STOP, batch_size=1)
        assert json.loads(out.read_text()) == samples[n]


def test_completions_and_finish(greedy, checkpoint):
    samples, stats = greedy
    assert stats["finish"]["stop"] >= 1 and stats["finish"]["length"] >= 1  # rows of a batch end apart
    assert sum(stats["finish"].values()) == len(samples)
    assert stats["checkpoint_sha256"] == checkpoint_sha256(checkpoint) and stats["device"] == "cpu"
    assert stats["dtype"] == "float32" and stats["new_tokens"] == sum(s["new_tokens"] for s in samples)
    for s in samples:
        assert set(s) == {"task_id", "completion", "raw", "sample", "finish", "new_tokens"}
        assert not any(stop in s["completion"] for stop in STOP)
        assert s["completion"] == truncate_at_stop(s["raw"], STOP)
        assert 1 <= s["new_tokens"] <= 24
        if s["finish"] == "stop":  # stopped at the token completing the first stop sequence
            assert s["raw"] != s["completion"]
        else:
            assert s["raw"] == s["completion"]
            assert s["finish"] == "eos" or s["new_tokens"] == 24


def test_finish(checkpoint):
    _, tok = load_checkpoint(checkpoint)
    eos, (a, b, c) = tok.eos_token_id, tok.convert_tokens_to_ids(["a", "b", "c"])
    newline = tok.convert_tokens_to_ids("Ċ")  # byte-level "\n"
    assert finish(tok, [a, b, eos, eos], STOP) == {"raw": "ab", "finish": "eos", "new_tokens": 3}
    assert finish(tok, [a, newline, eos, eos], STOP) == {"raw": "a\n", "finish": "stop", "new_tokens": 2}
    assert finish(tok, [a, b, c], STOP) == {"raw": "abc", "finish": "length", "new_tokens": 3}


def test_checkpoint_sha256(checkpoint, tmp_path):
    copy = tmp_path / "copy"
    copy.mkdir()
    for file in Path(checkpoint).iterdir():
        (copy / file.name).write_bytes(file.read_bytes())
    (copy / "training.json").write_text('{"seconds": 1}')  # training logs are no part of the identity
    assert checkpoint_sha256(str(copy)) == checkpoint_sha256(checkpoint)
    (copy / "config.json").write_text((copy / "config.json").read_text().replace("64", "65"))
    assert checkpoint_sha256(str(copy)) != checkpoint_sha256(checkpoint)


def test_sampling_is_reproducible(checkpoint, tmp_path):
    first, stats = run(checkpoint, tmp_path / "a.jsonl", n_samples=3, temperature=0.8, seed=1)
    again, _ = run(checkpoint, tmp_path / "b.jsonl", n_samples=3, temperature=0.8, seed=1)
    other, _ = run(checkpoint, tmp_path / "c.jsonl", n_samples=3, temperature=0.8, seed=2)
    assert first == again != other
    assert [(s["task_id"], s["sample"]) for s in first] == [(p["task_id"], i) for p in PROMPTS for i in range(3)]
    assert stats["finish"]["stop"] >= 1
    assert len({s["raw"] for s in first}) > len(PROMPTS)  # samples differ


def test_greedy_takes_one_sample(checkpoint, tmp_path):
    with pytest.raises(ValueError, match="n_samples"):
        generate_samples(checkpoint, PROMPTS, str(tmp_path / "s.jsonl"), n_samples=2, temperature=0.0)


def test_resume(checkpoint, tmp_path):
    fresh, _ = run(checkpoint, tmp_path / "fresh.jsonl", n_samples=2, temperature=0.8)
    out = tmp_path / "resumed.jsonl"
    kept = [fresh[i] for i in (4, 0, 7)]  # written out of order, as batches of sorted prompts are
    out.write_text("".join(json.dumps(s) + "\n" for s in kept) + json.dumps(fresh[1])[:30])  # a torn last line
    resumed, stats = run(checkpoint, out, n_samples=2, temperature=0.8)
    assert resumed == fresh
    assert stats["resumed"] == len(kept) and stats["samples"] == len(fresh) - len(kept)
    _, stats = run(checkpoint, out, n_samples=2, temperature=0.8)
    assert stats["samples"] == 0 and out.read_text().splitlines() == [json.dumps(s) for s in fresh]


def test_missing_checkpoint(tmp_path):
    missing = tmp_path / "no-such-checkpoint"
    with pytest.raises(InputError, match="no-such-checkpoint") as e:
        generate_samples(str(missing), PROMPTS, str(tmp_path / "s.jsonl"))
    assert e.value.path == str(missing)


def test_corrupt_checkpoint(checkpoint, tmp_path):
    broken = tmp_path / "broken"
    broken.mkdir()
    for file in Path(checkpoint).iterdir():
        data = file.read_bytes()
        (broken / file.name).write_bytes(data[:100] if file.suffix == ".safetensors" else data)
    with pytest.raises(InputError, match="broken"):
        generate_samples(str(broken), PROMPTS, str(tmp_path / "s.jsonl"))


def test_solution_likelihood_is_the_models_loss_on_the_target_given_the_prompt(checkpoint):
    model, tokenizer = load_checkpoint(checkpoint)
    prompts = [{"task_id": "T/0", "prompt": PROMPTS[0]["prompt"], "target": "    return a + b\n"},
               {"task_id": "T/1", "prompt": "x"},  # no reference: left out
               {"task_id": "T/2", "prompt": "y = [" * 200, "target": "1]\n" * 200}]  # beyond the 256 positions
    rows = solution_likelihood(model, tokenizer, prompts)
    assert [r["task_id"] for r in rows] == ["T/0", "T/2"]
    context, target = (tokenizer(t)["input_ids"] for t in (prompts[0]["prompt"], prompts[0]["target"]))
    ids = torch.tensor([context + target])
    labels = ids.clone()
    labels[0, :len(context)] = -100  # Hugging Face's loss over the target's tokens alone
    with torch.inference_mode():
        loss = model(ids, labels=labels).loss.item()
    assert rows[0]["tokens"] == len(target) and rows[0]["bytes"] == len(prompts[0]["target"])
    assert rows[0]["nll"] == pytest.approx(loss * len(target), rel=1e-4)
    assert rows[1]["tokens"] == 255 and rows[1]["nll"] > 0  # the target cut to fit, the prompt dropped first


def test_samples_stats_carry_the_solution_likelihood(checkpoint, tmp_path):
    prompts = [{**PROMPTS[0], "target": "    return a + b\n"}, PROMPTS[1]]
    stats = generate_samples(checkpoint, prompts, str(tmp_path / "s.jsonl"), max_new_tokens=4)
    assert [r["task_id"] for r in stats["solution_likelihood"]] == ["T/0"]
