"""Tables 1-3 as markdown and LaTeX (booktabs), with their rows as JSON for anything that reads them."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

from ..errors import InputError
from ..io import atomic_path, read_json, write_json
from .reference import TABLE_1
from .results import MISSING, Model, Score, human_count, read_models, read_problem_passes

PLUS_COLUMNS = {"humanevalplus": "HumanEval+ pass@1 (%)", "mbppplus": "MBPP+ pass@1 (%)"}
GRADES = ("samples", "graded", "mean_score", "grade_distribution", "failures")  # of a grading summary, not its cost or time


@dataclass
class Table:
    caption: str
    headers: list[str]
    rows: list[list[str]]
    notes: list[str] = field(default_factory=list)

    def markdown(self) -> str:
        lines = [f"**{self.caption}**", "", "| " + " | ".join(self.headers) + " |",
                 "|" + "|".join("---" for _ in self.headers) + "|"]
        lines += ["| " + " | ".join(row) + " |" for row in self.rows]
        return "\n".join(lines + [""] + [f"- {note}" for note in self.notes]) + "\n"

    def latex(self) -> str:
        lines = [r"\begin{table}[t]", r"\centering", r"\begin{tabular}{" + "l" * len(self.headers) + "}",
                 r"\toprule", " & ".join(map(_tex, self.headers)) + r" \\", r"\midrule"]
        lines += [" & ".join(map(_tex, row)) + r" \\" for row in self.rows]
        lines += [r"\bottomrule", r"\end{tabular}",
                  r"\caption{" + _tex(" ".join([self.caption, *self.notes])) + "}", r"\end{table}"]
        return "\n".join(lines) + "\n"

    def write(self, markdown: str, latex: str, data: str, **extra) -> None:
        for path, text in ((markdown, self.markdown()), (latex, self.latex())):
            with atomic_path(path) as tmp:
                tmp.write_text(text, encoding="utf-8")
        write_json(data, {**asdict(self), **extra})


def _tex(text: str) -> str:
    for char, escaped in (("\\", r"\textbackslash{}"), ("&", r"\&"), ("%", r"\%"), ("_", r"\_"), ("#", r"\#"),
                          ("τ", r"$\tau$"), ("→", r"$\rightarrow$"), ("–", "--")):
        text = text.replace(char, escaped)
    return text


def percent(value: float | None) -> str:
    return MISSING if value is None else f"{value:g}"


def table_1(models: dict[str, Model], scores: dict[str, dict[str, Score]], scale: str) -> Table:
    """Our models (size, tokens seen, HumanEval and MBPP pass@1 with intervals, HumanEval+ and MBPP+
    pass@1 where they were scored, the HumanEval solutions' likelihood, the real-code validation loss, and
    the held-out exercises' pass@1 where they were scored), then the paper's rows."""
    scored = {b for each in scores.values() for b in each}
    plus = [b for b in PLUS_COLUMNS if b in scored]
    heldout = ["heldout"] * ("heldout" in scored)

    def cell(name: str, benchmark: str) -> str:
        return scores[name][benchmark].percent() if benchmark in scores[name] else MISSING

    rows = [[name, human_count(model.parameters), human_count(model.tokens_seen),
             *(cell(name, b) for b in ["humaneval", "mbpp", *plus]),
             scores[name]["humaneval"].likelihood() if "humaneval" in scores[name] else MISSING,
             MISSING if model.validation_nll is None else f"{model.validation_nll:.2f}",
             *(cell(name, b) for b in heldout)]
            for name, model in models.items()]
    rows += [[f"{name} (paper)", size, tokens, percent(humaneval), percent(mbpp), *[MISSING] * (len(plus) + 2),
              *[MISSING] * len(heldout)] for name, size, tokens, humaneval, mbpp in TABLE_1]
    notes = ["pass@1 in percent with its 95% interval; – where a model was not evaluated on the benchmark.",
             "Training tokens: tokens seen, the pretraining of a finetuned model included (ours); the "
             "dataset's size, seen about 8 times (the paper's).",
             "HumanEval solution NLL: the canonical solutions' negative log-likelihood given the prompts, nats per "
             "token (lower is better), with its 95% interval; real-code validation NLL: the same on functions of "
             "held-out corpus files no teacher wrote, at the exported step. The models of a run share a tokenizer; "
             "across tokenizers compare bits per byte (solution_likelihood in the results)."]
    if plus:
        notes.append("HumanEval+ and MBPP+: EvalPlus's extra inputs; a sample passes when its outputs on the original "
                     "and the extra inputs match the canonical solution's (EvalPlus's 'base + extra tests'). The paper "
                     "reports neither. MBPP+ is 378 tasks, 224 of them in MBPP's 500-problem test split: not comparable "
                     "with the MBPP column.")
    if heldout:
        notes.append("Held-out exercises: whether a model learned the exercises' format, not a benchmark of the paper: "
                     "CodeExercises the teacher wrote for function names no model trained on, scored like HumanEval "
                     "(phi1repro/synth/heldout.py).")
    return Table(f"Table 1 ({scale}): our models beside the paper's",
                 ["Model", "Size", "Training tokens", "HumanEval pass@1 (%)", "MBPP pass@1 (%)",
                  *(PLUS_COLUMNS[b] for b in plus), "HumanEval solution NLL", "Real-code validation NLL",
                  *["Held-out exercises pass@1 (%)"] * len(heldout)], rows, notes)


def table_3(report_path: str, base: str, base_passes: dict[str, float], retrained: dict[str, dict[str, float]],
            scale: str) -> Table:
    """pass@1 of the model and of its retraining on each pruned exercise set (tau -> task id -> pass@1), on
    the HumanEval problems the decontamination report finds similar to some exercise at that tau, and the rest."""
    report = read_json(report_path)
    rows = []
    for tau, passes in retrained.items():
        try:
            subsets = report["humaneval_subsets"][tau]
            pruned = report["pruning"]["by_tau"][tau]["removed_share"]
        except (KeyError, TypeError):
            raise InputError(report_path, f"no HumanEval subsets or pruning for tau {tau}") from None
        for subset, ids in (("similar", subsets["similar"]), ("non-similar", subsets["non_similar"]),
                            ("total", subsets["similar"] + subsets["non_similar"])):
            rows.append([tau, subset, str(len(ids)), _mean_percent(base_passes, ids, base),
                         _mean_percent(passes, ids, f"{base} retrained at tau {tau}"), f"{100 * pruned:.1f}"])
    return Table(f"Table 3 ({scale}): {base} retrained on CodeExercises pruned at each AST match rate τ",
                 ["τ", "HumanEval subset", "Problems", f"{base} pass@1 (%)", f"{base} retrained on pruned data (%)",
                  "Exercises pruned (%)"], rows,
                 ["Similar: a HumanEval problem with an exercise at AST match rate ≥ τ (or flagged by the "
                  "embedding or n-gram measures) in the decontamination report; non-similar: the rest."])


def _mean_percent(passes: dict[str, float], ids: list[str], who: str) -> str:
    if not ids:
        return MISSING
    missing = [i for i in ids if i not in passes]
    if missing:
        raise InputError(who, f"no result for {len(missing)} problems of the subset, e.g. {missing[0]}")
    return f"{100 * sum(passes[i] for i in ids) / len(ids):.1f}"


def table_2(models: dict[str, Model], scores: dict[str, dict[str, Score]], grades: dict[str, dict], grader: str,
            scale: str) -> Table:
    """Per model: the teacher's mean grade of its solutions to the 50 unconventional problems, their pass@1
    by execution, and HumanEval pass@1."""
    rows = []
    for name, model in models.items():
        graded = grades[name]
        score = MISSING if graded["mean_score"] is None else f"{10 * graded['mean_score']:.1f}"
        rows.append([name, human_count(model.parameters), score, scores[name]["unconventional"].percent(),
                     scores[name]["humaneval"].percent() if "humaneval" in scores[name] else MISSING])
    return Table(f"Table 2 ({scale}): 50 new, unconventional problems, graded by the teacher and by execution",
                 ["Model", "Size", f"Graded score (%; {grader})", "pass@1 on the 50 problems (%)",
                  "HumanEval pass@1 (%)"], rows,
                 ["The teacher grades each solution 0-10 for the understanding it shows, with the rubric in "
                  "phi1repro/paper/grading.py; the score is the mean grade in percent. With the offline teacher "
                  "the grade is a procedural stand-in (syntax-tree similarity to the reference), not a model's judgement."])


def write_table_1(models: dict[str, dict], scale: str, markdown: str, latex: str, data: str) -> Table:
    table = table_1(*read_models(models), scale)
    table.write(markdown, latex, data)
    return table


def write_table_2(models: dict[str, dict], grades: dict[str, str], grader: str, scale: str, markdown: str, latex: str,
                  data: str) -> Table:
    graded = {name: {k: read_json(path).get(k) for k in GRADES} for name, path in grades.items()}
    table = table_2(*read_models(models), graded, grader, scale)
    table.write(markdown, latex, data, grades=graded)
    return table


def write_table_3(report: str, base: str, base_problems: str, retrained: dict[str, str], scale: str, markdown: str,
                  latex: str, data: str) -> Table:
    table = table_3(report, base, read_problem_passes(base_problems),
                    {tau: read_problem_passes(path) for tau, path in retrained.items()}, scale)
    table.write(markdown, latex, data)
    return table
