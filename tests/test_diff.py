"""`clf diff` on the two hand-made versions of the example policy, whose edits are known."""

from __future__ import annotations

import json
import shutil

from bs4 import BeautifulSoup
from typer.testing import CliRunner

from clf.cli import app
from clf.labels import CODE_OF, LABELS
from tests.conftest import ROOT

runner = CliRunner()
OLD = ROOT / "examples" / "northwind-notes.md"
NEW = ROOT / "examples" / "northwind-notes-v2.md"

# The edits made by hand to write northwind-notes-v2.md (README, "What changed").
ADDED = [
    "Writing assistant",
    "We use the text of your notes to train our writing assistant, unless you switch this off in Settings.",
    "We share usage counts with Metricly, an analytics company, so it can compare our apps with similar products.",
    "Workspace owners can connect third-party integrations, which receive the notes they are given access to.",
]
REMOVED = [
    "You can turn off crash reports in Settings at any time.",
    "Only two engineers on the on-call rota can access production systems, and every access is logged.",
]
CHANGED = [
    ("Last updated: 2 November 2026", "Last updated: 2 March 2027"),
    (
        "We do not sell personal information, and we do not share it with advertisers.",
        "We do not sell personal information, but we may share pseudonymous usage data with advertising partners.",
    ),
    ("Server logs are deleted after 30 days.", "Server logs are deleted after 90 days."),
]
MOVED = ["After you delete your account, backups containing your data expire within 35 days."]


def diff(*args):
    return runner.invoke(app, ["diff", *map(str, args)])


def as_json(tfidf_dir, old=OLD, new=NEW, *extra):
    result = diff(old, new, "--model", tfidf_dir, "--format", "json", *extra)
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_the_known_edits_are_found_exactly(tfidf_dir):
    data = as_json(tfidf_dir)
    by_kind = {kind: [c for c in data["changes"] if c["kind"] == kind] for kind in ("added", "removed", "changed")}
    assert [c["new"]["text"] for c in by_kind["added"]] == ADDED
    assert [c["old"]["text"] for c in by_kind["removed"]] == REMOVED
    assert [(c["old"]["text"], c["new"]["text"]) for c in by_kind["changed"]] == CHANGED
    assert [c["new"]["text"] for c in data["changes"] if c["kind"] == "moved"] == MOVED
    assert data["counts"] == {"added": 4, "removed": 2, "changed": 3, "moved": 1, "unchanged": 45}
    assert (data["old"]["units"], data["new"]["units"]) == (51, 53)


def test_each_category_counts_what_its_label_gained_and_lost(tfidf_dir):
    data = as_json(tfidf_dir)
    expected = {}
    for change in data["changes"]:
        if change["kind"] == "moved":
            continue
        old = set(change["old"]["labels"]) if change["old"] else set()
        new = set(change["new"]["labels"]) if change["new"] else set()
        for label in old | new:
            plus, minus, changed = expected.get(label, (0, 0, 0))
            if label in old and label in new:
                changed += 1
            elif label in new:
                plus += 1
            else:
                minus += 1
            expected[label] = (plus, minus, changed)
    found = {c["label"]: (c["added"], c["removed"], c["changed"]) for c in data["categories"]}
    assert found == expected
    sizes = [sum(found[c["label"]]) for c in data["categories"]]
    assert sizes == sorted(sizes, reverse=True), "the largest changes first"
    for category in data["categories"]:
        assert category["net"] == category["added"] - category["removed"]


def test_the_table_reads_as_net_changes_with_the_texts(tfidf_dir):
    result = diff(OLD, NEW, "--model", tfidf_dir)
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert "4 added, 2 removed, 3 changed, 1 moved, 45 unchanged" in out
    for category in as_json(tfidf_dir)["categories"]:
        plus, minus = category["added"], category["removed"]
        assert f"{category['label']} ({category['code']}): +{plus} unit{'s' if plus != 1 else ''}, −{minus}" in out
    for text in [*ADDED, *REMOVED, *(t for pair in CHANGED for t in pair)]:
        assert text in out


def test_html_shows_old_and_new_side_by_side_with_the_reports_colours(tmp_path, tfidf_dir):
    out = tmp_path / "diff.html"
    result = diff(OLD, NEW, "--model", tfidf_dir, "--format", "html", "--out", out)
    assert result.exit_code == 0, result.output
    soup = BeautifulSoup(out.read_text(encoding="utf-8"), "html.parser")
    data = as_json(tfidf_dir)
    sections = soup.select("main section")
    assert [s["class"] for s in sections] == [[f"c-{c['code']}"] for c in data["categories"]]
    for section, category in zip(sections, data["categories"], strict=True):
        rows = section.select("tbody tr")
        assert len(rows) == len(category["entries"])
        for row, entry in zip(rows, category["entries"], strict=True):
            old, new = row.select("td.side")
            for cell, side in ((old, entry["old"]), (new, entry["new"])):
                if side is None:
                    assert "none" in cell["class"]
                else:
                    assert cell.select_one(".text").get_text() == side["text"]
                    assert [b.get_text() for b in cell.select(".badge:not(.low)")] == [
                        CODE_OF[x] for x in side["labels"]
                    ]
            if entry["kind"] == "changed":
                assert old.find("del") and new.find("ins"), "the changed words are marked"
    css = soup.find("style").get_text()
    from clf.views.html import COLORS

    for label in LABELS:
        assert f".c-{CODE_OF[label]} {{ --c: {COLORS[label]};" in css
    assert not soup.find_all(src=True) and all(a["href"].startswith("#") for a in soup.find_all("a", href=True))


def test_identical_versions_give_an_empty_diff(tmp_path, tfidf_dir):
    copy = tmp_path / "copy.md"
    shutil.copy(OLD, copy)
    result = diff(OLD, copy, "--model", tfidf_dir)
    assert result.exit_code == 0 and result.stdout.strip().endswith("no changes")
    data = as_json(tfidf_dir, OLD, copy)
    assert data["changes"] == [] and data["categories"] == [] and data["counts"]["unchanged"] == 51
    out = tmp_path / "same.html"
    result = diff(OLD, copy, "--model", tfidf_dir, "--format", "html", "--out", out)
    assert result.exit_code == 0 and "No changes" in out.read_text()


def test_errors_name_the_file_and_line_and_write_nothing(tmp_path, tfidf_dir):
    (tmp_path / "broken.jsonl").write_text('{"text": "ok"}\n{"text": \n')
    (tmp_path / "empty.txt").write_text("  \n")
    out = tmp_path / "out.json"
    cases = [
        ((OLD, tmp_path / "broken.jsonl"), "broken.jsonl:2: invalid JSON"),
        ((tmp_path / "missing.md", NEW), "missing.md: file not found"),
        ((OLD, tmp_path / "empty.txt"), "empty input"),
        ((OLD, tmp_path), "is a folder"),
        ((OLD, NEW, "--format", "pdf"), "unknown --format 'pdf'"),
        ((OLD, NEW, "--threshold", "0"), "--threshold 0.0"),
        ((OLD, NEW, "--out", NEW), "--out is one of the inputs"),
    ]
    before = NEW.read_bytes()
    for args, message in cases:
        result = diff(*args, "--model", tfidf_dir, *(("--out", out) if "--out" not in args else ()))
        assert result.exit_code == 2, (args, result.output)
        assert message in result.output and len(result.output.strip().splitlines()) == 1, result.output
        assert "Traceback" not in result.output and not out.exists()
    assert NEW.read_bytes() == before
