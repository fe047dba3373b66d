"""Train a phi-1 model on token shards; resumes from OUT when it holds a checkpoint.

    python -m phi1repro.train --recipe recipe.json --data a.json b.json --tokenizer DIR \\
        --out runs/phi1_base --export models/phi1_base [--init-from models/other] [--validation realcode.jsonl]
    torchrun --nproc_per_node 8 -m phi1repro.train ...   # data parallel, same arguments

Exits 0 when the model is exported, 1 on a bad input or recipe, and 128 + the signal (143 for
SIGTERM, 138 for SIGUSR1) when a signal stopped it after a checkpoint: run it again to go on.
"""

from __future__ import annotations

import argparse
import os
import sys

import torch.distributed as dist

from ..errors import InputError
from ..io import read_json
from ..progress import setup_logging


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m phi1repro.train", description=__doc__.split("\n\n")[0])
    p.add_argument("--recipe", required=True, help="recipe JSON (see phi1repro.train.trainer)")
    p.add_argument("--data", nargs="+", required=True, help="token shard indices ({stem}.json beside {stem}.bin)")
    p.add_argument("--tokenizer", required=True, help="Hugging Face tokenizer directory (copied into the export)")
    p.add_argument("--out", required=True, help="run directory: checkpoints, log.jsonl, tensorboard/")
    p.add_argument("--export", required=True, help="directory of the final model in Hugging Face format")
    p.add_argument("--init-from", default=None, help="a Hugging Face model to start from (finetuning)")
    p.add_argument("--validation", default=None, help="real-code validation records (HumanEval's format)")
    p.add_argument("--log", default=None, help="also log to this file")
    return p.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    log = setup_logging(args.log if int(os.environ.get("RANK", 0)) == 0 else None)
    from .trainer import TrainingInterrupted, train  # imports DeepSpeed (slow)

    owned = not dist.is_initialized()  # a caller's group stays: DeepSpeed keeps its groups for the process
    try:
        train(read_json(args.recipe), args.data, args.tokenizer, args.out, args.export, init_from=args.init_from,
              validation=args.validation)
    except (InputError, ValueError) as e:
        log.error("%s", e)
        return 1
    except TrainingInterrupted as e:
        log.warning("%s; run again to resume", e)
        return 128 + e.signum
    finally:
        if owned and dist.is_initialized():
            dist.destroy_process_group()
    return 0


if __name__ == "__main__":
    sys.exit(main())
