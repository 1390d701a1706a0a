"""Streaming prediction: lazy inputs, order for any number of workers, atomic output and --resume."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from clf import documents, stream
from clf.cli import app
from clf.console import Output
from clf.errors import ClfError, DataError
from clf.predict import predict_document
from clf.predictor import Predictor
from tests.conftest import ROOT

runner = CliRunner()
EXAMPLE = ROOT / "examples" / "northwind-notes.md"
POLICIES = sorted((ROOT / "annotations" / "policies").glob("*.txt"))[:6]


def _corpus(folder: Path) -> Path:
    """Six real policies and the example in nested folders."""
    (folder / "b" / "deep").mkdir(parents=True)
    for i, policy in enumerate(POLICIES):
        shutil.copy(policy, folder / ("b/deep" if i % 3 == 0 else "b" if i % 3 == 1 else ".") / policy.name)
    shutil.copy(EXAMPLE, folder / "a-example.md")
    return folder


def _records(path: Path, n: int) -> Path:
    units = [u.text for u in documents.read_file(EXAMPLE).units()]
    lines = [json.dumps({"id": f"r{i}", "text": units[i % len(units)]}) for i in range(n)]
    lines.insert(3, "")  # blank lines are skipped but still counted for line numbers
    path.write_text("\ufeff" + "\n".join(lines) + "\n", encoding="utf-8")
    return path


def _predict(*args, input=None):
    result = runner.invoke(app, ["predict", *map(str, args)], input=input)
    assert result.exit_code == 0, result.output
    return result


def test_folders_are_walked_in_sorted_order_and_symlink_loops_are_not_followed(tmp_path):
    root = _corpus(tmp_path / "corpus")
    (root / "b" / "loop").symlink_to(root, target_is_directory=True)  # a loop back to the top
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "z.txt").write_text("We use cookies.\n")
    (root / "b" / "linked").symlink_to(outside, target_is_directory=True)  # followed once
    found = [p.relative_to(root).as_posix() for p in documents.iter_paths([str(root)])]
    assert found == sorted(found, key=lambda p: p.split("/"))
    assert "b/linked/z.txt" in found and not any("loop" in p for p in found)
    assert len(found) == len(POLICIES) + 2


def test_jsonl_is_read_in_chunks_with_the_same_output_and_line_numbers(tmp_path, tfidf_dir):
    source = _records(tmp_path / "units.jsonl", 23)
    whole = _predict(source, "--model", tfidf_dir, "--format", "jsonl", "--batch", "100000").stdout
    chunked = _predict(source, "--model", tfidf_dir, "--format", "jsonl", "--batch", "4").stdout
    assert chunked == whole and len(whole.splitlines()) == 23
    chunks = list(stream.tasks([str(source)], 4))
    assert [len([x for x in t.lines if x.strip()]) for t in chunks] == [4, 4, 4, 4, 4, 3]
    assert sum(t.size for t in chunks) == source.stat().st_size
    with source.open("a") as handle:
        handle.write('{"text": \n')
    result = runner.invoke(app, ["predict", str(source), "--model", str(tfidf_dir), "--batch", "4", "-f", "jsonl"])
    assert result.exit_code == 2 and f"{source}:25: invalid JSON" in result.output


def test_streamed_json_and_csv_are_byte_for_byte_the_whole_document_formats(tmp_path, tfidf_dir):
    """The JSON array is written item by item; it must equal json.dumps of the whole list, as before streaming."""
    root = _corpus(tmp_path / "corpus")
    predictor = Predictor.load(tfidf_dir)
    docs = [documents.read_file(Path(p)) for p in documents.iter_paths([str(root)])]
    items = [{"policy": d.name, "source": d.source, "units": predict_document(predictor, d)} for d in docs]
    streamed = _predict(root, "--model", tfidf_dir, "--format", "json", "--batch", "7").stdout
    assert streamed == json.dumps(items, ensure_ascii=False, indent=1) + "\n"
    csv_text = _predict(root, "--model", tfidf_dir, "--format", "csv", "--batch", "7").stdout
    assert csv_text.count("policy,id,start,end") == 1
    assert len(csv_text.splitlines()) == 1 + sum(len(i["units"]) for i in items)


@pytest.mark.parametrize("fmt", ["jsonl", "table"])
def test_two_workers_write_what_one_process_writes(tmp_path, tfidf_dir, fmt):
    root = _corpus(tmp_path / "corpus")
    records = _records(tmp_path / "units.jsonl", 30)
    args = [root, records, "--model", tfidf_dir, "--format", fmt, "--batch", "5"]
    one = _predict(*args, "--workers", "1").stdout
    two = _predict(*args, "--workers", "2").stdout
    assert one == two and one.strip()


def test_workers_on_the_transformer_keep_order_with_one_thread_each(tmp_path, transformer_trained):
    from clf.models.base import set_inference_threads

    _, model_dir, _ = transformer_trained
    root = tmp_path / "corpus"
    root.mkdir()
    for i, policy in enumerate(POLICIES[:4]):  # names out of order: the output follows sorted paths
        shutil.copy(policy, root / f"{3 - i}-{policy.name}")
    one = _predict(root, "--model", model_dir, "--format", "jsonl", "--workers", "1").stdout
    two = _predict(root, "--model", model_dir, "--format", "jsonl", "--workers", "2", "--batch", "50").stdout
    assert one == two
    assert [json.loads(line)["policy"][0] for line in one.splitlines()] == sorted(
        json.loads(line)["policy"][0] for line in one.splitlines()
    )
    set_inference_threads(1)
    try:
        session = Predictor.load(model_dir).model.session_
        assert session.get_session_options().intra_op_num_threads == 1
    finally:
        set_inference_threads(None)


class _Crash(Exception):
    pass


class _CrashingOutput(Output):
    """Raises after `after` documents, as a killed run would stop: mid-way, after some committed batches."""

    def __init__(self, after: int):
        super().__init__("jsonl")
        object.__setattr__(self, "after", after)
        object.__setattr__(self, "seen", [0])

    def render(self, doc, rows):
        self.seen[0] += 1
        if self.seen[0] > self.after:
            raise _Crash
        return super().render(doc, rows)

    def __repr__(self):  # the same job as a plain jsonl Output
        return repr(Output("jsonl"))


def test_an_interrupted_run_leaves_no_output_and_resume_gives_the_uninterrupted_bytes(tmp_path, tfidf_dir):
    root = _corpus(tmp_path / "corpus")
    inputs = [str(root)]
    expected = tmp_path / "expected.jsonl"
    stream.run(inputs, tfidf_dir, Output("jsonl"), expected, workers=1, batch=50)
    out = tmp_path / "out" / "labels.jsonl"
    with pytest.raises(_Crash):
        stream.run(inputs, tfidf_dir, _CrashingOutput(after=4), out, workers=1, batch=50)
    partial, log = stream.side_files(out)
    assert not out.exists() and partial.exists() and log.exists()
    committed = json.loads(log.read_text().splitlines()[-1])
    assert 0 < committed["tasks"] <= 4 and committed["out_bytes"] <= partial.stat().st_size
    with partial.open("ab") as handle:  # a batch half written when the process died
        handle.write(b'{"policy": "torn')
    with log.open("a") as handle:
        handle.write('{"tasks": 9')
    result = stream.run(inputs, tfidf_dir, Output("jsonl"), out, workers=1, batch=50, resume=True)
    assert result.resumed_from == committed["tasks"]
    assert out.read_bytes() == expected.read_bytes()
    assert not partial.exists() and not log.exists()


def test_resume_refuses_a_different_job_and_needs_a_log(tmp_path, tfidf_dir):
    root = _corpus(tmp_path / "corpus")
    out = tmp_path / "labels.jsonl"
    with pytest.raises(_Crash):
        stream.run([str(root)], tfidf_dir, _CrashingOutput(after=3), out, workers=1, batch=50)
    with pytest.raises(ClfError, match="different job"):
        stream.run([str(root)], tfidf_dir, Output("jsonl"), out, workers=1, batch=60, resume=True)
    with pytest.raises(ClfError, match="nothing to resume"):
        stream.run([str(root)], tfidf_dir, Output("jsonl"), tmp_path / "other.jsonl", resume=True)
    with pytest.raises(ClfError, match="needs --out"):
        stream.run([str(root)], tfidf_dir, Output("jsonl"), None, resume=True)


def test_a_bad_input_mid_stream_writes_no_output(tmp_path, tfidf_dir):
    root = _corpus(tmp_path / "corpus")
    (root / "b" / "zz-binary.txt").write_bytes(b"\x00\x01binary")
    out = tmp_path / "labels.jsonl"
    with pytest.raises(DataError, match="binary file"):
        stream.run([str(root)], tfidf_dir, Output("jsonl"), out, workers=2, batch=10)
    assert not out.exists()


def _log_entries(log: Path) -> int:
    try:
        return len(log.read_text().splitlines())
    except FileNotFoundError:
        return 0


def test_resume_after_a_killed_run(tmp_path, tfidf_dir):
    """A real SIGKILL while the process waits for more input on stdin, then --resume with the whole input."""
    source = _records(tmp_path / "units.jsonl", 60)
    data = source.read_bytes()
    lines = data.splitlines(keepends=True)
    args = ["predict", "-", "--model", str(tfidf_dir), "--format", "jsonl", "--batch", "5", "--workers", "1"]
    expected = tmp_path / "expected.jsonl"
    whole = runner.invoke(app, [*args, "--out", str(expected)], input=data)
    assert whole.exit_code == 0, whole.output
    out = tmp_path / "labels.jsonl"
    cli = [sys.executable, "-c", "from clf.cli import main; main()", *args, "--out", str(out)]
    env = {**os.environ, "HF_HUB_OFFLINE": "1"}
    process = subprocess.Popen(cli, stdin=subprocess.PIPE, stderr=subprocess.DEVNULL, cwd=ROOT, env=env)
    process.stdin.write(b"".join(lines[:33]))
    process.stdin.flush()
    log = stream.side_files(out)[1]
    deadline = time.monotonic() + 120
    while _log_entries(log) < 4 and time.monotonic() < deadline:  # header + 3 committed batches
        time.sleep(0.05)
    assert _log_entries(log) >= 4, "the run never committed a batch"
    process.send_signal(signal.SIGKILL)
    process.wait()
    assert not out.exists()
    resumed = runner.invoke(app, [*args, "--out", str(out), "--resume"], input=data)
    assert resumed.exit_code == 0, resumed.output
    assert "from the interrupted run" in resumed.output
    assert out.read_bytes() == expected.read_bytes()


def test_the_local_engine_never_imports_ray(tmp_path, tfidf_dir):
    code = (
        "import sys; from typer.testing import CliRunner; from clf.cli import app; "
        f"r = CliRunner().invoke(app, ['predict', {str(EXAMPLE)!r}, '--model', {str(tfidf_dir)!r}, '-f', 'jsonl']); "
        "assert r.exit_code == 0, r.output; assert 'ray' not in sys.modules, 'ray imported'"
    )
    subprocess.run([sys.executable, "-c", code], check=True, cwd=ROOT)
