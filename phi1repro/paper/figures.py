"""Figure 2.1 (HumanEval pass@1 by dataset, model size and tokens seen, with the likelihood of HumanEval's
solutions below it) and Figure 3.1 (imports across CodeExercises), as PNG and PDF, with the data drawn
written beside them as JSON."""

from __future__ import annotations

from matplotlib.figure import Figure
from matplotlib.patches import Patch

from ..errors import InputError
from ..io import atomic_path, read_json, write_json
from .reference import DATASETS, FIGURE_2_1, FIGURE_2_1_NOTE
from .results import Model, Score, human_count, read_models

BAR = 0.13


def save(fig: Figure, png: str, pdf: str) -> None:
    """PNG and PDF, byte-for-byte the same from the same data (no creation date in the PDF)."""
    for path, options in ((png, {"format": "png", "dpi": 150}), (pdf, {"format": "pdf", "metadata": {"CreationDate": None}})):
        with atomic_path(path) as tmp:
            fig.savefig(tmp, **options)


def figure_2_1_data(groups: list[dict], models: dict[str, Model], scores: dict[str, Score],
                    with_paper: bool = True, likelihood: bool = False) -> list[dict]:
    """The bars: per group, per dataset, our model's pass@1 (%) and interval, and the paper's (`with_paper`);
    or with `likelihood`, the reference solutions' NLL (nats per token) and its interval."""
    data = []
    for group in groups:
        paper = FIGURE_2_1.get(group["paper"], {}) if group["paper"] and with_paper else {}
        bars = {}
        for dataset in DATASETS:  # the paper's order (the config's keys come sorted)
            if (name := group["bars"].get(dataset)) is None and paper.get(dataset) is None:
                continue
            bar = {"model": name, "paper": paper.get(dataset)}
            if name is not None:
                score, model = scores[name], models[name]
                if likelihood:
                    bar.update(ours=score.nll, ci95=list(score.nll_ci95))
                else:
                    bar.update(ours=round(100 * score.pass_at_1, 2), ci95=[round(100 * x, 2) for x in score.ci95])
                bar.update(parameters=model.parameters, tokens_seen=model.tokens_seen)
            bars[dataset] = bar
        data.append({"label": group["label"], "paper_group": group["paper"], "bars": bars})
    return data


PANELS = {  # panel -> (benchmark, y label)
    "humaneval": ("humaneval", "HumanEval pass@1 (%)"),
    "humaneval_nll": ("humaneval", "HumanEval solutions' NLL\n(nats per token, lower is better)"),
    "heldout": ("heldout", "Held-out exercises pass@1 (%)\n(whether the exercises' format was learned)"),
}


def figure_2_1(groups: list[dict], models: dict[str, dict], scale: str, png: str, pdf: str, data_out: str) -> list[dict]:
    """The grouped bars of `groups` (config paper.figure_2_1.groups) for `models` (see results.read_models):
    HumanEval beside the paper's numbers; below it the likelihood of HumanEval's canonical solutions, and the
    held-out exercises, where every model has them."""
    models, scores = read_models(models)
    panels = {}
    for panel, (benchmark, _) in PANELS.items():
        scored = {name: each.get(benchmark) for name, each in scores.items()}
        if all(s is not None and (panel != "humaneval_nll" or s.nll is not None) for s in scored.values()):
            panels[panel] = figure_2_1_data(groups, models, scored, with_paper=panel == "humaneval",
                                            likelihood=panel == "humaneval_nll")
    fig = Figure(figsize=(max(7.0, 2.6 * len(groups) + 1), 1.2 + 4.0 * len(panels)), layout="constrained")
    for ax, (panel, data) in zip(fig.subplots(len(panels), 1, squeeze=False)[:, 0], panels.items()):
        _draw_bars(ax, data, PANELS[panel][1], likelihood=panel == "humaneval_nll")
    fig.axes[0].set_title(f"pass@1 by training data, model size and tokens seen ({scale})", fontsize=10)
    handles = [Patch(color=colour, label=name) for name, colour in DATASETS.values()]
    handles += [Patch(facecolor="white", edgecolor="black", label="ours (95% interval)"),
                Patch(facecolor="white", edgecolor="black", hatch="///", alpha=0.4, label="paper")]
    fig.axes[0].legend(handles=handles, fontsize=7, loc="upper left")
    fig.text(0.01, 0.0, FIGURE_2_1_NOTE, fontsize=6, ha="left", va="bottom", wrap=True)
    fig.get_layout_engine().set(rect=(0, 0.05, 1, 0.95))
    save(fig, png, pdf)
    write_json(data_out, {"scale": scale, "groups": panels["humaneval"],
                          **({"likelihood_groups": panels["humaneval_nll"]} if "humaneval_nll" in panels else {}),
                          **({"heldout_groups": panels["heldout"]} if "heldout" in panels else {}),
                          "paper_note": FIGURE_2_1_NOTE})
    return panels["humaneval"]


def _draw_bars(ax, data: list[dict], ylabel: str, likelihood: bool = False) -> None:
    """Our bars with intervals (and the paper's, hatched); pass@1 in percent, or NLL with `likelihood`."""
    ticks, label = [], "{:.2f}" if likelihood else "{:.1f}"
    for x, group in enumerate(data):
        bars = group["bars"]
        for i, (dataset, bar) in enumerate(bars.items()):
            centre = x + (i - (len(bars) - 1) / 2) * 2 * BAR
            colour = DATASETS[dataset][1]
            if bar.get("ours") is not None:
                low, high = bar["ci95"]
                ax.bar(centre - BAR / 2, bar["ours"], BAR, color=colour, edgecolor="black", linewidth=0.5,
                       yerr=[[bar["ours"] - low], [high - bar["ours"]]], capsize=2, error_kw={"linewidth": 0.7})
                ax.text(centre - BAR / 2, high * 1.02 if likelihood else high + 0.8, label.format(bar["ours"]),
                        ha="center", fontsize=7)
            if bar["paper"] is not None:
                ax.bar(centre + BAR / 2, bar["paper"], BAR, color=colour, alpha=0.4, hatch="///", edgecolor="black",
                       linewidth=0.5)
                ax.text(centre + BAR / 2, bar["paper"] + 0.8, f"{bar['paper']:g}", ha="center", fontsize=7)
        seen = sorted({bar["tokens_seen"] for bar in group["bars"].values() if bar.get("tokens_seen")})
        ours = f"ours: {human_count(seen[0])}–{human_count(seen[-1])} tokens" if len(seen) > 1 else (
            f"ours: {human_count(seen[0])} tokens" if seen else "")
        ticks.append("\n".join(filter(None, [group["label"], ours, f"paper: {group['paper_group']}" if group["paper_group"] else ""])))
    ax.set_xticks(range(len(data)), ticks, fontsize=8)
    ax.set_ylabel(ylabel, fontsize=9)
    bars = [bar for group in data for bar in group["bars"].values()]
    highest = max(0.0, *((bar["ci95"][1] if likelihood else bar["ours"]) for bar in bars if bar.get("ours") is not None),
                  *(bar["paper"] or 0 for bar in bars))
    ax.set_ylim(0, highest * 1.15 if likelihood else max(60.0, highest) + 8)


def figure_3_1(diversity: str, min_count: int, scale: str, png: str, pdf: str) -> list[tuple[str, int]]:
    """The modules CodeExercises imports, most imported first, on a log scale; those imported fewer than
    `min_count` times are left out, as in the paper (which drew it with phi-1's own plotting code)."""
    report = read_json(diversity)
    try:
        imports = report["exercises"]["imports"]
        modules = [(str(name), int(count)) for name, count in imports["modules"]]
    except (KeyError, TypeError, ValueError) as e:
        raise InputError(diversity, f"no exercises.imports.modules as [name, count] pairs ({e})") from None
    shown = sorted(((m, c) for m, c in modules if c >= min_count), key=lambda mc: (-mc[1], mc[0]))
    fig = Figure(figsize=(max(6.5, 0.25 * len(shown) + 1.5), 4.5), layout="constrained")
    ax = fig.subplots()
    ax.bar([m for m, _ in shown], [c for _, c in shown], color="tab:blue")
    ax.set_yscale("log")
    ax.tick_params(axis="x", labelrotation=90, labelsize=7)
    ax.set_xlabel("Imports")
    ax.set_ylabel("Log Number of Times")
    ax.set_title(f"Imports among {imports['exercises']:,} exercises in CodeExercises ({scale})\n"
                 f"{imports['share_without_imports']:.1%} import nothing; libraries imported fewer than {min_count} "
                 f"times left out: {len(modules) - len(shown)}", fontsize=8)
    save(fig, png, pdf)
    return shown
