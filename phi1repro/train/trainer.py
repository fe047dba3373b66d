"""The training loop: DeepSpeed data parallel (ZeRO 0-2) on one process, torchrun or a CPU.

    train(recipe, ["codetextbook-00000.json", ...], "tokenizer/", "runs/phi1_base", "models/phi1_base")

The recipe (a dict, as JSON for the CLI) needs size (see model.py), seq_len, steps (the step to
train to), global_batch (sequences per step, over all processes), micro_batch (per process),
lr, warmup and precision (fp32, fp16, bf16); the rest default as in DEFAULTS: schedule_steps
(the LR schedule's length; phi-1-base is step 24k of a 36k schedule), min_lr, weight_decay (on
matrices and embeddings only), betas, eps, grad_clip, dropout, zero_stage (0-2), seed,
checkpoint_every, log_every, attention (sdpa, flash_attention_2, eager) and compile
(torch.compile of the model through DeepSpeed, inductor backend). Gradient
accumulation is global_batch / (micro_batch x processes), so a run's batches do not depend on
how many processes train it.

Every device runs a DeepSpeed engine, the CPU too (DS_ACCELERATOR=cpu, gloo), so CI runs the
code path of a GPU run. On the CPU DeepSpeed has no fp16: a recipe asking for it trains in
fp32 there and says so, in its log and in training.json's precision (asked, used, reason); bf16
works, but with ZeRO stage 0 DeepSpeed accumulates its gradients in bf16, so bf16 wants ZeRO 1
or 2. Without torchrun's RANK/WORLD_SIZE the run is one process.

Resuming is exact. The batches of a step depend only on (seed, step) (see data.py), dropout is
seeded per step and rank, and a checkpoint holds the weights, optimizer and LR schedule. A run
started again with the same arguments continues from `{out_dir}/latest` and ends with the
weights of an uninterrupted run, bit for bit (on the CPU; on GPUs up to the nondeterminism of
some CUDA kernels). `latest` is written (atomically) only once every rank has finished writing
its part of the checkpoint, so an interrupted save is never loaded; the two newest are kept.

SIGTERM or SIGUSR1 (Slurm's walltime warning, scancel, requeue) finish the current step, save a
checkpoint and raise TrainingInterrupted; `python -m phi1repro.train` then exits 128 + signal
(143 for SIGTERM) so that a requeued job picks up from there. torchrun forwards SIGTERM to its
workers, which do the same, and exits 1 itself.

Rank 0 logs to {out_dir}/log.jsonl and {out_dir}/tensorboard/ every log_every steps, shows a
progress bar with loss, tokens/s and MFU, and at the end exports the model in Hugging Face
format with its tokenizer and training.json.
"""

from __future__ import annotations

import json
import logging
import math
import os
import re
import shutil
import signal
import socket
import threading
import time
from pathlib import Path

import numpy as np
import torch
import torch.distributed as dist
import torch.nn.functional as F
import transformers
from transformers import AutoTokenizer, PhiConfig, PhiForCausalLM

if not torch.cuda.is_available():
    os.environ.setdefault("DS_ACCELERATOR", "cpu")  # before DeepSpeed picks its accelerator
import deepspeed  # noqa: E402

from ..errors import InputError  # noqa: E402
from ..io import atomic_path, file_sha256, write_json  # noqa: E402
from ..progress import progress  # noqa: E402
from ..evaluate.likelihood import solution_likelihood  # noqa: E402
from .data import TokenSequences, split_windows, step_indices  # noqa: E402
from .model import build_model, count_parameters, flops_per_token, phi_config  # noqa: E402

log = logging.getLogger(__name__)

REQUIRED = ("size", "seq_len", "steps", "global_batch", "micro_batch", "lr", "warmup", "precision")
DEFAULTS = {"schedule_steps": None, "min_lr": 0.0, "weight_decay": 0.0, "betas": [0.9, 0.95], "eps": 1e-8,
            "grad_clip": 1.0, "dropout": 0.0, "zero_stage": 0, "seed": 0, "checkpoint_every": 1000,
            "log_every": 10, "attention": "sdpa", "compile": False, "eval_every": 0, "eval_sequences": 0,
            "export": "last"}
EXPORTS = ("last", "best")  # the weights of the last step, or of the evaluation with the lowest real-code loss
PRECISIONS = ("fp32", "fp16", "bf16")
# Recipe keys that may change when a run is resumed: how far it goes and how often it reports.
RESUMABLE_CHANGES = ("steps", "checkpoint_every", "log_every", "compile")
# Dense bf16/fp16 tensor-core peaks, by device name (first match); PHI1_PEAK_FLOPS overrides.
PEAK_FLOPS = (("H200", 989e12), ("H100 PCIe", 756e12), ("H100", 989e12), ("A100", 312e12))
KEEP_CHECKPOINTS = 2
# Where a run trained, for its provenance (Slurm's job, partition and GPUs; torchrun's world).
LAUNCH_VARIABLES = ("SLURM_JOB_ID", "SLURM_JOB_PARTITION", "SLURM_JOB_NODELIST", "CUDA_VISIBLE_DEVICES", "WORLD_SIZE")
TAG = re.compile(r"step(\d+)")


class TrainingInterrupted(Exception):
    """A stop signal ended training early, after a checkpoint; run again to continue."""

    def __init__(self, signum: int, step: int):
        self.signum, self.step = signum, step
        super().__init__(f"stopped by {signal.Signals(signum).name} after step {step} (checkpoint saved)")


def check_recipe(recipe: dict, world: int = 1) -> dict:
    """The recipe with its defaults filled in, checked; errors name the keys at fault."""
    missing = [k for k in REQUIRED if k not in recipe]
    unknown = sorted(set(recipe) - set(REQUIRED) - set(DEFAULTS))
    if missing or unknown:
        raise ValueError("recipe: " + "; ".join(([f"missing {', '.join(missing)}"] if missing else [])
                                               + ([f"unknown key {', '.join(unknown)}"] if unknown else [])))
    r = {**DEFAULTS, **recipe}
    r["schedule_steps"] = r["schedule_steps"] or r["steps"]
    if r["precision"] not in PRECISIONS:
        raise ValueError(f"recipe precision {r['precision']!r} is not one of {', '.join(PRECISIONS)}")
    if r["zero_stage"] not in (0, 1, 2):
        raise ValueError(f"recipe zero_stage {r['zero_stage']!r} is not 0, 1 or 2")
    for key in ("seq_len", "steps", "global_batch", "micro_batch", "checkpoint_every", "log_every"):
        if not (isinstance(r[key], int) and r[key] > 0):
            raise ValueError(f"recipe {key} must be a positive integer, not {r[key]!r}")
    for key in ("eval_every", "eval_sequences"):
        if not (isinstance(r[key], int) and r[key] >= 0):
            raise ValueError(f"recipe {key} must be a whole number, not {r[key]!r}")
    if r["export"] not in EXPORTS:
        raise ValueError(f"recipe export {r['export']!r} is not one of {', '.join(EXPORTS)}")
    if not (0 <= r["warmup"] <= r["schedule_steps"] and r["steps"] <= r["schedule_steps"] and r["lr"] >= 0):
        raise ValueError(f"recipe: need warmup ({r['warmup']}) and steps ({r['steps']}) within schedule_steps "
                         f"({r['schedule_steps']}), and lr >= 0")
    if r["seq_len"] > r["size"].get("max_positions", 0):
        raise ValueError(f"recipe seq_len {r['seq_len']} exceeds the model's max_positions "
                         f"{r['size'].get('max_positions')}")
    if not isinstance(r["compile"], bool):
        raise ValueError(f"recipe compile must be true or false, not {r['compile']!r}")
    if r["attention"] == "flash_attention_2" and r["precision"] == "fp32":
        raise ValueError("recipe: attention flash_attention_2 needs precision fp16 or bf16")
    if r["global_batch"] % (r["micro_batch"] * world):
        raise ValueError(f"recipe global_batch {r['global_batch']} is not a multiple of micro_batch "
                         f"{r['micro_batch']} x {world} processes: gradient accumulation steps must be a whole number")
    return r


def deepspeed_config(r: dict, world: int, precision: str) -> dict:
    """The DeepSpeed config of a checked recipe; the optimizer and schedule are built in train()."""
    cfg = {
        "train_batch_size": r["global_batch"],
        "train_micro_batch_size_per_gpu": r["micro_batch"],
        "gradient_accumulation_steps": r["global_batch"] // (r["micro_batch"] * world),
        "gradient_clipping": r["grad_clip"],
        "zero_optimization": {"stage": r["zero_stage"]},
        "steps_per_print": 2**62,  # the loop reports
    }
    if precision == "fp16":
        cfg["fp16"] = {"enabled": True, "loss_scale": 0, "initial_scale_power": 16}  # dynamic loss scaling
    elif precision == "bf16":
        cfg["bf16"] = {"enabled": True}
    return cfg


def training_precision(asked: str, device: torch.device) -> dict:
    """The precision asked for, the one trained in and why they differ (None when they do not)."""
    if asked == "fp16" and device.type == "cpu":
        return {"asked": asked, "used": "fp32", "reason": "DeepSpeed has no fp16 on the CPU"}
    return {"asked": asked, "used": asked, "reason": None}


def lr_lambda(r: dict):
    """The LR factor of an optimizer step: linear warmup, then linear decay to min_lr at schedule_steps."""
    warmup, total, floor = r["warmup"], r["schedule_steps"], r["min_lr"] / r["lr"] if r["lr"] else 0.0

    def factor(step: int) -> float:
        if step < warmup:
            return (step + 1) / (warmup + 1)
        done = min(1.0, (step - warmup) / max(1, total - warmup))
        return floor + (1.0 - floor) * (1.0 - done)

    return factor


def peak_flops(device: torch.device) -> float | None:
    """The device's peak FLOP/s for MFU: PHI1_PEAK_FLOPS, else the GPU table; None when unknown."""
    if os.environ.get("PHI1_PEAK_FLOPS"):
        return float(os.environ["PHI1_PEAK_FLOPS"])
    if device.type == "cuda":
        name = torch.cuda.get_device_name(device)
        return next((flops for key, flops in PEAK_FLOPS if key in name), None)
    return None


def train(recipe: dict, data: list[str], tokenizer: str, out_dir: str, export_dir: str,
          init_from: str | None = None, validation: str | None = None) -> dict:
    """Train (or resume) the recipe's model on token shards; export it; return training.json's summary.

    Every eval_every steps and at the end, it measures the loss on eval_sequences windows of its own
    data held out from training, and on `validation` (real code no teacher wrote: HumanEval-format
    records whose canonical_solution continues the prompt) the mean NLL per token of the solutions
    given the prompts. With export "best" the weights of the evaluation with the lowest real-code NLL
    are exported.

    The process group (a one-process one when not under torchrun) is left in place for further
    calls: DeepSpeed keeps its groups for the life of the process.
    """
    start_time = time.perf_counter()
    r = check_recipe(recipe, int(os.environ.get("WORLD_SIZE", 1)))
    dataset = TokenSequences(data, r["seq_len"])
    train_ids, held_out = split_windows(len(dataset), r["eval_sequences"], r["seed"])
    pairs = _read_pairs(validation) if validation else []
    if r["export"] == "best" and not (pairs and r["eval_every"]):
        raise ValueError("recipe export 'best' needs eval_every and a validation set")
    tok = _load_tokenizer(tokenizer, dataset.eos_id)
    device = _init_distributed()
    out_dir, export_dir = Path(out_dir), Path(export_dir)
    rank, world = dist.get_rank(), dist.get_world_size()
    accum = r["global_batch"] // (r["micro_batch"] * world)
    precisions = training_precision(r["precision"], device)
    precision = precisions["used"]
    if precisions["reason"]:
        log.warning("recipe precision %s: training in %s (%s)", precisions["asked"], precision, precisions["reason"])
    if precision == "bf16" and r["zero_stage"] == 0:
        log.warning("bf16 with ZeRO stage 0 accumulates gradients in bf16 (DeepSpeed); ZeRO 1 or 2 keeps them in fp32")
    config = phi_config(r["size"], dataset.vocab_size, r["dropout"], r["attention"], dataset.eos_id, dataset.eos_id)
    if len(tok) > config.vocab_size:
        raise InputError(tokenizer, f"{len(tok)} tokens, more than the {config.vocab_size} embedding rows")
    engine = _engine(r, config, init_from, precision, world, device)
    # DeepSpeed clips but does not keep the gradient norm when it steps a plain fp32 optimizer itself
    own_grad_norm = precision == "fp32" and r["zero_stage"] == 0

    start, state = 0, {"loss": None, "wall_s": 0.0, "evaluations": [], "best": None}
    tag = _latest(out_dir)
    if tag is not None:
        state = _resume(engine, out_dir, tag, r)
        start = engine.global_steps
    counts = count_parameters(config)
    fpt = flops_per_token(config, r["seq_len"])
    peak = peak_flops(device)
    if rank == 0:
        log.info("%s: %.1fM parameters (%.1fM non-embedding), %s, %d process(es) x %d micro-batches of %d, "
                 "ZeRO %d, %s; %s at step %d of %d", out_dir, counts["total"] / 1e6, counts["non_embedding"] / 1e6,
                 device.type, world, accum, r["micro_batch"], r["zero_stage"], precision,
                 "resuming" if tag else "starting", start, r["steps"])

    tokens_per_step = r["global_batch"] * r["seq_len"]
    reporter = _Reporter(out_dir, start, r["steps"]) if rank == 0 else None
    last = (start, time.perf_counter())
    engine.train()
    try:
        with _StopSignals() as stop:
            for step in range(start, r["steps"]):
                done = step + 1
                report = done % r["log_every"] == 0 or done == r["steps"]
                lr = engine.get_lr()[0]
                loss, grad_norm = _step(engine, dataset, train_ids, r, step, rank,
                                        want_grad_norm=report and own_grad_norm)
                if report:
                    state["loss"] = _mean_over_ranks(loss, world)
                    grad_norm = grad_norm if own_grad_norm else engine.get_global_grad_norm()
                    now = time.perf_counter()
                    tokens_per_s = tokens_per_step * (done - last[0]) / (now - last[1])
                    last = (done, now)
                    if reporter:
                        reporter.write({
                            "step": done, "loss": state["loss"], "lr": lr,
                            "grad_norm": None if grad_norm is None or not math.isfinite(g := float(grad_norm)) else g,
                            "tokens_per_s": round(tokens_per_s, 1),
                            "mfu": None if peak is None else round(fpt * tokens_per_s / (peak * world), 4),
                            "loss_scale": engine.optimizer.loss_scale if precision == "fp16" else None,
                        })
                if r["eval_every"] and (done % r["eval_every"] == 0 or done == r["steps"]) and (pairs or len(held_out)):
                    record = {"step": done, **_evaluate(engine, dataset, held_out, pairs, tok, r, rank, world)}
                    state["evaluations"].append(record)
                    if reporter:
                        reporter.evaluation(record)
                    if record["realcode_nll"] is not None and (
                            state["best"] is None or record["realcode_nll"] < state["best"]["realcode_nll"]):
                        state["best"] = {"step": done, "realcode_nll": record["realcode_nll"]}
                        if r["export"] == "best" and rank == 0:
                            _keep_best(engine.module, out_dir, done)
                if reporter:
                    reporter.bar.update(1)
                signum = _max_over_ranks(stop.signum, device, world)
                if done % r["checkpoint_every"] == 0 or done == r["steps"] or signum:
                    state["wall_s"] += time.perf_counter() - start_time
                    start_time = time.perf_counter()
                    _save(engine, out_dir, done, {**state, "recipe": r}, rank)
                if signum and done < r["steps"]:
                    raise TrainingInterrupted(signum, done)
    finally:
        if reporter:
            reporter.close()

    exported = state["best"]["step"] if r["export"] == "best" else r["steps"]
    summary = {
        "recipe": r, "precision": precisions, "world_size": world, "gradient_accumulation_steps": accum,
        "data": [{"index": p, "sha256": file_sha256(p), "tokens": meta["tokens"]} for p, meta in zip(data, dataset.index)],
        "tokenizer": tokenizer, "init_from": init_from, "parameters": counts, "steps": r["steps"],
        "final_loss": state["loss"], "held_out_windows": len(held_out),
        "validation": {"path": validation, "sha256": file_sha256(validation), "pairs": len(pairs)} if validation else None,
        "evaluations": state["evaluations"], "best": state["best"], "exported_step": exported,
        "tokens_seen": exported * tokens_per_step,  # by the exported weights
        "wall_s": round(state["wall_s"] + time.perf_counter() - start_time, 3),
        "versions": {"torch": torch.__version__, "deepspeed": deepspeed.__version__,
                     "transformers": transformers.__version__},
        "launch": {"host": socket.gethostname(), **{k: os.environ.get(k) for k in LAUNCH_VARIABLES}},
    }
    if rank == 0:
        if r["export"] == "best":
            _load_best(engine.module, out_dir, state["best"]["step"])
        _export(engine.module, tok, export_dir, summary)
        log.info("exported %s: final loss %.4f after %d steps, %s tokens", export_dir, state["loss"], r["steps"],
                 f"{summary['tokens_seen']:,}")
    dist.barrier()
    return summary


def _engine(r: dict, config: PhiConfig, init_from: str | None, precision: str, world: int, device: torch.device):
    """The DeepSpeed engine of a fresh (seeded) or pretrained model, AdamW and the LR schedule."""
    torch.manual_seed(r["seed"])
    model = build_model(config) if init_from is None else _load_pretrained(init_from, config)
    decay = [p for p in model.parameters() if p.dim() >= 2]  # matrices and embeddings; not biases, norms
    no_decay = [p for p in model.parameters() if p.dim() < 2]
    optimizer = torch.optim.AdamW([{"params": decay, "weight_decay": r["weight_decay"]},
                                   {"params": no_decay, "weight_decay": 0.0}],
                                  lr=r["lr"], betas=tuple(r["betas"]), eps=r["eps"], fused=device.type == "cuda")
    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, lr_lambda(r))
    engine, *_ = deepspeed.initialize(model=model, optimizer=optimizer, lr_scheduler=scheduler,
                                      config=deepspeed_config(r, world, precision))
    if r["compile"]:
        engine.compile()  # the module is compiled in place: checkpoints and the export are unchanged
    return engine


def _step(engine, dataset: TokenSequences, train_ids: np.ndarray, r: dict, step: int, rank: int,
          want_grad_norm: bool) -> tuple[torch.Tensor, float | None]:
    """One optimizer step over this rank's share of the global batch, in micro-batches; returns the
    mean loss and, when asked, the gradient norm before clipping (DeepSpeed reduces the gradients
    over ranks in the last backward)."""
    mb, accum = r["micro_batch"], engine.gradient_accumulation_steps()
    batch_ids = step_indices(len(train_ids), r["seed"], step, r["global_batch"])
    ids = train_ids[batch_ids][rank * mb * accum:][:mb * accum]
    torch.manual_seed(int(np.random.SeedSequence((r["seed"], step, rank)).generate_state(1)[0]))  # dropout
    loss_sum, grad_norm = torch.zeros((), device=engine.device), None
    for micro in range(accum):
        batch = dataset.get(ids[micro * mb:][:mb]).to(engine.device)
        logits = engine(input_ids=batch[:, :-1]).logits
        loss = F.cross_entropy(logits.flatten(0, 1).float(), batch[:, 1:].flatten())
        engine.backward(loss)  # scaled by 1 / accum
        if want_grad_norm and micro == accum - 1:
            grad_norm = _grad_norm(engine.module)
        engine.step()  # the optimizer steps after the last micro-batch
        loss_sum += loss.detach()
    return loss_sum / accum, grad_norm


def _evaluate(engine, dataset: TokenSequences, held_out: np.ndarray, pairs: list[dict], tok, r: dict, rank: int,
              world: int) -> dict:
    """The mean loss per token on the held-out windows and on the real-code solutions, each rank
    taking its share; None where there is nothing to measure."""
    model, mb = engine.module, r["micro_batch"]
    model.eval()
    sums = torch.zeros(4, dtype=torch.float64, device=engine.device)  # own loss, tokens; real-code NLL, tokens
    mine = held_out[rank::world]
    with torch.inference_mode():
        for i in range(0, len(mine), mb):
            batch = dataset.get(mine[i:i + mb]).to(engine.device)
            logits = model(input_ids=batch[:, :-1]).logits
            sums[0] += F.cross_entropy(logits.flatten(0, 1).float(), batch[:, 1:].flatten(), reduction="sum")
            sums[1] += batch[:, 1:].numel()
    rows = solution_likelihood(model, tok, pairs[rank::world], positions=r["seq_len"], desc="validation")
    sums[2] += sum(row["nll"] for row in rows)
    sums[3] += sum(row["tokens"] for row in rows)
    model.train()
    if world > 1:
        dist.all_reduce(sums)
    own, code = (round(float(sums[i] / sums[i + 1]), 4) if sums[i + 1] else None for i in (0, 2))
    return {"own_loss": own, "realcode_nll": code}


def _read_pairs(path: str) -> list[dict]:
    """Prompt and target of each real-code validation record (HumanEval's format)."""
    pairs = []
    for lineno, line in enumerate(Path(path).read_text(encoding="utf-8").splitlines(), 1):
        try:
            record = json.loads(line)
            pairs.append({"task_id": record["task_id"], "prompt": record["prompt"],
                          "target": record["canonical_solution"]})
        except (ValueError, KeyError, TypeError) as e:
            raise InputError(path, f"line {lineno}: not a record with task_id, prompt and canonical_solution "
                                   f"({type(e).__name__}: {e})") from None
    if not pairs:
        raise InputError(path, "holds no validation records")
    return pairs


def _keep_best(model: PhiForCausalLM, out_dir: Path, step: int) -> None:
    """The weights of `step`, the best so far, as out_dir/best-stepN; older ones removed."""
    from safetensors.torch import save_file

    path = out_dir / f"best-step{step:06d}.safetensors"
    with atomic_path(path) as tmp:
        save_file({k: v.contiguous() for k, v in model.state_dict().items()}, str(tmp))
    for old in out_dir.glob("best-step*"):
        if old != path:
            old.unlink(missing_ok=True)


def _load_best(model: PhiForCausalLM, out_dir: Path, step: int) -> None:
    from safetensors.torch import load_file

    path = out_dir / f"best-step{step:06d}.safetensors"
    if not path.exists():
        raise InputError(path, f"the weights of the best evaluation (step {step}) are missing")
    model.load_state_dict(load_file(path, device=str(next(model.parameters()).device)))


def _init_distributed() -> torch.device:
    """Join torchrun's process group (gloo on CPUs, NCCL on GPUs), or make a one-process group."""
    local_rank = int(os.environ.get("LOCAL_RANK", 0))
    device = torch.device("cuda", local_rank) if torch.cuda.is_available() else torch.device("cpu")
    if device.type == "cuda":
        torch.cuda.set_device(device)
        torch.backends.cuda.matmul.allow_tf32 = torch.backends.cudnn.allow_tf32 = True
    logging.getLogger("DeepSpeed").setLevel(logging.WARNING)
    backend = "nccl" if device.type == "cuda" else "gloo"
    if not dist.is_initialized():
        if "WORLD_SIZE" in os.environ:
            deepspeed.init_distributed(dist_backend=backend)
        else:  # without MPI or a launcher DeepSpeed would look for mpi4py
            os.environ.setdefault("LOCAL_RANK", "0")  # which DeepSpeed asserts is set
            dist.init_process_group(backend, store=dist.HashStore(), rank=0, world_size=1)
    return device


def _load_tokenizer(path: str, eos_id: int):
    try:
        tok = AutoTokenizer.from_pretrained(path)
    except (OSError, ValueError) as e:
        raise InputError(path, f"not a tokenizer directory ({str(e).splitlines()[0]})") from None
    if tok.eos_token_id != eos_id:
        raise InputError(path, f"end-of-text id {tok.eos_token_id}, but the token shards end documents with {eos_id}")
    return tok


def _load_pretrained(path: str, config: PhiConfig) -> PhiForCausalLM:
    """The weights of a Hugging Face export, in a model of `config` (this recipe's dropout)."""
    try:
        model, info = PhiForCausalLM.from_pretrained(path, config=config, dtype=torch.float32,
                                                     output_loading_info=True)
    except (OSError, RuntimeError, ValueError) as e:
        raise InputError(path, f"cannot load the model to start from ({str(e).splitlines()[0]})") from None
    wrong = {k.replace("_", " "): sorted(map(str, v)) for k, v in info.items() if v and k != "error_msgs"}
    if wrong:
        raise InputError(path, "weights do not fit the recipe's model size: " + "; ".join(
            f"{len(v)} {k} ({', '.join(v[:3])}{', ...' if len(v) > 3 else ''})" for k, v in wrong.items()))
    return model


def _resume(engine, out_dir: Path, tag: str, r: dict) -> dict:
    path, client = engine.load_checkpoint(str(out_dir), tag=tag)
    if path is None:
        raise InputError(out_dir / tag, "cannot load the checkpoint that 'latest' names")
    changed = [k for k in r if k not in RESUMABLE_CHANGES and client["recipe"].get(k) != r[k]]
    if changed:
        raise ValueError(f"{out_dir}: the checkpoint was trained with another recipe ({', '.join(changed)} differ); "
                         "use a new out_dir")
    return {"loss": client["loss"], "wall_s": client["wall_s"], "evaluations": client.get("evaluations", []),
            "best": client.get("best")}


def _latest(out_dir: Path) -> str | None:
    try:
        tag = (out_dir / "latest").read_text().strip()
    except FileNotFoundError:
        return None
    if not (out_dir / tag).is_dir():
        raise InputError(out_dir / "latest", f"names checkpoint {tag!r}, which is not there")
    return tag


def _save(engine, out_dir: Path, step: int, client_state: dict, rank: int) -> None:
    """Save a checkpoint; point `latest` at it once every rank is done; keep the newest two."""
    tag = f"step{step:06d}"
    # DeepSpeed writes its own `latest` before the other ranks are done, and not atomically
    engine.save_checkpoint(str(out_dir), tag=tag, client_state=client_state, save_latest=False)  # ends in a barrier
    if rank == 0:
        with atomic_path(out_dir / "latest") as tmp:
            tmp.write_text(tag)
        tags = sorted((int(m[1]), d) for d in out_dir.iterdir() if d.is_dir() and (m := TAG.fullmatch(d.name)))
        keep = [d for s, d in tags if s <= step][-KEEP_CHECKPOINTS:]
        for _, d in tags:  # older ones, and any left half-written by a killed run
            if d not in keep:
                shutil.rmtree(d, ignore_errors=True)
    dist.barrier()


def _export(model: PhiForCausalLM, tok, export_dir: Path, summary: dict) -> None:
    """The model, its tokenizer and training.json in Hugging Face format; replaced as a whole."""
    tmp = export_dir.with_name(f".{export_dir.name}.tmp-{os.getpid()}")
    shutil.rmtree(tmp, ignore_errors=True)
    model.save_pretrained(tmp)  # safetensors
    tok.save_pretrained(tmp)
    write_json(tmp / "training.json", summary)
    if export_dir.exists():
        old = export_dir.with_name(f".{export_dir.name}.old-{os.getpid()}")
        os.replace(export_dir, old)
        os.replace(tmp, export_dir)
        shutil.rmtree(old)
    else:
        os.replace(tmp, export_dir)


def _grad_norm(model: torch.nn.Module) -> float:
    norms = [p.grad.detach().float().norm() for p in model.parameters() if p.grad is not None]
    return torch.linalg.vector_norm(torch.stack(norms)).item()


def _mean_over_ranks(x: torch.Tensor, world: int) -> float:
    if world > 1:
        dist.all_reduce(x)  # gloo has no AVG
    return x.item() / world


def _max_over_ranks(value: int, device: torch.device, world: int) -> int:
    if world == 1:
        return value
    x = torch.tensor(value, device=device)
    dist.all_reduce(x, op=dist.ReduceOp.MAX)
    return int(x.item())


class _StopSignals:
    """Record SIGTERM / SIGUSR1 rather than die mid-step (only the main thread can set handlers)."""

    SIGNALS = (signal.SIGTERM, signal.SIGUSR1)

    def __enter__(self) -> _StopSignals:
        self.signum, self._previous = 0, {}
        if threading.current_thread() is threading.main_thread():
            self._previous = {s: signal.signal(s, self._handle) for s in self.SIGNALS}
        return self

    def _handle(self, signum, frame) -> None:
        self.signum = signum

    def __exit__(self, *exc) -> None:
        for s, handler in self._previous.items():
            signal.signal(s, handler)


class _Reporter:
    """Rank 0's log.jsonl, TensorBoard scalars and progress bar; a resumed run drops what came after its checkpoint."""

    def __init__(self, out_dir: Path, start: int, steps: int):
        from torch.utils.tensorboard import SummaryWriter

        out_dir.mkdir(parents=True, exist_ok=True)
        path = out_dir / "log.jsonl"
        if path.exists():
            kept = [line for line in path.read_text().splitlines(keepends=True)
                    if line.endswith("\n") and _json_step(line) <= start]
            with atomic_path(path) as tmp:
                tmp.write_text("".join(kept))
        self.file = open(path, "a")
        self.tensorboard = SummaryWriter(str(out_dir / "tensorboard"), purge_step=start + 1)
        self.bar = progress(desc=f"train {out_dir.name}", total=steps - start, unit="step")

    def write(self, record: dict) -> None:
        self.file.write(json.dumps(record) + "\n")
        self.file.flush()
        for key, value in record.items():
            if key != "step" and value is not None:
                self.tensorboard.add_scalar(f"train/{key}", value, record["step"])
        self.bar.set_postfix(loss=f"{record['loss']:.4f}", tok_s=f"{record['tokens_per_s']:.4g}",
                             mfu="-" if record["mfu"] is None else f"{record['mfu']:.1%}", refresh=False)

    def evaluation(self, record: dict) -> None:
        self.file.write(json.dumps(record) + "\n")
        self.file.flush()
        for key, value in record.items():
            if key != "step" and value is not None:
                self.tensorboard.add_scalar(f"validation/{key}", value, record["step"])
        log.info("step %d: %s", record["step"], ", ".join(f"{k} {v}" for k, v in record.items() if k != "step"))

    def close(self) -> None:
        self.bar.close()
        self.tensorboard.close()
        self.file.close()


def _json_step(line: str) -> int:
    try:
        return json.loads(line)["step"]
    except (ValueError, KeyError, TypeError):
        return 1 << 62  # a torn line: drop it
