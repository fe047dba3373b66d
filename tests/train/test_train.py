"""The phi-1 model family and the DeepSpeed training loop, on the CPU with a tiny model."""

import hashlib
import importlib.util
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import torch
import yaml
from safetensors.torch import load_file
from transformers import AutoTokenizer

from phi1repro.errors import InputError
from phi1repro.tokens.tokenizer import train_tokenizer
from phi1repro.train.data import TokenSequences, split_windows, step_indices
from phi1repro.train.model import build_model, count_parameters, flops_per_token, phi_config

pytestmark = pytest.mark.usefixtures("one_torch_thread")

REPO = Path(__file__).resolve().parents[2]
PHI1 = {"layers": 24, "hidden": 2048, "intermediate": 8192, "heads": 32, "rotary_dim": 32, "max_positions": 2048}
PHI1_SMALL = {"layers": 20, "hidden": 1024, "intermediate": 4096, "heads": 16, "rotary_dim": 32, "max_positions": 2048}
TINY = {"layers": 2, "hidden": 64, "intermediate": 256, "heads": 4, "rotary_dim": 8, "max_positions": 32}
CODE = [
    "def add(a, b):\n    return a + b\n",
    "def total(values):\n    result = 0\n    for value in values:\n        result += value\n    return result\n",
    "class Stack:\n    def __init__(self):\n        self.items = []\n",
]
# One thread: the same numerics in this process and in the subprocesses (torchrun sets it too),
# and no spinning threads fighting over two cores.
ENV = {**os.environ, "OMP_NUM_THREADS": "1"}


def recipe(**changes) -> dict:
    return {"size": TINY, "seq_len": 32, "steps": 30, "global_batch": 8, "micro_batch": 4, "lr": 3e-3, "warmup": 3,
            "weight_decay": 0.1, "dropout": 0.1, "precision": "fp32", "zero_stage": 0, "seed": 7,
            "checkpoint_every": 10, "log_every": 5, **changes}


def write_shard(stem: Path, tokens, eos_id: int, vocab_size: int) -> str:
    """A token shard as the tokenizer module writes it: {stem}.bin and its index {stem}.json."""
    data = np.asarray(tokens, dtype="<u2").tobytes()
    stem.with_suffix(".bin").write_bytes(data)
    index = {"tokens": len(tokens), "documents": int(np.sum(np.asarray(tokens) == eos_id)), "dtype": "uint16",
             "eos_id": eos_id, "vocab_size": vocab_size, "tokenizer_sha256": "0" * 64,
             "sha256": hashlib.sha256(data).hexdigest()}
    stem.with_suffix(".json").write_text(json.dumps(index))
    return str(stem.with_suffix(".json"))


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    """A byte-level BPE tokenizer and two shards of the same few functions over and over."""
    root = tmp_path_factory.mktemp("corpus")
    pq.write_table(pa.table({"text": CODE * 5}), root / "code.parquet")
    train_tokenizer([str(root / "code.parquet")], 300, str(root / "tokenizer"))
    tok = AutoTokenizer.from_pretrained(root / "tokenizer")
    docs = [tok(c)["input_ids"] + [tok.eos_token_id] for c in CODE]
    rng = np.random.default_rng(0)
    shards = [write_shard(root / f"shard-{i}", np.concatenate([docs[j] for j in rng.integers(0, 3, 150)]),
                          tok.eos_token_id, len(tok)) for i in range(2)]
    return {"root": root, "tokenizer": str(root / "tokenizer"), "shards": shards}


def run_train(corpus, out, export, **kw):
    from phi1repro.train.trainer import train

    return train(kw.pop("recipe", None) or recipe(), corpus["shards"], corpus["tokenizer"], str(out), str(export), **kw)


def cli(corpus, tmp_path, r: dict, out, export):
    (tmp_path / "recipe.json").write_text(json.dumps(r))
    return [sys.executable, "-m", "phi1repro.train", "--recipe", str(tmp_path / "recipe.json"),
            "--data", *corpus["shards"], "--tokenizer", corpus["tokenizer"], "--out", str(out), "--export", str(export)]


def log_records(out) -> list[dict]:
    return [json.loads(line) for line in (Path(out) / "log.jsonl").read_text().splitlines()]


def weights(export) -> dict[str, torch.Tensor]:
    return load_file(Path(export) / "model.safetensors")


# --- the model family ---------------------------------------------------------------------


def test_parameter_counts():
    phi1 = count_parameters(phi_config(PHI1, 51200, 0.0))
    assert round(phi1["total"] / 1e9, 3) == 1.418
    assert phi1["total"] - phi1["non_embedding"] == 51200 * 2048
    small = count_parameters(phi_config(PHI1_SMALL, 51200, 0.0))
    print(f"phi1_small: {small['total'] / 1e6:.1f}M parameters ({small['non_embedding'] / 1e6:.1f}M non-embedding)")
    assert 300e6 < small["total"] < 400e6
    tokens = 6 * phi1["non_embedding"] + 12 * 24 * 2048 * 2048
    assert flops_per_token(phi_config(PHI1, 51200, 0.0), 2048) == tokens


def test_phi_config():
    config = phi_config(TINY, 300, 0.1, bos_token_id=0, eos_token_id=0)
    assert config.vocab_size == 320  # padded up to a multiple of 64
    assert phi_config(PHI1, 50295, 0.0).vocab_size == 50304
    assert phi_config({**PHI1, "vocab_size": 51200}, 50295, 0.0).vocab_size == 51200
    assert config.rope_parameters["partial_rotary_factor"] == 8 / 16
    assert (config.resid_pdrop, config.embd_pdrop, config.attention_dropout) == (0.1, 0.1, 0.1)
    assert not config.tie_word_embeddings and config.hidden_act == "gelu_new" and config.eos_token_id == 0
    model = build_model(config)
    assert model.lm_head.weight.data_ptr() != model.model.embed_tokens.weight.data_ptr()
    with pytest.raises(ValueError, match="rotary_dim"):
        phi_config({**TINY, "rotary_dim": 32}, 300, 0.0)
    with pytest.raises(ValueError, match="attention"):
        phi_config(TINY, 300, 0.0, attention="flash")


@pytest.mark.skipif(importlib.util.find_spec("flash_attn") is not None, reason="flash_attn is installed")
def test_flash_attention_needs_flash_attn():
    with pytest.raises(ValueError, match="flash_attn"):
        phi_config(TINY, 300, 0.0, attention="flash_attention_2")


# --- data ---------------------------------------------------------------------------------


def test_token_sequences(tmp_path):
    a = write_shard(tmp_path / "a", np.arange(100), 99, 300)  # 100 tokens: 3 windows of 33, 1 left over
    b = write_shard(tmp_path / "b", np.arange(200, 240), 99, 300)  # 1 window
    data = TokenSequences([a, b], seq_len=32)
    assert len(data) == 4 and (data.eos_id, data.vocab_size, data.tokens) == (99, 300, 140)
    batch = data.get(np.array([3, 1]))
    assert batch.dtype == torch.int64 and batch.shape == (2, 33)
    assert batch[0].tolist() == list(range(200, 233)) and batch[1].tolist() == list(range(33, 66))

    Path(b).with_suffix(".bin").write_bytes(np.arange(200, 239, dtype="<u2").tobytes())  # one token short
    with pytest.raises(InputError, match="b.bin.*truncated"):
        TokenSequences([a, b], seq_len=32)
    c = write_shard(tmp_path / "c", np.arange(40), 7, 300)
    with pytest.raises(InputError, match="c.json: eos_id 7 differs"):
        TokenSequences([a, c], seq_len=32)


def test_step_indices():
    n, batch = 10, 4
    first = [step_indices(n, 1, s, batch) for s in range(5)]  # 20 samples: two epochs
    assert np.array_equal(step_indices(n, 1, 3, batch), first[3])  # a function of (seed, step)
    order = np.concatenate(first)
    assert sorted(order[:10]) == list(range(10)) and sorted(order[10:]) == list(range(10))
    assert not np.array_equal(order[:10], order[10:])  # a new permutation each epoch
    assert not np.array_equal(step_indices(n, 2, 0, batch), first[0])


# --- training -----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def trained(corpus, tmp_path_factory):
    """The tiny model trained for 30 steps in this process."""
    root = tmp_path_factory.mktemp("trained")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("PHI1_PEAK_FLOPS", "1e11")
        summary = run_train(corpus, root / "out", root / "export")
    return {"summary": summary, "out": root / "out", "export": root / "export"}


def test_loss_falls(trained):
    records = log_records(trained["out"])
    assert [r["step"] for r in records] == [5, 10, 15, 20, 25, 30]
    assert set(records[0]) == {"step", "loss", "lr", "grad_norm", "tokens_per_s", "mfu", "loss_scale"}
    assert records[0]["loss"] > 4 and records[-1]["loss"] < 0.6 * records[0]["loss"]
    assert all(r["grad_norm"] > 0 and r["tokens_per_s"] > 0 and r["mfu"] > 0 for r in records)
    assert records[-1]["lr"] < records[0]["lr"]  # decaying
    print(f"tiny model on the CPU: {records[-1]['tokens_per_s']:.0f} tokens/s, loss {records[0]['loss']:.2f} -> "
          f"{records[-1]['loss']:.2f}")
    summary = trained["summary"]
    assert summary["final_loss"] == records[-1]["loss"]
    assert (summary["steps"], summary["tokens_seen"], summary["gradient_accumulation_steps"]) == (30, 30 * 8 * 32, 2)
    out = trained["out"]
    assert (out / "latest").read_text() == "step000030"
    assert sorted(p.name for p in out.glob("step*")) == ["step000020", "step000030"]  # the newest two
    assert list((out / "tensorboard").glob("events.out.tfevents.*"))


def test_export_gives_the_trainers_logits(trained, corpus):
    from transformers import AutoModelForCausalLM

    export = trained["export"]
    model = AutoModelForCausalLM.from_pretrained(export).eval()
    training = json.loads((export / "training.json").read_text())
    assert training["final_loss"] == trained["summary"]["final_loss"] and training["recipe"]["steps"] == 30
    assert [d["sha256"] for d in training["data"]] == [hashlib.sha256(Path(p).read_bytes()).hexdigest()
                                                       for p in corpus["shards"]]
    tok = AutoTokenizer.from_pretrained(export)
    # the trainer's model: the module weights of its last DeepSpeed checkpoint
    state = torch.load(trained["out"] / "step000030" / "mp_rank_00_model_states.pt", weights_only=False)["module"]
    trainer_model = build_model(model.config).eval()
    trainer_model.load_state_dict(state)
    ids = torch.tensor([tok(CODE[1])["input_ids"]])
    with torch.no_grad():
        export_logits, trainer_logits = model(ids).logits, trainer_model(ids).logits
    print(f"export vs trainer logits: max abs diff {(export_logits - trainer_logits).abs().max().item()}")
    torch.testing.assert_close(export_logits, trainer_logits, rtol=0, atol=0)


def test_init_from_starts_from_the_export(trained, corpus, tmp_path):
    # lr 0: the finetuned model is its starting point
    summary = run_train(corpus, tmp_path / "out", tmp_path / "export", init_from=str(trained["export"]),
                        recipe=recipe(steps=2, lr=0.0, warmup=0, log_every=1))
    assert summary["init_from"] == str(trained["export"])
    assert [r["step"] for r in log_records(tmp_path / "out")] == [1, 2]  # a fresh run from step 0
    assert log_records(tmp_path / "out")[0]["loss"] < 2 * trained["summary"]["final_loss"]
    base, tuned = weights(trained["export"]), weights(tmp_path / "export")
    assert base.keys() == tuned.keys() and all(torch.equal(base[k], tuned[k]) for k in base)
    with pytest.raises(InputError, match="cannot load the model to start from"):
        run_train(corpus, tmp_path / "out2", tmp_path / "export2", init_from=str(tmp_path / "missing"))
    with pytest.raises(InputError, match="do not fit the recipe's model size: 14 missing keys"):
        run_train(corpus, tmp_path / "out2", tmp_path / "export2", init_from=str(trained["export"]),
                  recipe=recipe(size={**TINY, "layers": 3}))


def test_bad_recipe(corpus, tmp_path):
    with pytest.raises(ValueError, match=r"global_batch 10 is not a multiple of micro_batch 4"):
        run_train(corpus, tmp_path / "out", tmp_path / "export", recipe=recipe(global_batch=10))
    with pytest.raises(ValueError, match="unknown key learning_rate"):
        run_train(corpus, tmp_path / "out", tmp_path / "export", recipe={**recipe(), "learning_rate": 1e-3})
    with pytest.raises(ValueError, match="recipe compile must be true or false, not 'yes'"):
        run_train(corpus, tmp_path / "out", tmp_path / "export", recipe=recipe(compile="yes"))


def test_cli_reports_bad_inputs(corpus, tmp_path, capsys):
    from phi1repro.train.__main__ import main

    args = cli(corpus, tmp_path, recipe(global_batch=10), tmp_path / "out", tmp_path / "export")[3:]
    assert main(args) == 1
    assert "global_batch 10 is not a multiple of micro_batch 4" in capsys.readouterr().err
    shard = Path(corpus["shards"][0])
    truncated = tmp_path / "trunc.json"
    truncated.write_text(shard.read_text())
    truncated.with_suffix(".bin").write_bytes(shard.with_suffix(".bin").read_bytes()[:-2])
    args = cli({**corpus, "shards": [str(truncated)]}, tmp_path, recipe(), tmp_path / "out", tmp_path / "export")[3:]
    assert main(args) == 1
    err = capsys.readouterr().err
    assert f"{truncated.with_suffix('.bin')}: " in err and "truncated" in err and "Traceback" not in err
    assert not (tmp_path / "export").exists()


def wait_for(proc: subprocess.Popen, condition, what: str, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert proc.poll() is None, f"the run ended (rc {proc.returncode}) before {what}"
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.005)


@pytest.mark.slow
def test_interrupted_runs_resume_exactly(corpus, tmp_path):
    """SIGTERM (saves, exits 143), then SIGKILL, then a run to the end: the weights of an uninterrupted run."""
    r = recipe(steps=100, checkpoint_every=20, log_every=10, zero_stage=1)
    run_train(corpus, tmp_path / "ref", tmp_path / "ref-export", recipe=r)
    out, export = tmp_path / "out", tmp_path / "export"
    command = cli(corpus, tmp_path, r, out, export)
    latest = out / "latest"

    proc = subprocess.Popen(command, env=ENV, cwd=REPO, stderr=subprocess.PIPE, text=True)
    wait_for(proc, latest.exists, "the first checkpoint")
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 128 + signal.SIGTERM, err[-3000:]
    assert "stopped by SIGTERM" in err and not export.exists()
    stopped_at = latest.read_text()
    assert stopped_at != "step000020"  # the signal's own checkpoint, at the end of the step it came in

    proc = subprocess.Popen(command, env=ENV, cwd=REPO, stderr=subprocess.DEVNULL)
    wait_for(proc, lambda: latest.read_text() != stopped_at, "a checkpoint after the resumed one")
    proc.kill()
    assert proc.wait() == -signal.SIGKILL and not export.exists()

    done = subprocess.run(command, env=ENV, cwd=REPO, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    reference, resumed = weights(tmp_path / "ref-export"), weights(export)
    assert reference.keys() == resumed.keys()
    assert all(torch.equal(reference[k], resumed[k]) for k in reference)
    assert [x["step"] for x in log_records(out)] == list(range(10, 101, 10))  # no step twice
    assert log_records(out) == [{**x, "tokens_per_s": y["tokens_per_s"]}
                                for x, y in zip(log_records(tmp_path / "ref"), log_records(out))]


def train_cli(corpus, tmp_path, r: dict, out, export) -> subprocess.CompletedProcess:
    """`python -m phi1repro.train`, the command the workflow's train rule runs on a CPU."""
    done = subprocess.run(cli(corpus, tmp_path, r, out, export), env=ENV, cwd=REPO, capture_output=True, text=True,
                          timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    return done


def trainer_weights(out, tag: str) -> dict[str, torch.Tensor]:
    """The trainer's own model: the module weights of its DeepSpeed checkpoint `tag`, in the dtype it trained in."""
    return torch.load(Path(out) / tag / "mp_rank_00_model_states.pt", weights_only=False)["module"]


def test_bf16_trains_and_exports_the_trainers_logits(corpus, tmp_path):
    """bf16 on the CPU with ZeRO 2, which keeps the master weights and gradients in fp32."""
    from phi1repro.evaluate.generate import load_checkpoint

    out, export = tmp_path / "out", tmp_path / "export"
    train_cli(corpus, tmp_path, recipe(precision="bf16", zero_stage=2), out, export)
    records = log_records(out)
    assert records[0]["loss"] > 4 and records[-1]["loss"] < 0.6 * records[0]["loss"]
    assert json.loads((export / "training.json").read_text())["precision"] == {"asked": "bf16", "used": "bf16",
                                                                               "reason": None}
    state = trainer_weights(out, "step000030")
    assert {v.dtype for v in state.values()} == {torch.bfloat16}
    model, tok = load_checkpoint(str(export))  # as the evaluation loads it: fp32 on a CPU
    trainer_model = build_model(model.config).to(torch.bfloat16).eval()
    trainer_model.load_state_dict(state)
    ids = torch.tensor([tok(CODE[1])["input_ids"]])
    with torch.no_grad():
        export_logits, trainer_logits = model(ids).logits, trainer_model(ids).logits.float()
    # The trainer computes in bf16, which keeps 8 significant bits: every activation, the logits too, is
    # rounded to a step of up to eps = 2^-7 of its size. So the logits agree to one such step at their scale,
    # eps x max |logit| (observed: about a third of it), not bit for bit as in fp32.
    tolerance = torch.finfo(torch.bfloat16).eps * export_logits.abs().max().item()
    print(f"bf16 export vs trainer logits: max abs diff {(export_logits - trainer_logits).abs().max().item():.4g}, "
          f"tolerance {tolerance:.4g}")
    torch.testing.assert_close(export_logits, trainer_logits, rtol=0, atol=tolerance)


def test_the_paper_fp16_recipe_trains_in_fp32_on_a_cpu_and_says_so(corpus, tmp_path):
    from phi1repro.config import validate_config

    settings = validate_config(yaml.safe_load((REPO / "config.yaml").read_text()),
                               REPO / "schemas/config.schema.yaml")["train"]
    assert settings["precision"] == "fp16", "config.yaml's recipe no longer asks for fp16"
    # config.yaml's training settings as rules/common.smk's train_recipe passes them, at the tiny model's scale
    r = recipe(**{k: settings[k] for k in ("precision", "zero_stage", "attention", "compile", "dropout", "grad_clip",
                                           "seed")})
    out, export = tmp_path / "out", tmp_path / "export"
    done = train_cli(corpus, tmp_path, r, out, export)
    reason = "DeepSpeed has no fp16 on the CPU"
    assert f"recipe precision fp16: training in fp32 ({reason})" in done.stderr
    training = json.loads((export / "training.json").read_text())
    assert training["precision"] == {"asked": "fp16", "used": "fp32", "reason": reason}
    assert training["recipe"]["precision"] == "fp16"
    assert {v.dtype for v in trainer_weights(out, "step000030").values()} == {torch.float32}
    records = log_records(out)
    assert all(x["loss_scale"] is None for x in records)  # no fp16 loss scaling
    assert records[-1]["loss"] < 0.6 * records[0]["loss"]


TRAIN_RULE = """\
config["train"] = {{"cpus": 2}}


def train_inputs(wildcards):
    return {{"data": {data!r}, "tokenizer": {tokenizer!r}}}


def train_recipe(wildcards):
    return {recipe!r}


def train_resources():  # what rules/common.smk asks for with train.gpus 2 on one node
    return {{"gpu": 2, "nodes": 1, "launcher": "torchrun"}}


include: {rule!r}
"""


@pytest.mark.slow
def test_the_train_rule_launches_two_torchrun_processes(corpus, tmp_path):
    """The train rule (scripts/train.py) with 2 GPUs a node: `torchrun --standalone` with two processes, here
    two gloo processes on the CPU (ZeRO 2, half the accumulation), which train as one process does."""
    r = recipe(micro_batch=2, dropout=0.0, zero_stage=2)
    single = run_train(corpus, tmp_path / "one", tmp_path / "one-export", recipe=r)
    snakefile = tmp_path / "Snakefile"
    snakefile.write_text(TRAIN_RULE.format(data=corpus["shards"], tokenizer=corpus["tokenizer"], recipe=r,
                                           rule=str(REPO / "rules/train.smk")))
    workdir = tmp_path / "work"
    done = subprocess.run([sys.executable, "-m", "snakemake", "-s", str(snakefile), "-d", str(workdir), "--cores", "2",
                           "results/checkpoints/tiny"], env=ENV, cwd=REPO, capture_output=True, text=True, timeout=300)
    log = workdir / "logs/train/tiny.log"
    assert done.returncode == 0, done.stderr[-3000:] + (log.read_text()[-3000:] if log.exists() else "")
    assert "-m torch.distributed.run --standalone --nproc_per_node=2 -m phi1repro.train" in log.read_text()
    export = workdir / "results/checkpoints/tiny"
    two = json.loads((export / "training.json").read_text())
    assert (two["world_size"], two["gradient_accumulation_steps"], two["launch"]["WORLD_SIZE"]) == (2, 2, "2")
    assert (single["world_size"], single["gradient_accumulation_steps"]) == (1, 4)
    assert two["steps"] == 30 and two["tokens_seen"] == single["tokens_seen"]
    assert two["final_loss"] == pytest.approx(single["final_loss"], rel=1e-4)
    a, b = weights(tmp_path / "one-export"), weights(export)
    assert all(torch.allclose(a[k], b[k], atol=1e-4) for k in a)


def test_held_out_windows_are_never_trained_on():
    train_ids, held = split_windows(100, 10, seed=3)
    assert len(held) == 10 and len(train_ids) == 90 and not set(held) & set(train_ids)
    assert np.array_equal(split_windows(100, 10, seed=3)[1], held)
    seen = {int(i) for step in range(40) for i in train_ids[step_indices(len(train_ids), 3, step, 8)]}
    assert seen == set(map(int, train_ids))  # every training window, and no held-out one
    assert np.array_equal(split_windows(50, 0, seed=3)[0], np.arange(50))  # none held out: the old order
    with pytest.raises(ValueError, match="eval_sequences 50 leaves none"):
        split_windows(50, 50, seed=3)


def write_pairs(path: Path) -> str:
    records = [{"task_id": f"RealCode/{i}", "prompt": code.split("\n", 1)[0] + "\n",
                "canonical_solution": code.split("\n", 1)[1], "entry_point": "f", "test": ""}
               for i, code in enumerate(CODE)]
    path.write_text("".join(json.dumps(r) + "\n" for r in records))
    return str(path)


def test_validation_loss_is_logged_and_the_best_evaluation_exported(corpus, tmp_path):
    pairs = write_pairs(tmp_path / "realcode.jsonl")
    summary = run_train(corpus, tmp_path / "run", tmp_path / "model", validation=pairs,
                        recipe=recipe(steps=20, eval_every=5, eval_sequences=4, export="best"))
    evaluations = summary["evaluations"]
    assert [e["step"] for e in evaluations] == [5, 10, 15, 20]
    assert all(e["own_loss"] > 0 and e["realcode_nll"] > 0 for e in evaluations)
    best = min(evaluations, key=lambda e: e["realcode_nll"])
    assert summary["best"] == {"step": best["step"], "realcode_nll": best["realcode_nll"]}
    assert summary["exported_step"] == best["step"] and summary["held_out_windows"] == 4
    assert summary["tokens_seen"] == best["step"] * 8 * 32  # by the exported weights
    assert summary["validation"]["pairs"] == 3
    logged = [r for r in log_records(tmp_path / "run") if "realcode_nll" in r]
    assert logged == evaluations
    saved = json.loads((tmp_path / "model" / "training.json").read_text())
    assert saved["evaluations"] == evaluations and list((tmp_path / "run").glob("best-step*"))

    # the export holds the best evaluation's weights: its real-code NLL is the one measured then
    from phi1repro.evaluate.generate import load_checkpoint
    from phi1repro.evaluate.likelihood import solution_likelihood

    model, tok = load_checkpoint(str(tmp_path / "model"))
    records = [json.loads(line) for line in Path(pairs).read_text().splitlines()]
    rows = solution_likelihood(model, tok, [{"task_id": r["task_id"], "prompt": r["prompt"],
                                             "target": r["canonical_solution"]} for r in records], positions=32)
    assert sum(r["nll"] for r in rows) / sum(r["tokens"] for r in rows) == pytest.approx(best["realcode_nll"],
                                                                                          abs=1e-3)


def test_export_best_needs_a_validation_set(corpus, tmp_path):
    with pytest.raises(ValueError, match="export 'best' needs eval_every and a validation set"):
        run_train(corpus, tmp_path / "run", tmp_path / "model", recipe=recipe(eval_every=5, export="best"))
