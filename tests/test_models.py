"""The contract every registered model keeps, shown on TF-IDF (the transformer has its own, slower file)."""

import pickle
from pathlib import Path

import numpy as np
import pytest

from clf.data import load_dataset
from clf.labels import INDEX, LABELS
from clf.models import registry
from clf.predictor import Predictor
from clf.thresholds import decide, tune

TEXTS = ["We collect your e-mail address.", "You can opt out at any time.", "Privacy Policy"]


def test_fit_predict_save_load_gives_identical_scores(tmp_path, tiny_data):
    data = load_dataset(tiny_data)
    model = registry.create("tfidf", {"max_features": 5000}).fit(data.texts, data.y)
    scores = model.predict_proba(TEXTS)
    assert scores.shape == (3, len(LABELS)) and (scores >= 0).all() and (scores <= 1).all()
    model.save(tmp_path / "m")
    again = registry.load(tmp_path / "m").predict_proba(TEXTS)
    np.testing.assert_array_equal(scores, again)


def test_the_model_learns_something(tiny_data):
    data = load_dataset(tiny_data)
    model = registry.create("tfidf", {}).fit(data.texts, data.y)
    scores = model.predict_proba(["We share your address with the courier.", "All traffic is encrypted with TLS."])
    assert scores[0].argmax() == INDEX["Third Party Sharing/Collection"]
    assert scores[1].argmax() == INDEX["Data Security"]


def test_a_saved_model_contains_no_pickle(tfidf_dir: Path):
    files = [p for p in tfidf_dir.rglob("*") if p.is_file()]
    assert {p.name for p in files} >= {"model.safetensors", "vocab.json", "config.yaml", "thresholds.json"}
    for path in files:
        with pytest.raises(Exception):  # noqa: B017 - any failure to unpickle is the point
            pickle.loads(path.read_bytes())


def test_predictor_load_round_trip(tfidf_dir):
    predictor = Predictor.load(tfidf_dir)
    scores = predictor.scores(TEXTS)
    np.testing.assert_array_equal(scores, Predictor.load(tfidf_dir).scores(TEXTS))
    assert predictor.decide(scores).sum(axis=1).min() >= 1


def test_unknown_backend_is_refused(tfidf_dir):
    from clf.errors import ConfigError

    with pytest.raises(ConfigError, match="runs on default, not 'torch'"):
        Predictor.load(tfidf_dir, "torch")


def test_thresholds_maximise_f1_on_the_tuning_data():
    y = np.zeros((6, 12), dtype=np.int8)
    y[:3, 0] = 1
    scores = np.full((6, 12), 0.01)
    scores[:, 0] = [0.9, 0.8, 0.35, 0.3, 0.1, 0.05]
    t = tune(y, scores)
    assert 0.3 < t[0] <= 0.35  # the only cut that separates the three positives
    assert t[1] == 0.5  # a label with no positive keeps the neutral threshold


def test_decisions_follow_the_spec_order():
    thresholds = np.full(12, 0.5)
    ig, pnc, fp = INDEX["Introductory/Generic"], INDEX["Practice not covered"], INDEX["First Party Collection/Use"]
    scores = np.zeros((3, 12))
    scores[0, [ig, fp]] = 0.9  # a fallback never stands beside a practice
    scores[1, [ig, pnc]] = [0.7, 0.8]  # at most one fallback: the stronger
    scores[2, fp] = 0.2  # nothing over threshold: the best label anyway
    pred = decide(scores, thresholds)
    assert pred[0].nonzero()[0].tolist() == [fp]
    assert pred[1].nonzero()[0].tolist() == [pnc]
    assert pred[2].nonzero()[0].tolist() == [fp]
    assert decide(scores, thresholds, always_one_label=False)[2].sum() == 0


def test_an_ensemble_averages_its_members_and_round_trips(tmp_path, tiny_data):
    data = load_dataset(tiny_data)
    members = [{"model": "tfidf", "params": {"C": 1.0}}, {"model": "tfidf", "params": {"C": 100.0}}]
    ensemble = registry.create("ensemble", {"members": members}).fit(data.texts, data.y)
    single = [registry.create("tfidf", m["params"]).fit(data.texts, data.y).predict_proba(TEXTS) for m in members]
    np.testing.assert_allclose(ensemble.predict_proba(TEXTS), (single[0] + single[1]) / 2, atol=1e-6)
    ensemble.save(tmp_path / "e")
    np.testing.assert_array_equal(registry.load(tmp_path / "e").predict_proba(TEXTS), ensemble.predict_proba(TEXTS))


@pytest.mark.parametrize("name", registry.names())
def test_every_parameter_has_a_rule_and_every_shipped_config_passes_it(name):
    import inspect

    from clf.config import CONFIGS_DIR, load_config

    cls = registry.get(name)
    assert set(cls.param_rules) == set(inspect.signature(cls.__init__).parameters) - {"self"}
    if (CONFIGS_DIR / f"{name}.yaml").exists():
        config = load_config(name)
        assert config.params == registry.check_params(name, config.params)


def test_a_number_yaml_read_as_text_is_used_as_a_number():
    from clf.errors import ConfigError

    assert registry.check_params("tfidf", {"C": "3e-1", "max_features": None}) == {"C": 0.3, "max_features": None}
    for bad in ({"C": True}, {"C": "nan"}, {"max_iter": 2.5}, {"min_df": 0}, {"max_features": "all"}):
        with pytest.raises(ConfigError, match="is not accepted; use"):
            registry.check_params("tfidf", bad)
