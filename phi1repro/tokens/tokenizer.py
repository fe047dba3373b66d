"""Tokenizers: byte-level BPE trained on a parquet text column, or any local pretrained one.

A tokenizer is a directory that `transformers.AutoTokenizer.from_pretrained` loads: the one
`train_tokenizer` saves (tokenizer.json, tokenizer_config.json) or a pretrained download (phi-1
used codegen-350M-mono's). Its identity is the sha256 of its tokenizer.json, which every token
index records.

A trained tokenizer is GPT-2 style: the 256 bytes are its alphabet (any text encodes, nothing is
unknown), words get no prefix space, and `<|endoftext|>` is its one special token, standing for
end, beginning and unknown. Unlike GPT-2's, every newline is a token of its own, never merged with
the indentation after it. A prompt that ends a line (HumanEval's end with a docstring's closing
quotes and a newline) then tokenizes as a prefix of prompt + body, so generation goes on from tokens
seen in training. With GPT-2's split, the newline and the body's indentation are one token in
training, a prompt's lone newline is seen only at the end of a file, and greedy decoding ends at
once. Shards store ids as uint16, so a vocabulary holds at most 65536 tokens.
"""

from __future__ import annotations

import contextlib
import logging
import os
import shutil
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
from tokenizers import Regex, Tokenizer, decoders, models, pre_tokenizers, trainers
from transformers import AutoTokenizer, PreTrainedTokenizerBase, PreTrainedTokenizerFast

from ..errors import InputError
from ..io import file_sha256, open_parquet
from ..progress import progress

log = logging.getLogger(__name__)

EOS = "<|endoftext|>"
MAX_VOCAB = 1 << 16  # ids are stored as uint16
MIN_VOCAB = 257  # the 256 bytes and EOS
READ_ROWS = 1024  # parquet rows read at a time
SPLIT = (r"'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\n|[^\S\n]+(?!\S)|[^\S\n]+")
"""GPT-2's pre-tokenizing pattern with each newline split off on its own."""


def train_tokenizer(files: list[str], vocab_size: int, out_dir: str, text_column: str = "text",
                    max_documents: int | None = None, seed: int = 0) -> dict:
    """Train a byte-level BPE of `vocab_size` tokens (fewer if the texts run out of pairs to merge) on
    the `text_column` of parquet `files`, or on a sample of `max_documents` rows drawn by `seed`, and
    save it to `out_dir` (replacing an old one)."""
    if not MIN_VOCAB <= vocab_size <= MAX_VOCAB:
        raise ValueError(f"vocab_size {vocab_size} is outside {MIN_VOCAB}..{MAX_VOCAB}: a vocabulary holds the "
                         f"256 bytes and {EOS}, and token ids are stored as uint16")
    start = time.perf_counter()
    tokenizer = Tokenizer(models.BPE())
    tokenizer.pre_tokenizer = pre_tokenizers.Sequence([
        pre_tokenizers.Split(Regex(SPLIT), behavior="isolated"),
        pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False)])
    tokenizer.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=vocab_size, special_tokens=[EOS], show_progress=False,
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet())
    documents = 0

    def texts() -> Iterator[str]:
        nonlocal documents
        for text in iter_documents(files, text_column, max_documents, seed):
            documents += 1
            yield text
        log.info("read %d documents; computing merges", documents)

    tokenizer.train_from_iterator(texts(), trainer)
    if not documents:
        raise InputError(", ".join(files), f"no non-empty {text_column!r} text to train a tokenizer on")
    fast = PreTrainedTokenizerFast(tokenizer_object=tokenizer, eos_token=EOS, bos_token=EOS, unk_token=EOS)
    _save(fast, Path(out_dir))
    return {"documents": documents, "vocab_size": len(fast), "sha256": tokenizer_sha256(out_dir),
            "seconds": round(time.perf_counter() - start, 3)}


def _save(tokenizer: PreTrainedTokenizerFast, out: Path) -> None:
    """save_pretrained into a temporary directory beside `out`, then rename it onto `out`."""
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp, old = (out.with_name(f".{out.name}.{what}-{os.getpid()}") for what in ("tmp", "old"))
    try:
        tokenizer.save_pretrained(tmp)
        if out.exists():  # a directory cannot be renamed onto another: move the old one aside first
            os.replace(out, old)
        os.replace(tmp, out)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
        shutil.rmtree(old, ignore_errors=True)


def iter_documents(files: list[str], text_column: str = "text", max_documents: int | None = None,
                   seed: int = 0) -> Iterator[str]:
    """The non-empty texts of `text_column` in parquet `files`, in order. With `max_documents`, only the
    rows of a uniform sample of that many (without replacement, drawn by `seed` over all files' rows in
    order); sampled rows with empty texts are dropped, not replaced."""
    if max_documents is not None and max_documents < 1:
        raise ValueError(f"max_documents {max_documents} is not a positive number of documents")
    with contextlib.ExitStack() as stack:
        parquets = [stack.enter_context(open_texts(path, text_column)) for path in files]
        total = sum(parquet.metadata.num_rows for parquet in parquets)
        chosen = None
        if max_documents is not None and max_documents < total:
            chosen = np.sort(np.random.default_rng(seed).choice(total, size=max_documents, replace=False))
        offset = 0
        bar = stack.enter_context(progress(desc="read texts", total=total))
        for path, parquet in zip(files, parquets):
            for texts in text_batches(parquet, path, text_column):
                rows = len(texts)
                if chosen is not None:
                    lo, hi = np.searchsorted(chosen, [offset, offset + rows])
                    texts = texts.take(pa.array(chosen[lo:hi] - offset))
                offset += rows
                bar.update(rows)
                yield from filter(None, texts.to_pylist())


def open_texts(path: str, text_column: str) -> pq.ParquetFile:
    """A parquet file to stream, checked to have `text_column` as text."""
    parquet = open_parquet(path, [text_column])
    kind = parquet.schema_arrow.field(text_column).type
    if not (pa.types.is_string(kind) or pa.types.is_large_string(kind)):
        parquet.close()
        raise InputError(path, f"column {text_column!r} is {kind}, not text")
    return parquet


def text_batches(parquet: pq.ParquetFile, path: str, text_column: str,
                 batch_size: int = READ_ROWS) -> Iterator[pa.Array]:
    """`text_column`, `batch_size` rows at a time; corrupt data is an error naming the file."""
    try:
        for batch in parquet.iter_batches(batch_size=batch_size, columns=[text_column]):
            yield batch.column(0)
    except (pa.ArrowException, OSError) as e:
        raise InputError(path, f"corrupt parquet data ({e})") from None


def load_tokenizer(path: str) -> PreTrainedTokenizerBase:
    """A local tokenizer directory, checked to have an end-of-text token and ids that fit uint16."""
    if not Path(path).is_dir():
        raise InputError(path, "not a directory (a tokenizer is a directory saved by save_pretrained)"
                         if Path(path).exists() else "no such tokenizer directory")
    try:
        tokenizer = AutoTokenizer.from_pretrained(path, local_files_only=True)
    except (OSError, ValueError) as e:
        raise InputError(path, f"not a tokenizer directory ({' '.join(str(e).split())})") from None
    if tokenizer.eos_token_id is None:
        raise InputError(path, "the tokenizer has no end-of-text (eos) token to join documents with")
    if len(tokenizer) > MAX_VOCAB:
        raise InputError(path, f"the tokenizer has {len(tokenizer)} tokens; uint16 ids allow at most {MAX_VOCAB}")
    return tokenizer


def tokenizer_sha256(path: str) -> str:
    """The identity of a tokenizer directory: the sha256 of its tokenizer.json."""
    file = Path(path) / "tokenizer.json"
    try:
        return file_sha256(file)
    except FileNotFoundError:
        raise InputError(file, "file not found: a tokenizer is known by its tokenizer.json, which a fast "
                               "(tokenizers) tokenizer's save_pretrained writes") from None


def save_pretrained_tokenizer(path: str, out_dir: str) -> dict:
    """Save the pretrained tokenizer at `path` (a directory, or a hub name in the local Hugging Face
    cache, as for phi-1's codegen-350M-mono) to `out_dir`, where every token shard refers to it."""
    start = time.perf_counter()
    if not Path(path).exists():
        from huggingface_hub import snapshot_download
        from huggingface_hub.errors import LocalEntryNotFoundError

        try:
            path = snapshot_download(path, local_files_only=True)
        except (LocalEntryNotFoundError, ValueError) as e:
            raise InputError(path, "neither a directory nor a model in the local Hugging Face cache (download it "
                                   f"once with network, or give a directory): {str(e).splitlines()[0]}") from None
    tokenizer = load_tokenizer(path)
    _save(tokenizer, Path(out_dir))
    return {"source": path, "vocab_size": len(tokenizer), "sha256": tokenizer_sha256(out_dir),
            "seconds": round(time.perf_counter() - start, 3)}
