"""The gold files are valid, and `clf annotations check` reports each kind of defect at its file:line."""

import itertools
import json
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from clf.annotate import apply_sheet_to_folder, parse_sheet
from clf.annotations import SEED_POLICIES, check_file, draft_units, load_gold, stats
from clf.cli import app
from clf.errors import DataError
from clf.jsonl import read_jsonl
from tests.conftest import ROOT

runner = CliRunner()
SOURCE = "Privacy Policy\n\nWe collect your e-mail address. We never sell it.\n"
GOOD = [
    {
        "policy": "demo",
        "id": "demo-0001",
        "start": 0,
        "end": 14,
        "text": "Privacy Policy",
        "labels": ["Introductory/Generic"],
    },
    {
        "policy": "demo",
        "id": "demo-0002",
        "start": 16,
        "end": 47,
        "text": "We collect your e-mail address.",
        "labels": ["First Party Collection/Use"],
    },
    {
        "policy": "demo",
        "id": "demo-0003",
        "start": 48,
        "end": 65,
        "text": "We never sell it.",
        "labels": ["Third Party Sharing/Collection"],
    },
]


def write_gold(folder: Path, records: list, raw_lines: dict[int, str] | None = None) -> Path:
    (folder / "policies").mkdir(parents=True, exist_ok=True)
    (folder / "policies" / "demo.txt").write_text(SOURCE, encoding="utf-8")
    lines = [json.dumps(r) for r in records]
    for index, raw in (raw_lines or {}).items():
        lines[index] = raw
    path = folder / "demo.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_the_real_gold_files_pass_and_include_the_five_seeds():
    result = runner.invoke(app, ["annotations", "check", str(ROOT / "annotations")])
    assert result.exit_code == 0, result.output
    files = load_gold(ROOT / "annotations")
    assert set(SEED_POLICIES) <= {f.policy for f in files}
    assert stats(files)["units"] == sum(len(f.records) for f in files) > 800


def test_gold_units_are_the_splitter_units_plus_the_recorded_corrections():
    """Training sees units cut as `clf predict` cuts them: a splitter change that moves a gold unit fails here."""
    for gold in load_gold(ROOT / "annotations"):
        drafted = [(u.start, u.end) for u in draft_units(gold.policy, ROOT / "annotations")]
        assert drafted == [(r["start"], r["end"]) for r in gold.records], gold.policy


def test_a_valid_small_file_passes(tmp_path):
    assert check_file(write_gold(tmp_path, GOOD)) == []


def mutate(index: int, **changes):
    records = [dict(r) for r in GOOD]
    records[index].update(changes)
    return records


@pytest.mark.parametrize(
    ("records", "raw", "line", "message"),
    [
        (
            mutate(1, labels=["First Party Colection/Use"]),
            None,
            2,
            "unknown label 'First Party Colection/Use' (did you mean",
        ),
        (mutate(1, labels=["Introductory/Generic", "Data Security"]), None, 2, "must stand alone"),
        (mutate(2, labels=[]), None, 3, "'labels' is empty"),
        (mutate(2, id="demo-0002"), None, 3, "duplicate id 'demo-0002'"),
        (mutate(1, id="demo-0009"), None, 3, "does not increase (the unit before is number 9)"),
        (mutate(2, id="demo-3"), None, 3, "is not 'demo-NNNN'"),
        (mutate(1, start=17), None, 2, "text does not match the source"),
        (mutate(2, start=40), None, 3, "overlaps the previous unit"),
        (GOOD[:2], None, 2, "text after the last unit is not covered"),
        ([GOOD[0], GOOD[2]], None, 2, "text before this unit is not covered"),
        (GOOD, {1: '{"policy": "demo", "id": '}, 2, "invalid JSON"),
    ],
)
def test_each_defect_is_reported_at_its_line(tmp_path, records, raw, line, message):
    path = write_gold(tmp_path, records, raw)
    before = path.read_bytes()
    result = runner.invoke(app, ["annotations", "check", str(path)])
    assert result.exit_code == 1
    assert f"{path}:{line}: " in result.stdout and message in result.stdout, result.stdout
    assert path.read_bytes() == before, "check must never rewrite a file"


def test_all_problems_are_reported_at_once(tmp_path):
    records = mutate(1, labels=["Nope"])
    records[2]["id"] = "demo-0001"
    path = write_gold(tmp_path, records)
    messages = [str(p) for p in check_file(path)]
    assert any(":2: unknown label 'Nope'" in m for m in messages)
    assert any(":3: duplicate id 'demo-0001'" in m for m in messages)


def test_load_gold_refuses_a_bad_file(tmp_path):
    write_gold(tmp_path, mutate(1, labels=[]))
    with pytest.raises(DataError, match=r"demo\.jsonl:2: 'labels' is empty"):
        load_gold(tmp_path)


def test_sheets_apply_by_id_and_refuse_silent_overwrites(tmp_path):
    gold = write_gold(tmp_path, mutate(1, labels=["Data Security"]))
    sheet = tmp_path / "sheet.tsv"
    sheet.write_text("demo-0002\tFP\tflag\tR1: the operator collects\n", encoding="utf-8")
    with pytest.raises(DataError, match=r"already carry different labels"):
        apply_sheet_to_folder(sheet, tmp_path)
    assert apply_sheet_to_folder(sheet, tmp_path, overwrite=True)["demo"]["changed"] == 1
    record = json.loads(gold.read_text().splitlines()[1])
    assert record["labels"] == ["First Party Collection/Use"] and record["flag"] is True
    sheet.write_text("demo-0002\tFP,XX\n", encoding="utf-8")
    with pytest.raises(DataError, match=r"sheet\.tsv:1: unknown code"):
        parse_sheet(sheet)


def test_a_new_policy_gets_its_gold_file_only_when_every_unit_is_decided(tmp_path):
    (tmp_path / "policies").mkdir()
    (tmp_path / "policies" / "demo.txt").write_text(SOURCE, encoding="utf-8")
    sheet = tmp_path / "sheet.tsv"
    sheet.write_text("demo-0001\tIG\ndemo-0002\tFP\n", encoding="utf-8")
    with pytest.raises(DataError, match=r"leaves 1 of its 3 units undecided \(first: demo-0003\)"):
        apply_sheet_to_folder(sheet, tmp_path)
    assert not (tmp_path / "demo.jsonl").exists()
    sheet.write_text("demo-0001\tIG\ndemo-0002\tFP\ndemo-0003\tTP\tflag\tR3: a denial\n", encoding="utf-8")
    assert apply_sheet_to_folder(sheet, tmp_path)["demo"]["created"] == 3
    assert check_file(tmp_path / "demo.jsonl") == []
    assert [r for _, r in read_jsonl(tmp_path / "demo.jsonl")][2] == {**GOOD[2], "flag": True, "note": "R3: a denial"}
    result = runner.invoke(app, ["annotations", "read", "demo", "--root", str(tmp_path)])
    assert result.stdout.splitlines() == [
        "demo-0001 | IG | Privacy Policy",
        "",
        "demo-0002 | FP | We collect your e-mail address.",
        "demo-0003 | TP | We never sell it.",
    ]


def test_stats_and_agreement_commands_print_tables(tmp_path):
    result = runner.invoke(app, ["annotations", "stats", str(ROOT / "annotations")])
    assert result.exit_code == 0 and "| **all (" in result.stdout and "| polyatomic | " in result.stdout
    result = runner.invoke(app, ["annotations", "agreement", str(ROOT / "annotations" / "agreement"), "--json"])
    table = json.loads(result.stdout)
    assert table["units"] >= 0.25 * 842 and len(table["labels"]) == 12
    assert 0 <= table["macro_kappa"] <= 1


def test_kappa_is_one_for_identical_passes_and_low_for_unrelated_ones(tmp_path):
    from clf.agreement import kappa_table

    first = {f"u{i}": (["Data Security"] if i % 3 else ["Data Retention"]) for i in range(60)}
    same = kappa_table(first, dict(first), n_boot=50)
    assert same["macro_kappa"] == pytest.approx(1.0)
    flipped = {k: (["Data Retention"] if v == ["Data Security"] else ["Data Security"]) for k, v in first.items()}
    assert kappa_table(first, flipped, n_boot=50)["macro_kappa"] < 0


def test_the_splitter_reproduces_almost_every_gold_unit(tmp_path):
    shutil.copytree(ROOT / "annotations", tmp_path / "a")
    result = runner.invoke(app, ["annotations", "split-score", str(tmp_path / "a")])
    assert result.exit_code == 0 and "polyatomic:" in result.stdout


def test_vectorised_bootstrap_kappa_equals_scikit_learn():
    import numpy as np
    from sklearn.metrics import cohen_kappa_score

    from clf.agreement import binary_kappa

    rng = np.random.default_rng(1)
    x = rng.integers(0, 2, 200)
    y = np.where(rng.random(200) < 0.8, x, 1 - x)
    assert binary_kappa(x, y) == pytest.approx(cohen_kappa_score(x, y))


def test_resplit_keeps_unchanged_units_and_asks_a_person_for_merged_ones(tmp_path):
    from clf.annotate import resplit

    gold = write_gold(tmp_path, GOOD)
    (tmp_path / "splits").mkdir()
    (tmp_path / "splits" / "corrections.jsonl").write_text(
        json.dumps({"policy": "demo", "op": "merge", "at": 48, "why": "test"}) + "\n", encoding="utf-8"
    )
    shown = resplit("demo", tmp_path)
    assert not shown["written"] and shown["undecided"] == ["demo-0002"]
    assert [p["id"] for p in shown["changed"][0]["pieces"]] == ["demo-0002", "demo-0003"]
    assert gold.read_text() == write_gold(tmp_path / "copy", GOOD).read_text()  # nothing written yet
    done = resplit("demo", tmp_path, {"demo-0002": {"labels": ["First Party Collection/Use"], "note": "merged"}})
    records = [r for _, r in read_jsonl(gold)]
    assert done["written"] and [r["id"] for r in records] == ["demo-0001", "demo-0002"]
    assert records[1]["text"] == "We collect your e-mail address. We never sell it." and records[0] == GOOD[0]
    assert check_file(gold) == []


def test_a_blind_sample_takes_whole_policies_and_a_systematic_share_and_shows_no_labels(tmp_path):
    from clf.agreement import draw_sample

    units = {"a": [f"a-{i:04d}" for i in range(1, 11)], "b": [f"b-{i:04d}" for i in range(1, 21)]}
    ids = draw_sample(units, ["a"], 0.25, seed=3)
    assert set(units["a"]) <= set(ids) and len(ids) == 10 + 5
    drawn = sorted(int(i[2:]) for i in ids if i.startswith("b-"))
    assert len({b - a for a, b in itertools.pairwise(drawn)}) == 1  # every 4th unit from a random offset

    root = tmp_path / "gold"
    write_gold(root, GOOD)
    result = runner.invoke(app, ["annotations", "sample", str(tmp_path / "s"), "--whole", "demo", "--root", str(root)])
    assert result.exit_code == 0, result.output
    assert "demo-0003\tTP" in (tmp_path / "s" / "first-pass.tsv").read_text()
    sheet = (tmp_path / "s" / "whole-demo.md").read_text()
    assert "| - | We never sell it." in sheet and "| TP |" not in sheet
    again = runner.invoke(app, ["annotations", "sample", str(tmp_path / "s"), "--whole", "demo", "--root", str(root)])
    assert again.exit_code == 2 and "never overwritten" in again.output
