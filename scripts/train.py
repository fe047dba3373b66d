"""Rule train: one model recipe, DeepSpeed under torchrun on the job's GPUs (under srun, one torchrun
per node, on several nodes), or in one CPU process.

The DeepSpeed run directory is results/runs/{model}/<hash of recipe, data and init>/, so a rerun
of the same recipe resumes from its newest checkpoint and a changed recipe starts afresh
(switching torch.compile on or off resumes)."""

import hashlib
import json
import shlex
import subprocess
import sys
from pathlib import Path

from phi1repro.io import file_sha256, read_json
from phi1repro.progress import setup_logging

log = setup_logging(snakemake.log[0])
recipe, data = snakemake.params.recipe, list(snakemake.input.data)
init, validation = snakemake.input.get("init"), snakemake.input.get("validation")
identity = {"recipe": {k: v for k, v in recipe.items() if k != "compile"}, "data": [read_json(p)["sha256"] for p in data],
            "init": init, "tokenizer": read_json(data[0])["tokenizer_sha256"],
            "validation": validation and file_sha256(validation)}
run_dir = Path(snakemake.params.run_dir) / hashlib.sha256(json.dumps(identity, sort_keys=True).encode()).hexdigest()[:12]
run_dir.mkdir(parents=True, exist_ok=True)
(run_dir / "recipe.json").write_text(json.dumps(recipe, indent=2, sort_keys=True) + "\n")

train = ["-m", "phi1repro.train", "--recipe", str(run_dir / "recipe.json"), "--data", *data,
         "--tokenizer", snakemake.input.tokenizer, "--out", str(run_dir), "--export", snakemake.output[0],
         *(["--init-from", init] if init else []), *(["--validation", validation] if validation else [])]
resources = snakemake.resources
nodes = resources.get("nodes", 1)
gpus = resources.get("gpu") or int(str(resources.get("gres", "gpu:0")).rsplit(":", 1)[-1])
if resources.get("launcher") == "srun":
    # One torchrun per node; they meet at the allocation's first node, known only inside the srun task,
    # on a port of the job's own: two training jobs sharing a node must not join each other's rendezvous.
    torchrun = (f"{shlex.quote(sys.executable)} -m torch.distributed.run --nnodes={nodes} "
                f"--nproc_per_node={max(gpus, 1)} --rdzv_backend=c10d --rdzv_id=$SLURM_JOB_ID "
                '--rdzv_endpoint=$(scontrol show hostnames "$SLURM_JOB_NODELIST" | head -n 1):$((20000 + SLURM_JOB_ID % 40000)) ')
    command = ["srun", "--overlap", f"--nodes={nodes}", "--ntasks-per-node=1", "bash", "-c", torchrun + shlex.join(train)]
elif gpus:
    command = [sys.executable, "-m", "torch.distributed.run", "--standalone", f"--nproc_per_node={gpus}", *train]
else:
    command = [sys.executable, *train]
log.info("run directory %s; %s", run_dir, " ".join(command))
with open(snakemake.log[0], "a") as out:
    sys.exit(subprocess.run(command, stdout=out, stderr=subprocess.STDOUT).returncode)
