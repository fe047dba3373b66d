"""How likely a model finds a reference solution: the negative log-likelihood of its tokens given the
prompt's, one forward pass per problem. Reported beside pass@k (a signal where pass@1 is 0) and, on real
code no teacher wrote, the trainer's validation loss; never a benchmark to tune on."""

from __future__ import annotations

import torch

from ..progress import progress


def solution_likelihood(model, tokenizer, prompts: list[dict], positions: int | None = None,
                        desc: str = "solution likelihood") -> list[dict]:
    """For each prompt with a reference `target` (the solution that continues it), the negative
    log-likelihood in nats of the target's tokens given the prompt's: {task_id, tokens, bytes, nll}.
    Where the two exceed `positions` (default: the model's), the prompt loses its start first."""
    positions = positions or getattr(model.config, "max_position_embeddings", None) or 1 << 30
    rows = []
    for p in progress([p for p in prompts if p.get("target")], desc=desc, unit="problem"):
        context, target = tokenizer(p["prompt"])["input_ids"], tokenizer(p["target"])["input_ids"][:positions - 1]
        ids = context[max(0, len(context) + len(target) - positions):] + target
        with torch.inference_mode():
            logits = model(torch.tensor([ids], device=model.device)).logits[0, -len(target) - 1:-1].float()
        nll = torch.nn.functional.cross_entropy(logits, torch.tensor(target, device=logits.device), reduction="sum")
        rows.append({"task_id": p["task_id"], "tokens": len(target), "nll": round(float(nll), 4),
                     "bytes": len(tokenizer.decode(target, clean_up_tokenization_spaces=False).encode())})
    return rows
