import glob

from phi1repro.config import validate_config


validate_config(
    config,
    workflow.source_path("../schemas/config.schema.yaml"),
    source=", ".join(map(str, workflow.overwrite_configfiles)) or "config.yaml",
)

wildcard_constraints:
    source="[a-z0-9_]+",
    shard=r"\d{5}",


# ---- corpus: sources and their shards, known at parse time so a dry run lists every job ----

CORPUS_SOURCES = {source["name"]: source for source in config["corpus"]["sources"]}
if len(CORPUS_SOURCES) != len(config["corpus"]["sources"]):
    raise ValueError("corpus.sources: source names must be unique")


def source_inputs(source):
    """The input files of a file-sharded source (one shard each), sorted; none for `local`.

    Patterns that match nothing stand in as the single input, so Snakemake reports them as
    missing input files when a target needs them (and a config for data you do not have
    still parses, lints and dry-runs its other targets).
    """
    if source["kind"] == "local":
        return []
    files = sorted({f for pattern in source["paths"] for f in glob.glob(pattern, recursive=True)})
    return files or source["paths"][:1]


CORPUS_INPUTS = {name: source_inputs(source) for name, source in CORPUS_SOURCES.items()}


def source_shard_count(name):
    source = CORPUS_SOURCES[name]
    return source["shards"] if source["kind"] == "local" else len(CORPUS_INPUTS[name])


CORPUS_SHARDS = [
    (name, f"{i:05d}")
    for name in CORPUS_SOURCES
    for i in range(source_shard_count(name))
]


def corpus_raw_input(wildcards):
    """The shard's input file, so Snakemake reruns the shard when the file changes."""
    files = CORPUS_INPUTS[wildcards.source]
    return {"data": files[int(wildcards.shard)]} if files else {}


def corpus_shard_params(wildcards):
    return {
        "source": CORPUS_SOURCES[wildcards.source],
        "shard": int(wildcards.shard),
        "num_shards": source_shard_count(wildcards.source),
    }


def corpus_shard_files(directory, suffix="parquet"):
    """One file per corpus shard under `directory` ({source}-{shard}.{suffix}), in corpus order."""
    return [f"{directory}/{s}-{i}.{suffix}" for s, i in CORPUS_SHARDS]

