"""Rule quality_classifier: a random forest on the labelled sample's embeddings, with held-out metrics and plots."""

from pathlib import Path

from phi1repro.quality.classifier import ClassifierConfig, train_classifier
from phi1repro.workflow import run_step

run_step(
    snakemake,
    train_classifier,
    labels_path=snakemake.input.labels,
    sample_embeddings_path=snakemake.input.embeddings,
    cfg=ClassifierConfig(**snakemake.params.classifier, n_jobs=snakemake.threads),
    model_out=snakemake.output.model,
    metrics_out=snakemake.output.metrics,
    plots_dir=str(Path(snakemake.output.roc).parent),
)
