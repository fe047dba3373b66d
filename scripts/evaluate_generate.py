"""Rule evaluate_generate: sample completions of one benchmark's prompts from one exported model.

Samples are appended to results/{model}/samples/.partial/<hash of checkpoint, problems, prompt and
decoding>.jsonl, outside the job's outputs (which Snakemake deletes before a rerun), so a killed
generation job resumes where it stopped; the finished file is moved into place."""

import contextlib
import hashlib
import json
import os
from pathlib import Path

import torch

from phi1repro.evaluate.generate import checkpoint_sha256, generate_samples
from phi1repro.evaluate.tasks import load_tasks
from phi1repro.io import file_sha256, write_json
from phi1repro.workflow import run_step

torch.set_num_threads(snakemake.threads)


def generate(checkpoint, problems, benchmark, prompt, decoding, out, stats_out):
    tasks = load_tasks(problems, benchmark, prompt)
    identity = {"checkpoint": checkpoint_sha256(checkpoint), "problems": file_sha256(problems), "prompt": prompt,
                "decoding": decoding}
    partial = Path(out).parent / ".partial" / (
        f"{benchmark}-" + hashlib.sha256(json.dumps(identity, sort_keys=True).encode()).hexdigest()[:12] + ".jsonl")
    partial.parent.mkdir(parents=True, exist_ok=True)
    prompts = [{"task_id": t.task_id, "prompt": t.prompt, "target": t.reference_continuation()}
               for t in tasks.values()]
    stats = generate_samples(checkpoint, prompts, str(partial), **decoding)
    os.replace(partial, out)
    with contextlib.suppress(OSError):  # other benchmarks' partial files may still be there
        partial.parent.rmdir()
    write_json(stats_out, {"benchmark": benchmark, "prompt": prompt, "decoding": decoding,
                           "problems_sha256": identity["problems"], **stats})


run_step(snakemake, generate, checkpoint=snakemake.input.checkpoint, problems=snakemake.input.problems,
         benchmark=snakemake.wildcards.benchmark, prompt=snakemake.params.prompt, decoding=snakemake.params.decoding,
         out=snakemake.output.samples, stats_out=snakemake.output.stats)
