"""`clf predict` on every input type, its output contract, and one-line errors for bad input."""

import csv
import io
import json
import shutil

import pytest
from typer.testing import CliRunner

from clf.cli import app
from clf.labels import LABELS
from tests.conftest import ROOT

runner = CliRunner()
EXAMPLE = ROOT / "examples" / "northwind-notes.md"


def predict(*args, input=None):
    return runner.invoke(app, ["predict", *map(str, args)], input=input)


def test_jsonl_keeps_order_ids_and_gives_all_12_scores_without_splitting(tmp_path, tfidf_dir):
    source = tmp_path / "units.jsonl"
    records = [
        {"id": "b", "text": "We keep logs for 30 days. We encrypt everything."},
        {"text": "You can opt out."},
        {"id": "a", "text": "Contact privacy@example.com."},
    ]
    source.write_text("".join(json.dumps(r) + "\n" for r in records))
    result = predict(source, "--model", tfidf_dir, "--format", "jsonl")
    assert result.exit_code == 0, result.output
    rows = [json.loads(line) for line in result.stdout.splitlines()]
    assert len(rows) == 3, "one output per input record: a record is never re-split"
    assert [r.get("id") for r in rows] == ["b", None, "a"]
    for row in rows:
        assert list(row["scores"]) == list(LABELS)
        assert all(0 <= p <= 1 for p in row["scores"].values())
        assert row["labels"] and set(row["labels"]) <= set(LABELS)


def test_markdown_is_split_into_units_with_offsets(tfidf_dir):
    result = predict(EXAMPLE, "--model", tfidf_dir, "--format", "jsonl")
    assert result.exit_code == 0, result.output
    rows = [json.loads(line) for line in result.stdout.splitlines()]
    raw = EXAMPLE.read_text(encoding="utf-8")
    assert len(rows) > 40
    assert rows[0]["id"] == "northwind-notes-0001" and rows[0]["text"] == "Northwind Notes Privacy Notice"
    for row in rows:
        assert " ".join(raw[row["start"] : row["end"]].split()) == row["text"]
        assert row["policy"] == "northwind-notes"


def test_html_drops_scripts_styles_and_navigation(tmp_path, tfidf_dir):
    page = tmp_path / "policy.html"
    page.write_text(
        "<html><head><style>p {color: red}</style><script>var tracking = 1;</script></head><body>"
        "<nav><a href='/'>Home</a> <a href='/x'>Pricing</a></nav>"
        "<h1>Privacy</h1><p>We collect your <b>e-mail</b> address. We never sell it.</p>"
        "<ul><li>Name</li><li>Phone number</li></ul><footer>© Acme</footer></body></html>"
    )
    result = predict(page, "--model", tfidf_dir, "--format", "jsonl")
    assert result.exit_code == 0, result.output
    texts = [json.loads(line)["text"] for line in result.stdout.splitlines()]
    assert texts == ["Privacy", "We collect your e-mail address.", "We never sell it.", "Name", "Phone number"]


def test_txt_folder_and_stdin(tmp_path, tfidf_dir):
    folder = tmp_path / "policies"
    folder.mkdir()
    (folder / "one.txt").write_text("We use cookies.\n")
    shutil.copy(EXAMPLE, folder / "two.md")
    (folder / "notes.pdf").write_bytes(b"%PDF")  # unsupported files in a folder are skipped
    result = predict(folder, "--model", tfidf_dir, "--format", "json")
    assert result.exit_code == 0, result.output
    docs = json.loads(result.stdout)
    assert [d["policy"] for d in docs] == ["one", "two"]
    result = predict(
        "-", "--model", tfidf_dir, "--format", "csv", input="We share data with advertisers. You can opt out.\n"
    )
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    assert [r["text"] for r in rows] == ["We share data with advertisers.", "You can opt out."]
    assert set(LABELS) <= set(rows[0])


def test_summary_lists_categories_with_counts_and_evidence(tmp_path, tfidf_dir):
    result = predict(EXAMPLE, "--model", tfidf_dir, "--summary", "--format", "json")
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)[0]
    assert summary["policy"] == "northwind-notes" and summary["categories"]
    for info in summary["categories"].values():
        assert info["count"] >= len(info["evidence"]) >= 1
        scores = [e["score"] for e in info["evidence"]]
        assert scores == sorted(scores, reverse=True) and len(scores) <= 3
    out = tmp_path / "summary.txt"
    result = predict(EXAMPLE, "--model", tfidf_dir, "--summary", "--out", out)
    assert result.exit_code == 0 and "most confident evidence" in out.read_text()


def _bad_inputs(tmp_path):
    (tmp_path / "empty.txt").write_text("   \n")
    (tmp_path / "binary.txt").write_bytes(b"\x00\x01\x02binary")
    (tmp_path / "latin1.txt").write_bytes("Datenschutzerkl\xe4rung".encode("latin-1"))
    (tmp_path / "policy.pdf").write_bytes(b"%PDF-1.4")
    (tmp_path / "broken.jsonl").write_text('{"text": "ok"}\n{"text": \n')
    (tmp_path / "notext.jsonl").write_text('{"id": 1}\n')
    return {
        "missing.txt": "missing.txt: file not found",
        "empty.txt": "empty input",
        "binary.txt": "binary file",
        "latin1.txt": "not UTF-8",
        "policy.pdf": "unsupported file type '.pdf'",
        "broken.jsonl": "broken.jsonl:2: invalid JSON",
        "notext.jsonl": "notext.jsonl:1: each record needs a non-empty 'text'",
    }


def test_each_bad_input_is_a_one_line_error_and_writes_nothing(tmp_path, tfidf_dir):
    for name, message in _bad_inputs(tmp_path).items():
        out = tmp_path / "out.jsonl"
        result = predict(EXAMPLE, tmp_path / name, "--model", tfidf_dir, "--out", out)
        assert result.exit_code == 2, (name, result.output)
        assert message in result.output, (name, result.output)
        assert "Traceback" not in result.output and len(result.output.strip().splitlines()) == 1
        assert not out.exists(), "nothing is written when any input is bad"


def test_bad_model_folders_are_one_line_errors(tmp_path, tfidf_dir):
    incomplete = tmp_path / "incomplete"
    shutil.copytree(tfidf_dir, incomplete)
    (incomplete / "thresholds.json").unlink()
    newer = tmp_path / "newer"
    shutil.copytree(tfidf_dir, newer)
    info = json.loads((newer / "training.json").read_text())
    (newer / "training.json").write_text(json.dumps({**info, "clf_format_version": 99}))
    stranger = tmp_path / "stranger"
    stranger.mkdir()
    (stranger / "weights.bin").write_bytes(b"1234")
    damaged = tmp_path / "damaged"
    shutil.copytree(tfidf_dir, damaged)
    (damaged / "model.safetensors").write_bytes(b"not a tensor file")
    cases = {
        tmp_path / "nope": "model folder not found",
        incomplete: "missing thresholds.json",
        newer: "newer clf (model format 99)",
        stranger: "not a clf model folder",
        damaged: "cannot load model weights",
        EXAMPLE: "is a file, not a model folder",
    }
    for folder, message in cases.items():
        result = predict(EXAMPLE, "--model", folder)
        assert result.exit_code == 2 and message in result.output, (folder, result.output)
        assert "Traceback" not in result.output


def test_debug_shows_the_traceback(tfidf_dir, tmp_path):
    result = runner.invoke(app, ["--debug", "predict", str(tmp_path / "nope.txt"), "--model", str(tfidf_dir)])
    assert result.exit_code != 0 and result.exception is not None


@pytest.mark.parametrize("fmt", ["table", "jsonl", "csv", "json"])
def test_every_format_renders(tfidf_dir, fmt):
    result = predict(EXAMPLE, "--model", tfidf_dir, "--format", fmt)
    assert result.exit_code == 0 and "encrypted with TLS" in result.stdout
