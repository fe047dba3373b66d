"""Benchmark training throughput: tokens/s and MFU of the trainer's own loop.

Each configuration runs `python -m phi1repro.train` (DeepSpeed, as the workflow runs it) for
--steps steps on random token ids, in a fresh process, and reads tokens/s and MFU from the
run's log.jsonl, leaving out the first report (warm-up). MFU counts 6N + 12 x layers x hidden x
seq_len FLOPs per token against the device's dense bf16/fp16 peak (trainer.PEAK_FLOPS).

On a GPU: phi1 and phi1_small at sequence length 2048 in bf16, the largest micro-batch that
fits (tried from --max-micro-batch down, halving on out-of-memory), with SDPA and with eager
attention, SDPA under torch.compile (and flash_attention_2 when flash-attn is installed); AdamW is
fused on GPUs. Without a GPU: the demo's tiny model on the CPU in fp32, eager and compiled, and
the GPU figures are pending. It reports numbers; it checks nothing.

    .venv/bin/python benchmarks/train.py [--steps 20] [--out results/speed/train.json]
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import platform
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import torch

from phi1repro.io import write_json
from phi1repro.tokens.tokenizer import train_tokenizer

SIZES = {
    "phi1": {"layers": 24, "hidden": 2048, "intermediate": 8192, "heads": 32, "rotary_dim": 32, "max_positions": 2048},
    "phi1_small": {"layers": 20, "hidden": 1024, "intermediate": 4096, "heads": 16, "rotary_dim": 32,
                   "max_positions": 2048},
    "tiny": {"layers": 2, "hidden": 128, "intermediate": 512, "heads": 4, "rotary_dim": 16, "max_positions": 256},
}


def random_shard(directory: Path, tokens: int, vocab: int, tokenizer_sha256: str) -> str:
    """A token shard of uniformly random ids (phi-1's vocabulary is 51,200; the demo's 4,096); the
    benchmark's tokenizer has EOS at id 0."""
    ids = np.random.default_rng(0).integers(0, vocab, tokens, dtype=np.uint16)
    ids.tofile(directory / f"random-{vocab}.bin")
    index = {"tokens": tokens, "documents": 1, "dtype": "uint16", "eos_id": 0, "vocab_size": vocab,
             "tokenizer_sha256": tokenizer_sha256, "sha256": "", "sources": []}
    (directory / f"random-{vocab}.json").write_text(json.dumps(index))
    return str(directory / f"random-{vocab}.json")


def run(size: str, seq_len: int, micro_batch: int, precision: str, attention: str, compile: bool, steps: int,
        tmp: Path, data: str, tokenizer: str) -> dict | None:
    """tokens/s and MFU of one configuration; None when it runs out of memory."""
    name = f"{size}-{precision}-{attention}-{'compiled' if compile else 'plain'}-mb{micro_batch}"
    recipe = {"size": SIZES[size], "seq_len": seq_len, "steps": steps, "global_batch": micro_batch,
              "micro_batch": micro_batch, "lr": 1e-4, "warmup": 2, "precision": precision,
              "zero_stage": 1 if precision == "bf16" else 0, "attention": attention, "compile": compile,
              "log_every": max(1, steps // 4),
              "checkpoint_every": 10 * steps}
    (tmp / f"{name}.json").write_text(json.dumps(recipe))
    proc = subprocess.run([sys.executable, "-m", "phi1repro.train", "--recipe", str(tmp / f"{name}.json"),
                           "--data", data, "--tokenizer", tokenizer, "--out", str(tmp / name),
                           "--export", str(tmp / f"{name}-export")], capture_output=True, text=True)
    if proc.returncode != 0:
        if "out of memory" in proc.stderr.lower():
            return None
        raise RuntimeError(f"{name} failed:\n{proc.stderr[-3000:]}")
    reports = [json.loads(line) for line in (tmp / name / "log.jsonl").read_text().splitlines()][1:]
    return {"micro_batch": micro_batch, "tokens_per_s": round(float(np.mean([r["tokens_per_s"] for r in reports])), 1),
            "mfu": None if reports[0]["mfu"] is None else round(float(np.mean([r["mfu"] for r in reports])), 4)}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--steps", type=int, default=20)
    p.add_argument("--max-micro-batch", type=int, default=32)
    p.add_argument("--out", default="results/speed/train.json")
    args = p.parse_args()
    gpu = torch.cuda.is_available()
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        texts = tmp / "texts.parquet"
        pq.write_table(pa.table({"text": [Path(__file__).read_text()] * 4}), texts)
        stats = train_tokenizer([str(texts)], 300, str(tmp / "tokenizer"))
        results = {}
        if gpu:
            variants = [("sdpa", False), ("sdpa", True), ("eager", False)]
            if importlib.util.find_spec("flash_attn"):
                variants.append(("flash_attention_2", False))
            data = random_shard(tmp, 2049 * args.max_micro_batch * args.steps, 51200, stats["sha256"])
            for size in ("phi1", "phi1_small"):
                for attention, compile in variants:
                    micro_batch = args.max_micro_batch
                    while micro_batch >= 1:
                        figure = run(size, 2048, micro_batch, "bf16", attention, compile, args.steps, tmp, data,
                                     str(tmp / "tokenizer"))
                        if figure is not None:
                            results[f"{size} bf16 {attention}{' compiled' if compile else ''}"] = figure
                            break
                        micro_batch //= 2
        else:
            data = random_shard(tmp, 257 * 8 * args.steps, 4096, stats["sha256"])
            for compile in (False, True):
                results[f"tiny fp32 sdpa{' compiled' if compile else ''} (cpu)"] = run(
                    "tiny", 256, 8, "fp32", "sdpa", compile, args.steps, tmp, data, str(tmp / "tokenizer"))
            results["gpu"] = "pending: no GPU on this machine"
    report = {"machine": {"python": platform.python_version(), "torch": torch.__version__,
                          "device": torch.cuda.get_device_name() if gpu else platform.processor() or "cpu"},
              "steps": args.steps, "results": results}
    write_json(args.out, report)
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
