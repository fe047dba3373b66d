"""From match tables to what the paper reports: pruned exercise sets and the decontamination report.

An exercise is pruned at tau when one of its pairs with a pruning benchmark has AST match rate
>= tau, or is flagged by another pruning measure (embedding, n-gram) at its own threshold.
A HumanEval problem is "similar" at tau when some exercise has AST match rate >= tau with it
(the split of phi-1's Table 3), "non-similar" otherwise.

The demo's held-out exercises (benchmark `heldout`, synth/heldout.py) and the validation set of real
code (benchmark `realcode`, corpus/validation.py) are compared like the paper's benchmarks but reported
on their own: the flagged counts, the closest-items table and pruning are the paper's benchmarks' alone.
"""

from __future__ import annotations

import logging
import math
from collections import defaultdict
from collections.abc import Iterable
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from ..io import ParquetWriter, atomic_path, open_parquet, read_json, read_parquet, write_json
from ..progress import progress
from .items import Problem, problems_of

log = logging.getLogger(__name__)

MEASURES = ("ast", "embedding", "ngram")
HELDOUT = "heldout"
REALCODE = "realcode"
REPORTED_APART = (HELDOUT, REALCODE)


def read_matches(paths: Iterable[str | Path]) -> list[dict]:
    rows = []
    for path in paths:
        rows.extend(read_parquet(path).to_pylist())
    return rows


def pruned(row: dict, tau: float, measures: list[str], benchmarks: list[str]) -> bool:
    """Whether this match row removes its training item at tau."""
    if benchmarks and row["benchmark"] not in benchmarks:
        return False
    if "ast" in measures and row["ast"] is not None and row["ast"] >= tau - 1e-6:
        return True
    return any(m in row["flagged_by"] for m in measures if m != "ast")


def removed_items(rows: list[dict], tau: float, measures: list[str], benchmarks: list[str]) -> dict[str, set[str]]:
    """File name -> ids of the items pruned at tau."""
    removed: dict[str, set[str]] = defaultdict(set)
    for row in rows:
        if pruned(row, tau, measures, benchmarks):
            removed[row["file"]].add(row["id"])
    return removed


def prune_exercises(parts: list[str], matches: list[str], tau: float, measures: list[str], benchmarks: list[str],
                    out: str, stats_out: str) -> dict:
    """Write the exercises of `parts` minus those pruned at tau, in part order, to `out`."""
    removed = removed_items(read_matches(matches), tau, measures, benchmarks)
    kept = total = 0
    schema = pq.read_schema(parts[0]) if parts else None
    with ParquetWriter(out, schema) as writer:
        for part in progress(parts, desc=f"prune at tau {tau}", unit="part"):
            with open_parquet(part, ["id"]) as parquet:
                table = parquet.read()
            drop = pa.array(sorted(removed.get(Path(part).name, ())), pa.string())
            total += table.num_rows
            table = table.filter(pc.invert(pc.is_in(table.column("id"), drop)))
            writer.write_table(table.cast(schema))
            kept += table.num_rows
    stats = {"tau": tau, "measures": measures, "benchmarks": benchmarks or "all", "exercises": total,
             "removed": total - kept, "kept": kept, "removed_share": round((total - kept) / total, 6) if total else 0.0}
    write_json(stats_out, stats)
    log.info("tau %s: kept %d of %d exercises (%d removed)", tau, kept, total, total - kept)
    return stats


def _closest(rows: list[dict]) -> dict:
    """Per problem, its closest training item by each measure, across files and datasets."""
    best: dict[tuple[str, str], dict] = defaultdict(dict)
    for row in rows:
        key = (row["benchmark"], row["task_id"])
        for measure, better in (("ast", max), ("ngram", max), ("embedding", min)):
            score = row[measure]
            if score is None or (isinstance(score, float) and math.isnan(score)):
                continue
            current = best[key].get(measure)
            if current is None or better(score, current["score"]) != current["score"]:
                best[key][measure] = {"score": round(score, 4), "dataset": row["dataset"], "file": row["file"],
                                      "id": row["id"], "row": row["row"], "unit": row["unit"]}
    return best


def decontam_report(matches: list[str], stats: list[str], benchmarks: list[str], settings: dict, out_json: str,
                    out_md: str, plot: str) -> dict:
    """The report: per dataset what was compared and flagged, per tau what pruning removes and
    HumanEval's similar / non-similar split, per problem its closest training items."""
    every_row = read_matches(matches)
    rows = [r for r in every_row if r["benchmark"] not in REPORTED_APART]
    problems: list[Problem] = [p for path in benchmarks for p in problems_of(path, settings["mbpp_splits"])]
    taus = sorted(settings["taus"], reverse=True)
    measures, prune_benchmarks = settings["prune"]["measures"], settings["prune"]["benchmarks"]

    datasets: dict[str, dict] = {}
    for path in stats:
        s = read_json(path)
        d = datasets.setdefault(s["dataset"], {"files": 0, "items": 0, "units": 0, "unparseable_items": 0,
                                               "unparseable_blocks": 0, "flagged_items": 0, "unit_pairs": 0,
                                               "ast_candidate_pairs": 0, "embedding": s["embedding"], "seconds": 0.0})
        for key in ("items", "units", "unparseable_items", "unparseable_blocks"):
            d[key] += s[key]
        d["files"] += 1
        d["unit_pairs"] += s["ast"]["unit_pairs"]
        d["ast_candidate_pairs"] += s["ast"]["candidate_pairs"]
        d["seconds"] = round(d["seconds"] + sum(s["seconds"].values()), 3)
    for name, d in datasets.items():
        d["flagged_items"] = len({(r["file"], r["id"]) for r in rows if r["dataset"] == name and r["flagged_by"]})
        by_measure = {m: len({(r["file"], r["id"]) for r in rows if r["dataset"] == name and m in r["flagged_by"]})
                      for m in MEASURES}
        d["flagged_items_by_measure"] = by_measure

    exercise_rows = [r for r in rows if r["dataset"] == "exercises"]
    total_exercises = datasets.get("exercises", {}).get("items", 0)
    pruning = {}
    for tau in taus:
        removed = sum(map(len, removed_items(exercise_rows, tau, measures, prune_benchmarks).values()))
        pruning[str(tau)] = {"removed": removed, "kept": total_exercises - removed,
                             "removed_share": round(removed / total_exercises, 6) if total_exercises else 0.0}

    humaneval = [p.task_id for p in problems if p.benchmark == "humaneval"]
    subsets = {}
    for tau in taus:
        similar = {r["task_id"] for r in exercise_rows
                   if r["benchmark"] == "humaneval" and r["ast"] is not None and r["ast"] >= tau - 1e-6}
        subsets[str(tau)] = {"similar": [t for t in humaneval if t in similar],
                             "non_similar": [t for t in humaneval if t not in similar]}

    closest = _closest(every_row)
    flagged_counts: dict[tuple[str, str], dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for r in every_row:
        if r["flagged_by"]:
            flagged_counts[r["benchmark"], r["task_id"]][r["dataset"]] += 1
    per_problem = {}
    for p in problems:
        key = (p.benchmark, p.task_id)
        per_problem.setdefault(p.benchmark, {})[p.task_id] = {
            "closest": closest.get(key, {}), "flagged_pairs": dict(flagged_counts.get(key, {}))}

    report = {
        "settings": settings,
        "datasets": datasets,
        "problems_compared": {b: len(v) for b, v in per_problem.items()},
        "pruning": {"measures": measures, "benchmarks": prune_benchmarks or "all", "exercises": total_exercises,
                    "by_tau": pruning},
        "humaneval_subsets": subsets,
        "problems": per_problem,
    }
    for name in REPORTED_APART:
        if name in per_problem:
            report[name] = _apart_summary(per_problem[name], [r for r in every_row if r["benchmark"] == name],
                                          list(datasets))
    write_json(out_json, report)
    with atomic_path(out_md) as tmp:
        tmp.write_text(_markdown(report, taus))
    _plot(report, rows, taus, plot)
    return report


def _apart_summary(problems: dict[str, dict], rows: list[dict], datasets: list[str]) -> dict:
    """How close a benchmark reported apart comes to the training data: per dataset, the problems with a
    flagged pair, by any measure and by each; per measure, the median of each problem's closest score, and
    the problems at AST match rate 1. `rows` are the benchmark's match rows."""
    def median(values: list[float]) -> float | None:
        values = sorted(values)
        return round((values[(len(values) - 1) // 2] + values[len(values) // 2]) / 2, 4) if values else None

    closest = [p["closest"] for p in problems.values()]
    return {"problems": len(problems),
            "flagged_problems": {d: sum(p["flagged_pairs"].get(d, 0) > 0 for p in problems.values()) for d in datasets},
            "flagged_problems_by_measure": {d: {m: len({r["task_id"] for r in rows if r["dataset"] == d
                                                        and m in r["flagged_by"]}) for m in MEASURES}
                                            for d in datasets},
            "closest_median": {m: median([c[m]["score"] for c in closest if m in c]) for m in MEASURES},
            "ast_match_1": sum(c.get("ast", {}).get("score") == 1.0 for c in closest)}


def _fmt(score) -> str:
    return "-" if score is None else f"{score:.3f}"


def _markdown(report: dict, taus: list[float]) -> str:
    s = report["settings"]
    lines = [
        "# Decontamination report",
        "",
        f"Measures: {s['ngram']['n']}-gram overlap (flag at >= {s['ngram']['threshold']}), embedding L2 distance "
        f"(flag at <= {s['embedding']['threshold']}), AST match rate (tau in {', '.join(map(str, taus))}).",
        "",
        "## Training data compared",
        "",
        "| dataset | items | code units | unparseable items | flagged items | by n-gram | by embedding | by AST |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for name, d in report["datasets"].items():
        m = d["flagged_items_by_measure"]
        emb = m["embedding"] if d["embedding"] else "off"
        lines.append(f"| {name} | {d['items']:,} | {d['units']:,} | {d['unparseable_items']:,} | {d['flagged_items']:,} "
                     f"| {m['ngram']:,} | {emb} | {m['ast']:,} |")
    p = report["pruning"]
    lines += ["", f"## Pruned CodeExercises ({p['exercises']:,} exercises; pruned by {', '.join(p['measures'])} "
              f"against {p['benchmarks'] if isinstance(p['benchmarks'], str) else ', '.join(p['benchmarks'])})", "",
              "| tau | removed | share | kept | HumanEval similar | non-similar |", "|---:|---:|---:|---:|---:|---:|"]
    for tau in taus:
        t, h = p["by_tau"][str(tau)], report["humaneval_subsets"][str(tau)]
        lines.append(f"| {tau} | {t['removed']:,} | {t['removed_share']:.1%} | {t['kept']:,} | {len(h['similar'])} "
                     f"| {len(h['non_similar'])} |")
    lines += ["", "## Problems with the closest training items (top 20 by AST match rate)", "",
              "| problem | AST | item | n-gram | item | embedding | item |", "|---|---:|---|---:|---|---:|---|"]
    ranked = sorted(((b, t, v["closest"]) for b, probs in report["problems"].items() if b not in REPORTED_APART
                     for t, v in probs.items()),
                    key=lambda x: -(x[2].get("ast", {}).get("score") or 0))
    for _, task_id, c in ranked[:20]:
        cells = []
        for measure in ("ast", "ngram", "embedding"):
            best = c.get(measure)
            cells += [_fmt(best and best["score"]), f"{best['dataset']}:{best['id']}" if best else "-"]
        lines.append(f"| {task_id} | " + " | ".join(cells) + " |")
    if HELDOUT in report:
        h = report[HELDOUT]
        lines += _apart_heading(h, s, "The demo's held-out exercises", (
            f"{h['problems']} problems, written for function names no training exercise has. {h['ast_match_1']} have "
            "a training item with AST match rate 1 (the same syntax tree up to names and values: tasks of the kinds "
            "training shows)."))
        lines += ["| dataset | held-out problems with a flagged pair |", "|---|---:|"]
        lines += [f"| {d} | {n} |" for d, n in h["flagged_problems"].items()]
    if REALCODE in report:
        h = report[REALCODE]
        lines += _apart_heading(h, s, "The validation set of real code", (
            f"{h['problems']} documented functions of the corpus files held out of every training dataset "
            f"(validation.share): real code no teacher wrote. {h['ast_match_1']} have a training item with AST match "
            "rate 1."))
        lines += ["| dataset | problems with a flagged pair | by n-gram | by embedding | by AST |", "|---|---:|---:|---:|---:|"]
        for d, n in h["flagged_problems"].items():
            m = h["flagged_problems_by_measure"][d]
            emb = m["embedding"] if report["datasets"][d]["embedding"] else "off"
            lines.append(f"| {d} | {n} | {m['ngram']} | {emb} | {m['ast']} |")
    return "\n".join(lines) + "\n"


def _apart_heading(summary: dict, settings: dict, title: str, intro: str) -> list[str]:
    """The heading and first paragraph of a benchmark reported apart: `intro`, then its median closest item."""
    median = summary["closest_median"]
    return ["", f"## {title} (reported, never pruned for)", "",
            f"{intro} Median closest item: AST match rate {_fmt(median['ast'])}, {settings['ngram']['n']}-gram overlap "
            f"{_fmt(median['ngram'])}, embedding distance {_fmt(median['embedding'])}.", ""]


def _plot(report: dict, rows: list[dict], taus: list[float], path: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4))
    shares = [100 * report["pruning"]["by_tau"][str(t)]["removed_share"] for t in taus]
    left.plot(taus, shares, marker="o")
    left.invert_xaxis()
    left.set(xlabel="AST match rate threshold tau", ylabel="% of CodeExercises removed", title="Pruning")
    best: dict[tuple[str, str], float] = {}
    for r in rows:
        if r["dataset"] == "exercises" and r["benchmark"] == "humaneval" and r["ast"] is not None:
            key = (r["dataset"], r["task_id"])
            best[key] = max(best.get(key, 0.0), r["ast"])
    values = [best.get(("exercises", t), 0.0) for t in report["problems"].get("humaneval", {})]
    right.hist(values, bins=[i / 20 for i in range(21)])
    for tau in taus:
        right.axvline(tau, color="grey", linestyle=":", linewidth=1)
    right.set(xlabel="highest AST match rate found with an exercise",
              ylabel="HumanEval problems", title="HumanEval vs CodeExercises")
    fig.tight_layout()
    with atomic_path(path) as tmp:
        fig.savefig(tmp, dpi=120, format="png")
    plt.close(fig)
