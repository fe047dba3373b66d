"""What the paper's figures and tables read from a run: a model's size, tokens seen (its training.json,
and those of the models it was finetuned from) and real-code validation loss, and on a benchmark its
pass@1 and the likelihood of the reference solutions, each with its interval."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from ..errors import InputError
from ..io import read_json

MISSING = "–"


@dataclass(frozen=True)
class Score:
    pass_at_1: float  # a fraction
    ci95: tuple[float, float]
    problems: int
    nll: float | None = None  # the reference solutions' NLL given the prompts, nats per token
    nll_ci95: tuple[float, float] | None = None

    def percent(self) -> str:
        low, high = self.ci95
        return f"{100 * self.pass_at_1:.1f} [{100 * low:.1f}, {100 * high:.1f}]"

    def likelihood(self) -> str:
        if self.nll is None:
            return MISSING
        low, high = self.nll_ci95
        return f"{self.nll:.2f} [{low:.2f}, {high:.2f}]"


@dataclass(frozen=True)
class Model:
    name: str
    parameters: int
    tokens_seen: int  # in its own training and in that of every model it was initialised from
    validation_nll: float | None = None  # on real code no teacher wrote, at the exported step (nats per token)


def read_model(name: str, chain: list[str]) -> Model:
    """The model exported at chain[0], finetuned from chain[1], ... (checkpoint directories)."""
    runs = [_training(path) for path in chain]
    exported = runs[0].get("exported_step", runs[0].get("steps"))
    nll = next((e["realcode_nll"] for e in runs[0].get("evaluations") or [] if e["step"] == exported), None)
    return Model(name, runs[0]["parameters"]["total"], sum(run["tokens_seen"] for run in runs), nll)


def read_models(spec: dict[str, dict]) -> tuple[dict[str, Model], dict[str, dict[str, Score]]]:
    """Models and their scores per benchmark, from {model: {"chain": [checkpoint, ...], "results": {benchmark: path}}}."""
    models = {name: read_model(name, each["chain"]) for name, each in spec.items()}
    scores = {name: {b: read_score(path) for b, path in each["results"].items()} for name, each in spec.items()}
    return models, scores


def read_score(path: str) -> Score:
    result = read_json(path)
    try:
        likelihood = result.get("solution_likelihood") or {}
        return Score(result["pass@1"], tuple(result["ci95"]["pass@1"]), result["n_problems"],
                     likelihood.get("nll_per_token"), tuple(likelihood["ci95"]["nll_per_token"]) if likelihood else None)
    except (KeyError, TypeError) as e:
        raise InputError(path, f"not an evaluation result: no {e}") from None


def read_problem_passes(path: str) -> dict[str, float]:
    """Task id -> pass@1 of the problem, from an evaluation's per-problem file."""
    passes = {}
    with open(path, encoding="utf-8") as f:
        for lineno, line in enumerate(f, 1):
            try:
                record = json.loads(line)
                passes[record["task_id"]] = record["pass@1"]
            except (ValueError, KeyError, TypeError) as e:
                raise InputError(path, f"line {lineno}: not a per-problem result ({e})") from None
    return passes


def _training(checkpoint: str) -> dict:
    path = Path(checkpoint) / "training.json"
    run = read_json(path)
    if not isinstance(run, dict) or not {"parameters", "tokens_seen"} <= run.keys():
        raise InputError(path, "not a training record (needs parameters and tokens_seen)")
    return run


def human_count(n: float) -> str:
    """12_400_000_000 -> '12.4B'; 61440 -> '61.4K'."""
    for unit, size in (("T", 1e12), ("B", 1e9), ("M", 1e6), ("K", 1e3)):
        if n >= size:
            return f"{n / size:.3g}{unit}"
    return str(int(n))
