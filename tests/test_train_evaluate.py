"""Training writes complete model folders atomically; evaluation is leave-one-policy-out."""

import json

import pytest
import yaml
from typer.testing import CliRunner

from clf.cli import app
from clf.data import load_dataset
from clf.errors import ConfigError, DataError
from clf.evaluate import cross_validate, write_report
from clf.predictor import REQUIRED_FILES
from tests.conftest import TINY_OVERRIDES

runner = CliRunner()
TINY = [f"--set={o}" for o in TINY_OVERRIDES]


def test_train_writes_a_complete_model_folder(tmp_path, tiny_data):
    out = tmp_path / "model"
    result = runner.invoke(
        app,
        [
            "train",
            "--model",
            "tfidf",
            "--data",
            str(tiny_data),
            "--out",
            str(out),
            "--seed",
            "3",
            *TINY,
            "--set",
            "params.C=2.5",
        ],
    )
    assert result.exit_code == 0, result.output
    for name in (*REQUIRED_FILES, "README.md", "model.safetensors", "vocab.json"):
        assert (out / name).exists(), name
    config = yaml.safe_load((out / "config.yaml").read_text())
    assert config["params"]["C"] == 2.5 and config["seed"] == 3
    info = json.loads((out / "training.json").read_text())
    assert info["data"]["units"] == 36 and len(info["data"]["sha256"]) == 64 and info["seed"] == 3
    assert "scikit-learn" in info["versions"]
    assert "not legal advice" in (out / "README.md").read_text().lower()
    assert [p.name for p in tmp_path.iterdir()] == ["model"], "no temporary folders left behind"


def test_a_failed_training_leaves_the_old_model_intact(tmp_path, tiny_data, monkeypatch):
    out = tmp_path / "model"
    assert runner.invoke(app, ["train", "--data", str(tiny_data), "--out", str(out), *TINY]).exit_code == 0
    before = {p.name: p.read_bytes() for p in out.iterdir()}

    from clf.models.tfidf import TfidfModel

    def broken_save(self, folder):
        (folder / "half-written").write_text("x")
        raise OSError("disk full")

    monkeypatch.setattr(TfidfModel, "save_weights", broken_save)
    with pytest.raises(OSError):
        runner.invoke(app, ["train", "--data", str(tiny_data), "--out", str(out), *TINY], catch_exceptions=False)
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model"]


@pytest.mark.parametrize(
    ("line", "message"),
    [
        (
            '{"text": "x", "labels": ["Data Securty"]}',
            "demo.jsonl:2: unknown label 'Data Securty' (did you mean 'Data Security'?)",
        ),
        ('{"text": "", "labels": ["Data Security"]}', "demo.jsonl:2: 'text' must be a non-empty string"),
        ('{"text": "x", "labels": []}', "demo.jsonl:2: 'labels' is empty"),
        ('{"text": "x", "labels": "Data Security"}', "demo.jsonl:2: 'labels' must be a list"),
        ('{"text": "x", ', "demo.jsonl:2: invalid JSON"),
        ("[1, 2]", "demo.jsonl:2: each line must be a JSON object"),
    ],
)
def test_bad_training_data_stops_before_training_with_file_and_line(tmp_path, line, message):
    data = tmp_path / "demo.jsonl"
    data.write_text('{"text": "We keep logs.", "labels": ["Data Retention"]}\n' + line + "\n", encoding="utf-8")
    out = tmp_path / "model"
    result = runner.invoke(app, ["train", "--data", str(data), "--out", str(out)])
    assert result.exit_code == 2
    assert message in result.output and "Traceback" not in result.output
    assert not out.exists()


def test_missing_data_and_bad_configs_are_one_line_errors(tmp_path):
    result = runner.invoke(app, ["train", "--data", str(tmp_path / "nope.jsonl"), "--out", str(tmp_path / "m")])
    assert result.exit_code == 2 and "nope.jsonl: file not found" in result.output
    result = runner.invoke(app, ["train", "--model", "nosuch", "--out", str(tmp_path / "m")])
    assert result.exit_code == 2 and "config file not found" in result.output
    bad = tmp_path / "bad.yaml"
    bad.write_text("model: tfidf\nparams:\n  C: 1\n  colour: red\n")
    result = runner.invoke(app, ["train", "--config", str(bad), "--out", str(tmp_path / "m")])
    assert result.exit_code == 2 and "unknown tfidf parameter(s) ['colour']" in result.output
    bad.write_text("model: tfidf\nepochs: 3\n")
    result = runner.invoke(app, ["train", "--config", str(bad), "--out", str(tmp_path / "m")])
    assert result.exit_code == 2 and "epochs" in result.output


def test_leave_one_policy_out_holds_each_policy_out_once(tmp_path, tiny_data, tiny_config):
    data = load_dataset(tiny_data)
    evaluation = cross_validate(tiny_config, data, seeds=[0, 1])
    metrics = evaluation.metrics
    assert sorted(metrics["per_policy"]) == ["alpha", "beta", "gamma"]
    assert metrics["summary"]["macro_f1"]["n"] == 2
    run = metrics["runs"][0]
    assert [f["fold"] for f in run["folds"]] == ["alpha", "beta", "gamma"]
    by_seed = [p for p in evaluation.predictions if p["seed"] == 0]
    assert sorted(p["id"] for p in by_seed) == sorted(data.ids), "every unit predicted exactly once per seed"
    assert all(p["fold"] == p["policy"] for p in by_seed), "a unit is only scored by the fold that held its policy out"
    assert all(len(p["scores"]) == 12 for p in by_seed)
    out = write_report(evaluation, tmp_path / "report")
    assert (
        json.loads((out / "metrics.json").read_text())["summary"]["micro_f1"]["mean"]
        == metrics["summary"]["micro_f1"]["mean"]
    )
    assert "| Data Security | DS |" in (out / "per_label.md").read_text()


def test_evaluation_needs_two_policies(tmp_path, tiny_config):
    data = tmp_path / "one.jsonl"
    data.write_text('{"policy": "a", "text": "We keep logs.", "labels": ["Data Retention"]}\n' * 4)
    with pytest.raises(DataError, match="at least two policies"):
        cross_validate(tiny_config, load_dataset(data))


def test_evaluate_cli_and_scoring_a_trained_model(tmp_path, tiny_data, tfidf_dir):
    result = runner.invoke(app, ["evaluate", "--data", str(tiny_data), "--out", str(tmp_path / "r"), *TINY])
    assert result.exit_code == 0, result.output
    assert {p.name for p in (tmp_path / "r").iterdir()} == {"metrics.json", "predictions.jsonl", "per_label.md"}
    result = runner.invoke(
        app,
        [
            "evaluate",
            "--model-dir",
            str(tfidf_dir),
            "--data",
            str(tiny_data / "alpha.jsonl"),
            "--out",
            str(tmp_path / "s"),
        ],
    )
    assert result.exit_code == 0, result.output
    metrics = json.loads((tmp_path / "s" / "metrics.json").read_text())
    assert metrics["units"] == 12 and metrics["micro_f1"] > 0.5  # it was trained on these very units


def test_overrides_are_validated():
    from clf.config import load_config

    with pytest.raises(ConfigError, match=r"key\.sub=value"):
        load_config("tfidf", overrides=["params.C"])
    assert load_config("tfidf", overrides=["params.word_ngrams=[1, 3]"]).params["word_ngrams"] == [1, 3]


def test_an_ensembles_members_are_scored_as_they_would_be_alone(tiny_data, tiny_config):
    """The member rows of an ensemble evaluation are exactly what evaluating that member by itself gives."""
    data = load_dataset(tiny_data)
    word = {**tiny_config.params, "char_ngrams": [3, 3]}
    members = [{"model": "tfidf", "params": tiny_config.params}, {"model": "tfidf", "params": word}]
    ensemble = tiny_config.model_copy(update={"model": "ensemble", "params": {"members": members, "weights": "auto"}})
    evaluation = cross_validate(ensemble, data, seeds=[0])
    assert sorted(evaluation.parts) == ["tfidf-1", "tfidf-2"]
    for name, params in zip(["tfidf-1", "tfidf-2"], [tiny_config.params, word], strict=True):
        alone = cross_validate(tiny_config.model_copy(update={"params": params}), data, seeds=[0])
        assert evaluation.parts[name].metrics["summary"] == alone.metrics["summary"]
        assert evaluation.parts[name].predictions == alone.predictions
    weights = [f["params"]["weights"] for f in evaluation.metrics["runs"][0]["folds"]]
    assert all(len(w) == 2 and abs(sum(w) - 1) < 1e-9 and min(w) > 0 for w in weights)  # chosen per fold


def test_parallel_folds_give_the_same_evaluation_as_one_process(tiny_data, tiny_config):
    """--jobs only changes where the fits run: same metrics, same predictions in the same order."""
    data = load_dataset(tiny_data)
    one = cross_validate(tiny_config, data, seeds=[0, 1])
    two = cross_validate(tiny_config, data, seeds=[0, 1], jobs=2)
    strip = lambda runs: [[{k: v for k, v in f.items() if k != "seconds"} for f in r["folds"]] for r in runs]  # noqa: E731
    assert strip(two.metrics["runs"]) == strip(one.metrics["runs"])
    assert two.metrics["summary"] == one.metrics["summary"]
    assert two.predictions == one.predictions


def test_learning_curve_sizes_without_all(tmp_path, tiny_data):
    """--sizes picks the points; without 'all' no training uses every other policy."""
    sets = [arg for o in TINY_OVERRIDES for arg in ("--set", o)]
    out = tmp_path / "curve.json"
    args = ["learning-curve", "-d", str(tiny_data), "--split", "lopo", "--subsets", "1", "--sizes", "1", "-o", str(out)]
    result = runner.invoke(app, args + sets)
    assert result.exit_code == 0, result.output
    rows = json.loads(out.read_text())["learning_curve"]
    assert rows and {r["n_train_policies"] for r in rows} == {1}
    bad = runner.invoke(app, [*args[:-4], "--sizes", "two", "-o", str(tmp_path / "x.json"), *sets])
    assert bad.exit_code == 2 and "--sizes takes positive integers and 'all'" in bad.output
    assert not (tmp_path / "x.json").exists()


def test_train_on_some_policies(tmp_path, tiny_data):
    sets = [arg for o in TINY_OVERRIDES for arg in ("--set", o)]
    args = ["train", "-d", str(tiny_data), "-o", str(tmp_path / "m"), *sets]
    result = runner.invoke(app, [*args, "--policies", "alpha, beta"])
    assert result.exit_code == 0, result.output
    info = json.loads((tmp_path / "m" / "training.json").read_text())
    assert info["data"]["policies"] == ["alpha", "beta"]
    assert info["data"]["units"] == sum(len(load_dataset(tiny_data).only([p])) for p in ("alpha", "beta"))
    bad = runner.invoke(app, [*args[:3], "-o", str(tmp_path / "n"), *sets, "--policies", "alpha,nosuch"])
    assert bad.exit_code == 2 and "no records for policies ['nosuch']" in bad.output
    assert not (tmp_path / "n").exists()
