"""`clf import opp115` on a hand-written fixture corpus in the OPP-115 v1.0 format (tests/fixtures/opp115).

Three fictional policies: 101 and 305 with three annotators, 202 with four. The expected
records below were worked out by hand from the CSV rows (see the fixture's README).
"""

from __future__ import annotations

import csv
import json
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from clf.cli import app
from clf.errors import DataError
from clf.opp115 import Segment, decide, import_corpus

FIXTURE = Path(__file__).parent / "fixtures" / "opp115"
UID_CHANGES = Path(__file__).parent / "fixtures" / "opp115-uid-changes"  # column 4 changes on line 3
FP, TP, UC, UA, DR, DS = (
    "First Party Collection/Use",
    "Third Party Sharing/Collection",
    "User Choice/Control",
    "User Access, Edit and Deletion",
    "Data Retention",
    "Data Security",
)
PC, DNT, ISA = "Policy Change", "Do Not Track", "International and Specific Audiences"
IG, PNC, CI = "Introductory/Generic", "Practice not covered", "Privacy contact information"
runner = CliRunner()


def _records(**kwargs) -> dict[str, dict]:
    return {r["id"]: r for r in import_corpus(FIXTURE, **kwargs).records}


def test_segments_by_majority_are_exactly_the_hand_worked_records():
    records = _records()
    got = {k: (r["labels"], r["votes"], r["annotators"]) for k, r in records.items()}
    assert got == {
        "101-0": ([IG], {IG: 2}, 3),  # the third annotator's Other/"Other" is dropped, not a vote
        "101-1": ([FP], {FP: 3}, 3),  # one annotator's two FP rows count once
        "101-2": ([TP], {FP: 1, TP: 3}, 3),
        "101-3": ([UC, UA], {UC: 3, UA: 2}, 3),
        "101-4": ([DR], {DR: 2}, 3),  # the annotator who recorded nothing still counts as a reader
        "202-1": ([DNT], {DNT: 4}, 4),
        "202-2": ([PC], {PC: 3}, 4),
        "202-3": ([ISA, CI], {ISA: 3, CI: 3}, 4),
        "202-4": ([PNC], {DS: 2, PNC: 3}, 4),  # 2 of 4 is not more than half
        "305-0": ([IG], {IG: 3}, 3),
        "305-1": ([FP], {FP: 3}, 3),
        "305-2": ([TP], {TP: 3}, 3),
        "305-3": ([UC, UA], {UC: 3, UA: 2}, 3),
        "305-4": ([DR], {DR: 3}, 3),
        "305-5": ([DS], {DS: 3}, 3),
        "305-6": ([PC], {PC: 3}, 3),
        "305-7": ([CI], {CI: 3}, 3),
    }
    assert records["101-1"] == {
        "policy": "101_examplebakery.com",
        "id": "101-1",
        "text": "We collect your name & email address when you order a cake. We use them to deliver your order.",
        "labels": [FP],
        "votes": {FP: 3},
        "annotators": 3,
    }


def test_text_is_stripped_of_tags_entities_decoded_and_whitespace_collapsed():
    records = _records()
    assert records["101-0"]["text"] == "Privacy Policy Last updated: March 2015"  # <strong>…</strong><br>
    assert records["101-3"]["text"] == (  # <ul><li>…</li><li>…</li></ul>
        "You can unsubscribe from our newsletter at any time. You can ask us to delete your account."
    )
    assert records["202-3"]["text"] == (  # &#39; &nbsp; &quot;
        'The app isn\'t meant for children under 13. Parents can reach us at "parents@quietapps.io".'
    )
    segment = Segment.from_html("<b>A</b>&amp;<br>B")
    assert segment.plain == "A&B" and segment.text == "A& B"


def test_union_and_count_rules_and_the_fallback_that_stands_alone():
    union = _records(agreement="union")
    assert union["101-2"]["labels"] == [FP, TP]
    assert union["101-5"]["labels"] == [CI]  # one annotator of three
    assert union["202-4"]["labels"] == [DS]  # a fallback is dropped beside a practice
    assert union["202-0"]["labels"] == [IG]  # two fallbacks alone: the one more annotators gave
    assert union["202-0"]["votes"] == {IG: 2, PNC: 1}
    two = _records(agreement="2")
    assert two["202-0"]["labels"] == [IG] and two["202-4"]["labels"] == [DS]
    assert "101-5" not in two
    four = _records(agreement="4")
    assert set(four) == {"202-1"}
    assert decide({IG: 1, PNC: 1}, 3, lambda v, n: v >= 1) == [IG]  # tie: label order


def test_skips_and_drops_are_counted():
    summary = import_corpus(FIXTURE).summary()
    assert summary["policies"] == 3 and summary["segments"] == 21 and summary["records"] == 17
    assert summary["skipped"] == {
        "empty segment": 1,  # 202's trailing separator
        "no annotation": 1,  # 305-8: only Other/"Other"
        "no label reached agreement": 2,  # 101-5 (1 of 3), 202-0 (2 of 4)
    }
    assert summary["dropped_other_other"] == 3
    assert summary["spans"] == {"exact": 64, "relocated": 1, "lost": 0}  # 101-1: offsets off by 2
    assert summary["labels"][FP] == 2 and summary["labels"][PNC] == 1


def test_sentences_take_the_labels_whose_spans_touch_them():
    records = _records(unit="sentence")
    got = {k: r["labels"] for k, r in records.items()}
    assert got == {
        "101-1-0": [FP],  # 2 votes: one span relocated by its text, one annotator without a span
        "101-2-0": [TP],
        "101-3-0": [UC],  # list items are sentences
        "101-3-1": [UA],
        "101-4-0": [DR],
        "202-1-0": [DNT],
        "202-2-0": [PC],
        "202-3-0": [ISA],
        "202-3-1": [CI],
        "202-4-1": [PNC],  # 202-4-0 has DS from 2 of 4: skipped
        "305-0-0": [IG],
        "305-1-0": [FP],  # <br> splits the segment
        "305-1-1": [FP],
        "305-2-0": [TP],
        "305-3-0": [UC],
        "305-3-1": [UA],
        "305-4-0": [DR],
        "305-5-0": [DS],
        "305-6-0": [PC],
        "305-7-0": [CI],
    }
    assert records["101-1-0"] == {
        "policy": "101_examplebakery.com",
        "id": "101-1-0",
        "segment": "101-1",
        "text": "We collect your name & email address when you order a cake.",
        "labels": [FP],
        "votes": {FP: 2},
        "annotators": 3,
    }
    assert records["305-1-1"]["text"] == "We use this information to draw your route and to suggest nearby trails."
    union = _records(unit="sentence", agreement="union")
    assert union["101-0-0"]["labels"] == [IG] and union["101-0-0"]["text"] == "Privacy Policy"
    assert union["101-1-1"]["votes"] == {FP: 1}
    assert union["202-4-0"]["labels"] == [DS] and union["202-4-1"]["labels"] == [PNC]
    assert "101-5-0" not in union and union["101-5-1"]["labels"] == [CI]  # "Questions?" has no span
    summary = import_corpus(FIXTURE, unit="sentence").summary()
    assert summary["skipped"]["no annotator's span"] == 2  # 101-5-0 "Questions?", 305-8-0 (only Other/"Other")
    assert summary["records"] == 20


def _one_policy(tmp_path: Path, html: str, rows: list[list[str]]) -> Path:
    """A corpus of one policy, 7_x.com, with these segments and CSV rows."""
    corpus = tmp_path / "opp"
    (corpus / "sanitized_policies").mkdir(parents=True)
    (corpus / "annotations").mkdir()
    (corpus / "sanitized_policies" / "7_x.com.html").write_text(html)
    with (corpus / "annotations" / "7_x.com.csv").open("w", newline="") as handle:
        csv.writer(handle).writerows(rows)
    return corpus


def test_a_span_reaching_only_a_character_into_a_sentence_does_not_label_it(tmp_path):
    span = {"selectedText": "We collect names. W", "startIndexInSegment": 0, "endIndexInSegment": 19, "value": "x"}
    row = ["1", "b", "11", "7", "0", FP, json.dumps({"Personal Information Type": span}), "d", "u"]
    corpus = _one_policy(tmp_path, "We collect names. We sell nothing.", [row])
    records = import_corpus(corpus, agreement="union", unit="sentence").records
    assert [(r["text"], r["labels"]) for r in records] == [("We collect names.", [FP])]


def _copy(tmp_path: Path) -> Path:
    corpus = tmp_path / "opp"
    shutil.copytree(FIXTURE, corpus)
    return corpus


def _append_row(corpus: Path, name: str, row: str) -> tuple[Path, int]:
    path = corpus / "annotations" / f"{name}.csv"
    lines = path.read_text().splitlines()
    path.write_text("\n".join([*lines, row]) + "\n")
    return path, len(lines) + 1


GOOD_JSON = (  # a valid column 7, quoted for CSV
    '"{""Other Type"": {""selectedText"": ""x"", ""startIndexInSegment"": -1, '
    '""endIndexInSegment"": -1, ""value"": ""Introductory/Generic""}}"'
)


@pytest.mark.parametrize(
    ("row", "message"),
    [
        (f"9001,b,11,1360,0,Other,{GOOD_JSON},1/1/15", "expected 9 fields, found 8"),
        (f"9001,b,11,1360,0,Advertising,{GOOD_JSON},1/1/15,u", "unknown category 'Advertising'"),
        (f"9001,b,11,1360,6,Other,{GOOD_JSON},1/1/15,u", "segment id '6' is outside the policy (segments 0–5)"),
        ('9001,b,11,1360,0,Other,"{not json}",1/1/15,u', "column 7 is not valid JSON"),
        ("9001,b,11,999,0,Other,{},1/1/15,u", "policy uid (column 4) '999' differs from '1360' on line 1"),
        ("9001,b,11,,0,Other,{},1/1/15,u", "empty policy uid (column 4)"),
        ("9001,b,11,1360,one,Other,{},1/1/15,u", "segment id 'one' is not a number"),
        ("9001,b,11,1360,²,Other,{},1/1/15,u", "segment id '²' is not a number"),
        ('9001,b,11,1360,0,Other,"[[[[[[[[[[[[[[[[",1/1/15,u', "column 7 is not valid JSON"),
        ('9001,b,11,1360,0,Other,"{}",1/1/15,u', "category Other needs an 'Other Type' value"),
    ],
)
def test_a_bad_row_stops_the_import_at_its_file_and_line(tmp_path, row, message):
    corpus = _copy(tmp_path)
    path, line = _append_row(corpus, "101_examplebakery.com", row)
    out = tmp_path / "out.jsonl"
    result = runner.invoke(app, ["import", "opp115", str(corpus), "--out", str(out)])
    assert result.exit_code == 2, result.output
    assert f"{path}:{line}: {message}" in " ".join(result.output.split()), result.output
    assert "Traceback" not in result.output
    assert not out.exists() and list(tmp_path.glob(".out.jsonl*")) == []


def test_corpus_level_problems_are_one_line_errors(tmp_path):
    out = tmp_path / "out.jsonl"

    def run(corpus: Path, *extra: str) -> str:
        result = runner.invoke(app, ["import", "opp115", str(corpus), "--out", str(out), *extra])
        assert result.exit_code == 2, result.output
        assert "Traceback" not in result.output and not out.exists()
        return " ".join(result.output.split())

    assert "folder not found" in run(tmp_path / "nowhere")
    corpus = _copy(tmp_path)
    assert "must be majority, union or a number" in run(corpus, "--agreement", "most")
    assert "--unit must be segment or sentence" in run(corpus, "--unit", "paragraph")
    html = corpus / "sanitized_policies"
    (html / "305_trailmaps.org.html").rename(tmp_path / "kept.html")
    assert "305_trailmaps.org.csv: no matching sanitized_policies/305_trailmaps.org.html" in run(corpus)
    # a policy text that does not match its annotations is refused: too many segments for it...
    shutil.copy(html / "202_quietapps.io.html", html / "305_trailmaps.org.html")
    assert "305_trailmaps.org.csv:21: segment id '6' is outside the policy (segments 0–5)" in run(corpus)
    # ...or as many segments, but the spans are not in their texts
    (html / "305_trailmaps.org.html").write_text("|||".join(["Lorem ipsum dolor sit amet."] * 9))
    assert "27 of 27 annotated spans are not in the segment texts of 305_trailmaps.org.html" in run(corpus)
    shutil.rmtree(corpus / "annotations")
    assert "no annotations/ folder" in run(corpus)


def test_an_existing_output_survives_a_failed_import(tmp_path):
    out = tmp_path / "out.jsonl"
    out.write_text("previous\n")
    result = runner.invoke(app, ["import", "opp115", str(tmp_path / "nowhere"), "--out", str(out)])
    assert result.exit_code == 2 and out.read_text() == "previous\n"


def test_imported_records_train_and_evaluate_grouped_by_policy(tmp_path):
    data = tmp_path / "opp.jsonl"
    result = runner.invoke(app, ["import", "opp115", str(FIXTURE), "--out", str(data), "--unit", "sentence"])
    assert result.exit_code == 0, result.output
    assert "records" in result.output and len(data.read_text().splitlines()) == 20
    small = ["--set", "thresholds.inner_folds=2", "--set", "search={}"]
    result = runner.invoke(
        app, ["train", "--model", "tfidf", "--data", str(data), "--out", str(tmp_path / "m"), *small]
    )
    assert result.exit_code == 0, result.output
    result = runner.invoke(
        app, ["evaluate", "--model", "tfidf", "--data", str(data), "--out", str(tmp_path / "r"), *small]
    )
    assert result.exit_code == 0, result.output
    metrics = json.loads((tmp_path / "r" / "metrics.json").read_text())
    assert metrics["data"]["policies"] == ["101_examplebakery.com", "202_quietapps.io", "305_trailmaps.org"]
    assert [f["fold"] for f in metrics["runs"][0]["folds"]] == metrics["data"]["policies"]
    predictions = [json.loads(x) for x in (tmp_path / "r" / "predictions.jsonl").read_text().splitlines()]
    assert len(predictions) == 20 and all(p["fold"] == p["policy"] for p in predictions)


def _column(path: Path, index: int) -> set[str]:
    with path.open(newline="") as handle:
        return {row[index] for row in csv.reader(handle) if row}


def test_column_4_need_not_be_the_file_name_number_and_ids_use_the_file_name():
    for path in sorted((FIXTURE / "annotations").glob("*.csv")):
        number = path.name.split("_")[0]
        uids = _column(path, 3)
        assert len(uids) == 1 and uids != {number}, "the fixture mimics the real corpus: one uid, not the file's"
    records = import_corpus(FIXTURE).records
    assert {r["id"].split("-")[0] for r in records} == {"101", "202", "305"}
    assert {r["policy"] for r in records} == {"101_examplebakery.com", "202_quietapps.io", "305_trailmaps.org"}


def test_a_column_4_that_changes_half_way_stops_at_its_line(tmp_path):
    out = tmp_path / "out.jsonl"
    result = runner.invoke(app, ["import", "opp115", str(UID_CHANGES), "--out", str(out)])
    path = UID_CHANGES / "annotations" / "404_changingshop.net.csv"
    assert result.exit_code == 2 and not out.exists()
    assert f"{path}:3: policy uid (column 4) '4491' differs from '4490' on line 1" in " ".join(result.output.split())
    assert "Traceback" not in result.output


def test_an_excel_saved_copy_imports_the_same_records(tmp_path):
    """Excel writes a byte-order mark, CRLF line ends and a trailing row of empty cells."""
    corpus = _copy(tmp_path)
    for path in (corpus / "annotations").glob("*.csv"):
        lines = path.read_text(encoding="utf-8").splitlines()
        path.write_bytes(("\ufeff" + "\r\n".join([*lines, ",,,,,,,,", ""]) + "\r\n").encode("utf-8"))
    html = corpus / "sanitized_policies" / "305_trailmaps.org.html"
    html.write_bytes(b"\xef\xbb\xbf" + html.read_bytes())
    for unit in ("segment", "sentence"):
        assert import_corpus(corpus, unit=unit).records == import_corpus(FIXTURE, unit=unit).records


def test_file_names_hidden_twins_and_numbers(tmp_path):
    corpus = _copy(tmp_path)
    for folder, suffix in (("annotations", "csv"), ("sanitized_policies", "html")):
        (corpus / folder / f"._101_examplebakery.com.{suffix}").write_bytes(b"\x00\x05\x16\x07 macOS resource fork")
    assert import_corpus(corpus).records == import_corpus(FIXTURE).records  # hidden files are not the release's
    for folder, suffix in (("annotations", "csv"), ("sanitized_policies", "html")):
        shutil.copy(corpus / folder / f"202_quietapps.io.{suffix}", corpus / folder / f"202_quietapps-copy.io.{suffix}")
    with pytest.raises(DataError, match=r"202_quietapps.io.csv: file number 202 is also used by 202_quietapps-copy"):
        import_corpus(corpus)
    for folder, suffix in (("annotations", "csv"), ("sanitized_policies", "html")):
        (corpus / folder / f"202_quietapps-copy.io.{suffix}").rename(corpus / folder / f"quietapps.{suffix}")
    with pytest.raises(DataError, match=r"quietapps.csv: file name is not <number>_<domain>.csv"):
        import_corpus(corpus)


def test_a_bad_byte_is_reported_at_its_line(tmp_path):
    corpus = _copy(tmp_path)
    path = corpus / "annotations" / "305_trailmaps.org.csv"
    lines = path.read_bytes().split(b"\n")
    lines[4] = lines[4].replace(b"test_batch", b"test_b\xe4tch")  # Latin-1, as a re-saved copy might be
    path.write_bytes(b"\n".join(lines))
    with pytest.raises(DataError, match=rf"{path}:5: not UTF-8 text"):
        import_corpus(corpus)


def test_an_annotator_whose_rows_are_all_dropped_still_counts_as_a_reader(tmp_path):
    span = {"selectedText": "We collect names.", "startIndexInSegment": 0, "endIndexInSegment": 17, "value": "x"}
    other = {"Other Type": {**span, "selectedText": "Hello.", "endIndexInSegment": 6, "value": "Other"}}
    rows = [
        ["1", "b", "11", "70", "0", FP, json.dumps({"Personal Information Type": span}), "d", "u"],
        ["2", "b", "12", "70", "1", "Other", json.dumps(other), "d", "u"],  # 12 read the policy, gave no label
    ]
    corpus = _one_policy(tmp_path, "We collect names.|||Hello.", rows)
    result = import_corpus(corpus, agreement="union")
    assert [(r["id"], r["votes"], r["annotators"]) for r in result.records] == [("7-0", {FP: 1}, 2)]
    with pytest.raises(DataError, match="no segment reached agreement"):
        import_corpus(corpus)  # 1 of 2 is not a majority
