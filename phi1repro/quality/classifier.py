"""The quality classifier: a random forest on code embeddings that predicts the teacher's verdict.

phi-1 trains a random forest on the embeddings of the teacher-labelled files to predict which
files have high educational value, then applies it to the whole corpus. Here a label is positive
when the teacher's score (0-5) is at least `label_threshold`; the forest is fitted on a seeded,
stratified split and evaluated on the held-out part, so the same seed gives the same metrics
and the same model.
"""

from __future__ import annotations

import dataclasses
import logging
import os
import time
from dataclasses import dataclass
from pathlib import Path

import joblib
import numpy as np
import pyarrow.compute as pc
import pyarrow.parquet as pq
import sklearn
from matplotlib.figure import Figure
from sklearn.ensemble import RandomForestClassifier
from sklearn.metrics import (accuracy_score, confusion_matrix, f1_score, precision_score, recall_score,
                             roc_auc_score, roc_curve)
from sklearn.model_selection import train_test_split

from ..errors import InputError
from ..io import atomic_path, read_parquet, write_json
from .embed import embedder_identity, read_embeddings

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ClassifierConfig:
    label_threshold: int = 3  # teacher score >= this: positive (high educational value)
    n_estimators: int = 200
    max_depth: int | None = None
    min_samples_leaf: int = 1
    test_fraction: float = 0.2
    min_per_class: int = 10  # labelled examples of each class needed: 2 held out at test_fraction 0.2
    seed: int = 0
    n_jobs: int = -1

    def __post_init__(self):
        if not 1 <= self.label_threshold <= 5:
            raise ValueError(f"label_threshold {self.label_threshold} is not a teacher score from 1 to 5")
        if not 0 < self.test_fraction < 1:
            raise ValueError(f"test_fraction {self.test_fraction} is not between 0 and 1")


@dataclass(frozen=True)
class QualityClassifier:
    """A fitted forest with what scoring must check: the embedding dimension and embedder."""

    forest: RandomForestClassifier
    dim: int
    embedder: dict | None  # the identity recorded in the training embeddings, if any
    label_threshold: int

    def probability(self, vectors: np.ndarray) -> np.ndarray:
        """The probability of high educational value of each row of `vectors`, as float32."""
        return self.forest.predict_proba(vectors)[:, 1].astype(np.float32)


def save_classifier(path: str | os.PathLike, classifier: QualityClassifier) -> None:
    with atomic_path(path) as tmp:
        joblib.dump(classifier, tmp)


def load_classifier(path: str | os.PathLike) -> QualityClassifier:
    try:
        classifier = joblib.load(path)
    except FileNotFoundError:
        raise InputError(path, "file not found") from None
    if not isinstance(classifier, QualityClassifier):
        raise InputError(path, f"holds a {type(classifier).__name__}, not a QualityClassifier")
    return classifier


def training_set(labels_path: str, embeddings_path: str, cfg: ClassifierConfig) -> tuple[np.ndarray, np.ndarray]:
    """Embeddings and binary labels of the labelled rows (score not null), joined by id."""
    labels = read_parquet(labels_path, columns=["id", "score"])
    labels = labels.filter(pc.is_valid(labels.column("score")))
    if not labels.num_rows:
        raise InputError(labels_path, "no labelled rows (every score is null)")
    ids, _, vectors = read_embeddings(embeddings_path)
    index = {id_: i for i, id_ in enumerate(ids.to_pylist())}
    label_ids = labels.column("id").to_pylist()
    missing = [id_ for id_ in label_ids if id_ not in index]
    if missing:
        raise InputError(embeddings_path, f"no embedding for {len(missing)} of {len(label_ids)} labelled ids (e.g. "
                                          f"{missing[0]}); were they computed from another sample than {labels_path}?")
    y = (labels.column("score").to_numpy() >= cfg.label_threshold).astype(np.int8)
    for cls, name, op in ((1, "positive", ">="), (0, "negative", "<")):
        count = int(np.sum(y == cls))
        if count < cfg.min_per_class:
            raise InputError(labels_path, f"only {count} {name} examples (score {op} {cfg.label_threshold}); "
                                          f"need at least {cfg.min_per_class}")
    return vectors[[index[id_] for id_ in label_ids]], y


def train_classifier(labels_path: str, sample_embeddings_path: str, cfg: ClassifierConfig, model_out: str,
                     metrics_out: str, plots_dir: str) -> dict:
    """Fit the forest on the labelled sample; write the model, held-out metrics and plots
    (roc.png, score_histogram.png). Returns the metrics."""
    start = time.perf_counter()
    x, y = training_set(labels_path, sample_embeddings_path, cfg)
    x_train, x_test, y_train, y_test = train_test_split(x, y, test_size=cfg.test_fraction, stratify=y,
                                                        random_state=cfg.seed)
    if len(np.unique(y_test)) < 2:
        raise ValueError(f"test_fraction {cfg.test_fraction} leaves a class out of the {len(y_test)} held-out "
                         "examples; raise it or label more files")
    forest = RandomForestClassifier(n_estimators=cfg.n_estimators, max_depth=cfg.max_depth,
                                    min_samples_leaf=cfg.min_samples_leaf, random_state=cfg.seed, n_jobs=cfg.n_jobs)
    forest.fit(x_train, y_train)
    embedder = embedder_identity(pq.read_schema(sample_embeddings_path))
    classifier = QualityClassifier(forest, x.shape[1], embedder, cfg.label_threshold)
    save_classifier(model_out, classifier)

    proba = classifier.probability(x_test)
    metrics = held_out_metrics(y_test, proba)
    metrics.update(
        class_balance={split: {"positive": int(np.sum(labels == 1)), "negative": int(np.sum(labels == 0))}
                       for split, labels in (("train", y_train), ("test", y_test))},
        n_train=len(y_train), n_test=len(y_test), dim=int(x.shape[1]), embedder=embedder,
        config={k: v for k, v in dataclasses.asdict(cfg).items() if k != "n_jobs"},  # n_jobs changes nothing
        sklearn_version=sklearn.__version__,
    )
    write_json(metrics_out, metrics)
    plot_roc(y_test, proba, metrics["roc_auc"], Path(plots_dir) / "roc.png")
    plot_histogram(y_test, proba, Path(plots_dir) / "score_histogram.png")
    log.info("trained on %d, held out %d: ROC-AUC %.3f, F1 %.3f, precision %.3f, recall %.3f (%.1f s)",
             len(y_train), len(y_test), metrics["roc_auc"], metrics["f1"], metrics["precision"], metrics["recall"],
             time.perf_counter() - start)
    return metrics


def held_out_metrics(y: np.ndarray, proba: np.ndarray) -> dict:
    """Precision, recall, F1 and accuracy of `proba >= 0.5`, ROC-AUC and the confusion matrix."""
    pred = (proba >= 0.5).astype(np.int8)
    tn, fp, fn, tp = confusion_matrix(y, pred, labels=[0, 1]).ravel()
    scores = {"precision": precision_score(y, pred, zero_division=0), "recall": recall_score(y, pred, zero_division=0),
              "f1": f1_score(y, pred, zero_division=0), "roc_auc": roc_auc_score(y, proba),
              "accuracy": accuracy_score(y, pred)}
    return {**{k: round(float(v), 6) for k, v in scores.items()},
            "confusion_matrix": {"tn": int(tn), "fp": int(fp), "fn": int(fn), "tp": int(tp)}}


def plot_roc(y: np.ndarray, proba: np.ndarray, auc: float, path: Path) -> None:
    fpr, tpr, _ = roc_curve(y, proba)
    fig = Figure(figsize=(5, 5))
    ax = fig.subplots()
    ax.plot(fpr, tpr, label=f"random forest (AUC {auc:.3f})")
    ax.plot([0, 1], [0, 1], linestyle="--", color="grey", label="chance")
    ax.set(xlabel="false positive rate", ylabel="true positive rate", title=f"Held-out ROC ({len(y)} files)")
    ax.legend(loc="lower right")
    save_figure(fig, path)


def plot_histogram(y: np.ndarray, proba: np.ndarray, path: Path) -> None:
    fig = Figure(figsize=(6, 4))
    ax = fig.subplots()
    bins = np.linspace(0, 1, 21)
    for cls, name in ((0, "negative"), (1, "positive")):
        ax.hist(proba[y == cls], bins=bins, alpha=0.6, label=f"{name} ({int(np.sum(y == cls))})")
    ax.set(xlabel="predicted probability of high educational value", ylabel="held-out files",
           title="Held-out predictions by teacher label")
    ax.legend()
    save_figure(fig, path)


def save_figure(fig: Figure, path: str | os.PathLike) -> None:
    """Write a figure as PNG, atomically (matplotlib's object API: no pyplot, no global backend)."""
    fig.tight_layout()
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format="png", dpi=120)
