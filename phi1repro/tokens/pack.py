"""Token shards: the documents of parquet files tokenized into one flat stream of ids, for training.

A shard is two files with one stem:
- `{stem}.bin`: the token ids as little-endian uint16, no header; every document's tokens followed
  by the EOS id (documents joined with <|endoftext|>, as phi-1 did).
- `{stem}.json`, its index: tokens, documents, skipped_empty (null or "" texts, not packed), dtype
  ("uint16"), eos_id, vocab_size (len(tokenizer)), tokenizer_sha256 (of its tokenizer.json), sha256
  (of the .bin), sources (the input files, in packing order), seconds, tokens_per_s.
The .bin is written first and the index last, each atomically, so an index always describes a
complete .bin.

A text is tokenized as text throughout: a literal "<|endoftext|>" in it is encoded as characters
(split_special_tokens), so only the packer marks where documents end.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import time
from pathlib import Path

import numpy as np
from transformers import PreTrainedTokenizerBase

from ..errors import InputError
from ..io import atomic_path, file_sha256, read_json, write_json
from ..progress import progress
from .tokenizer import load_tokenizer, open_texts, text_batches, tokenizer_sha256

TOKEN_DTYPE = np.dtype("<u2")
# What a reader needs of an index (the packer writes more: documents, sha256s, sources, throughput).
INDEX_FIELDS = ("tokens", "dtype", "eos_id", "vocab_size")


def pack_files(inputs: list[str], tokenizer_dir: str, out_bin: str, out_index: str, text_column: str = "text",
               batch_size: int = 1024) -> dict:
    """Tokenize the `text_column` of parquet `inputs`, in order, into the shard `out_bin` and its index
    `out_index` (the same stem); return the index."""
    if Path(out_bin).suffix != ".bin" or Path(out_index) != Path(out_bin).with_suffix(".json"):
        raise ValueError(f"a shard is {{stem}}.bin with its index {{stem}}.json, not {out_bin} and {out_index}: "
                         "readers find the .bin beside its index")
    start = time.perf_counter()
    tokenizer = load_tokenizer(tokenizer_dir)
    identity = tokenizer_sha256(tokenizer_dir)
    eos = tokenizer.eos_token_id
    Path(out_index).unlink(missing_ok=True)  # never leave an old index beside a new .bin
    tokens = documents = skipped = 0
    digest = hashlib.sha256()
    with contextlib.ExitStack() as stack:
        parquets = [stack.enter_context(open_texts(path, text_column)) for path in inputs]  # all checked first
        total = sum(parquet.metadata.num_rows for parquet in parquets)
        with atomic_path(out_bin) as tmp, open(tmp, "wb") as out, \
                progress(desc=f"pack {Path(out_bin).name}", total=total) as bar:
            for path, parquet in zip(inputs, parquets):
                for batch in text_batches(parquet, path, text_column, batch_size):
                    texts = [text for text in batch.to_pylist() if text]
                    if texts:
                        data = encode_documents(tokenizer, texts, eos).tobytes()
                        out.write(data)
                        digest.update(data)
                        tokens += len(data) // TOKEN_DTYPE.itemsize
                    documents += len(texts)
                    skipped += len(batch) - len(texts)
                    bar.update(len(batch))
    seconds = time.perf_counter() - start
    index = {"tokens": tokens, "documents": documents, "skipped_empty": skipped, "dtype": "uint16", "eos_id": eos,
             "vocab_size": len(tokenizer), "tokenizer_sha256": identity, "sha256": digest.hexdigest(),
             "sources": [str(path) for path in inputs], "seconds": round(seconds, 3),
             "tokens_per_s": round(tokens / seconds, 1)}
    write_json(out_index, index)
    return index


def encode_documents(tokenizer: PreTrainedTokenizerBase, texts: list[str], eos: int) -> np.ndarray:
    """The texts' tokens (by the fast tokenizer's Rust threads), each document followed by `eos`."""
    encoded = tokenizer(texts, add_special_tokens=False, split_special_tokens=True, return_attention_mask=False,
                        return_token_type_ids=False, verbose=False)["input_ids"]
    flat: list[int] = []
    for ids in encoded:
        flat += ids
        flat.append(eos)
    return np.array(flat, dtype=TOKEN_DTYPE)  # load_tokenizer checked that every id fits


def read_index(path: str | os.PathLike) -> dict:
    """A shard's index, checked to have every field of the format."""
    index = read_json(path)
    if not isinstance(index, dict):
        raise InputError(path, "not a token index (a JSON object)")
    missing = [field for field in INDEX_FIELDS if field not in index]
    if missing:
        raise InputError(path, f"not a token index: no {', '.join(missing)}")
    if index["dtype"] != "uint16":
        raise InputError(path, f"dtype {index['dtype']!r}; shards are uint16")
    return index


def open_tokens(index_path: str | os.PathLike, verify: bool = False) -> np.ndarray:
    """The tokens of the .bin beside an index, as a read-only uint16 memmap (an empty array for an
    empty shard), checked to have the index's size and, with `verify`, its sha256."""
    index = read_index(index_path)
    path = Path(index_path).with_suffix(".bin")
    expected = index["tokens"] * TOKEN_DTYPE.itemsize
    try:
        size = path.stat().st_size
    except FileNotFoundError:
        raise InputError(path, f"file not found (the shard of the index {index_path})") from None
    if size != expected:
        raise InputError(path, f"{size} bytes, but its index {index_path} has {index['tokens']} tokens "
                               f"({expected} bytes): the shard is truncated or was rewritten; pack it again")
    if verify:
        actual = file_sha256(path)
        if actual != index["sha256"]:
            raise InputError(path, f"sha256 {actual}, but its index {index_path} has {index['sha256']}: "
                                   "the shard is corrupt or was rewritten; pack it again")
    if not index["tokens"]:  # an empty file cannot be mapped
        empty = np.zeros(0, TOKEN_DTYPE)
        empty.flags.writeable = False
        return empty
    return np.memmap(path, dtype=TOKEN_DTYPE, mode="r", shape=(index["tokens"],))


def summarize_indexes(datasets: dict[str, list[str]], out: str | os.PathLike) -> dict:
    """The tokens stage's stats: per training dataset, its shards, documents and tokens."""
    summary = {}
    for dataset, paths in datasets.items():
        indexes = [read_index(path) for path in paths]
        summary[dataset] = {
            "shards": len(indexes),
            **{key: sum(index[key] for index in indexes) for key in ("documents", "skipped_empty", "tokens")},
        }
    write_json(out, {"datasets": summary})
    return summary
