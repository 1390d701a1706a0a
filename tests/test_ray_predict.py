"""`--engine ray` on a local Ray (2 CPUs, no dashboard): the same records as the local engine, in the same order."""

from __future__ import annotations

import json
import shutil
import tempfile
from pathlib import Path

import pytest
from typer.testing import CliRunner

from clf import stream
from clf.cli import app
from clf.console import Output
from tests.conftest import ROOT

runner = CliRunner()
POLICIES = sorted((ROOT / "annotations" / "policies").glob("*.txt"))[:8]


@pytest.fixture(scope="module")
def local_ray():
    import ray

    temp = tempfile.mkdtemp(prefix="ray-", dir="/tmp")  # short: Ray's socket paths must stay under 108 bytes
    ray.init(num_cpus=2, include_dashboard=False, _temp_dir=temp, log_to_driver=False)
    yield ray
    ray.shutdown()
    shutil.rmtree(temp, ignore_errors=True)


def _local(inputs: list[str], model: Path, tmp_path: Path) -> list[dict]:
    out = tmp_path / "local.jsonl"
    stream.run(inputs, model, Output("jsonl"), out, workers=1, batch=50)
    return [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]


def test_ray_equals_the_local_engine_record_for_record(tmp_path, local_ray, transformer_trained):
    from clf.ray_predict import predict_ray, read_shards

    _, model, _ = transformer_trained
    corpus = tmp_path / "corpus"
    (corpus / "sub").mkdir(parents=True)
    for i, policy in enumerate(POLICIES):
        shutil.copy(policy, corpus / ("sub" if i % 2 else ".") / policy.name)
    expected = _local([str(corpus)], model, tmp_path)
    out = tmp_path / "ray-out"
    result = predict_ray([str(corpus)], model, str(out), actors=2, batch=300)  # 2 policies per batch
    shards = sorted(out.glob("*.jsonl"))
    assert len(shards) > 1, "several blocks, so that their order matters"
    assert result.units == len(expected) > 100
    assert read_shards(out) == expected
    assert b"".join(p.read_bytes() for p in shards) == (tmp_path / "local.jsonl").read_bytes()


def test_ray_reads_jsonl_records_and_writes_parquet(tmp_path, local_ray, tfidf_dir):
    from clf.ray_predict import read_shards

    source = tmp_path / "units.jsonl"
    texts = ["We keep logs for 30 days.", "You can opt out.", "We share data with advertisers."]
    source.write_text("".join(json.dumps({"id": i, "text": texts[i % 3]}) + "\n" for i in range(40)))
    expected = _local([str(source)], tfidf_dir, tmp_path)
    out = tmp_path / "shards"
    args = ["predict", str(source), "-m", str(tfidf_dir), "--engine", "ray", "-f", "parquet", "--out", str(out)]
    result = runner.invoke(app, [*args, "--batch", "8", "--workers", "2"])
    assert result.exit_code == 0, result.output
    records = read_shards(out)
    assert [r["id"] for r in records] == [str(r["id"]) for r in expected], "Parquet keeps ids as text"
    assert [(r["labels"], r["scores"]) for r in records] == [(r["labels"], r["scores"]) for r in expected]


def test_ray_errors_are_one_line_and_leave_no_output(tmp_path, local_ray, tfidf_dir):
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"text": "fine"}\n{"id": 2}\n')
    out = tmp_path / "shards"
    result = runner.invoke(app, ["predict", str(bad), "-m", str(tfidf_dir), "--engine", "ray", "--out", str(out)])
    assert result.exit_code == 2 and "each record needs a non-empty 'text'" in result.output, result.output
    assert "Traceback" not in result.output and not out.exists()
    mixed = runner.invoke(app, ["predict", str(bad), str(ROOT / "examples"), "-m", str(tfidf_dir), "--engine", "ray"])
    assert mixed.exit_code == 2 and "--out" in mixed.output
