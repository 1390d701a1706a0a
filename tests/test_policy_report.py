"""`clf report`: the HTML is parsed, not grepped — every unit once and escaped, links resolve, nothing external."""

from __future__ import annotations

import json
import re
import shutil

import numpy as np
import pytest
from bs4 import BeautifulSoup
from typer.testing import CliRunner

from clf.cli import app
from clf.documents import parse, read_file
from clf.labels import CODE_OF, CODES, LABELS
from clf.predict import predict_document
from clf.predictor import Predictor
from clf.views.html import COLORS, contrast_ratio, link_parts, tint
from clf.views.report import policy_report, render_report
from tests.conftest import ROOT

runner = CliRunner()
EXAMPLE = ROOT / "examples" / "northwind-notes.md"
HOSTILE = (
    "Privacy Policy\n\n"
    "<script>alert('pwned')</script> We collect your e-mail address.\n"
    'Read <b onmouseover="x()">more</b> at https://example.org/privacy. We share data & "more" with partners.\n\n'
    "</span></p><img src=x onerror=alert(1)> You can opt out.\n"
)


def run(*args):
    return runner.invoke(app, [*map(str, args)])


def soup_of(path) -> BeautifulSoup:
    return BeautifulSoup(path.read_text(encoding="utf-8"), "html.parser")


def body_units(soup: BeautifulSoup):
    return soup.select("main.policy .unit")


@pytest.fixture(scope="module")
def example_report(tmp_path_factory, tfidf_dir):
    out = tmp_path_factory.mktemp("report")
    assert run("report", EXAMPLE, "--model", tfidf_dir, "--out", out / "r.html").exit_code == 0
    assert run("report", EXAMPLE, "--model", tfidf_dir, "--out", out / "r.json", "--format", "json").exit_code == 0
    return soup_of(out / "r.html"), json.loads((out / "r.json").read_text())


def test_every_unit_appears_exactly_once_in_reading_order(example_report, tfidf_dir):
    soup, _ = example_report
    rows = predict_document(Predictor.load(tfidf_dir), read_file(EXAMPLE))
    shown = [u.select_one(".text").get_text() for u in body_units(soup)]
    assert shown == [r["text"] for r in rows]
    assert len({u["id"] for u in body_units(soup)}) == len(rows)
    for unit, row in zip(body_units(soup), rows, strict=True):
        codes = [b.get_text() for b in unit.select(".tags .badge:not(.low)")]
        assert codes == [CODE_OF[label] for label in row["labels"]], "every label is shown, as text"
        scores = [float(x) for x in unit["data-scores"].split()]
        assert np.allclose(scores, [row["scores"][label] for label in LABELS], atol=5e-4)


def test_headings_stay_headings(example_report):
    soup, report = example_report
    headings = [h.select_one(".text").get_text() for h in soup.select("main.policy h3, main.policy h4")]
    expected = [line.lstrip("#").strip() for line in EXAMPLE.read_text().splitlines() if line.startswith("#")]
    assert headings == expected
    assert soup.select_one("main.policy h3").get_text(" ", strip=True).startswith(expected[0]), "'#' is h3, '##' h4"
    assert [u["text"] for u in report["units"] if u["heading"] is not None] == expected


def test_policy_text_is_escaped_and_only_the_policys_own_links_leave_the_page(tmp_path, tfidf_dir):
    source = tmp_path / "hostile.txt"
    source.write_text(HOSTILE, encoding="utf-8")
    out = tmp_path / "hostile.html"
    assert run("report", source, "--model", tfidf_dir, "--out", out).exit_code == 0
    html = out.read_text(encoding="utf-8")
    soup = BeautifulSoup(html, "html.parser")
    assert not soup.find_all(["img", "b", "link", "iframe", "object", "embed"])
    scripts = soup.find_all("script")
    assert [s.get("type") for s in scripts] == ["application/json", None], "only the report's own two scripts"
    assert "alert" not in "".join(s.get_text() for s in scripts)
    texts = [u.select_one(".text").get_text() for u in body_units(soup)]
    units = parse(source.read_bytes(), str(source), ".txt").units()
    assert texts == [u.text for u in units]
    assert any("<script>alert('pwned')</script>" in t for t in texts), "markup in a policy shows as text"
    hrefs = [a["href"] for a in soup.find_all(href=True)]
    assert "https://example.org/privacy" in hrefs
    assert not soup.find_all(src=True)
    ids = {tag["id"] for tag in soup.find_all(id=True)}
    for href in hrefs:
        assert href[1:] in ids if href.startswith("#") else href in HOSTILE, href
    css = " ".join(s.get_text() for s in soup.find_all("style"))
    assert "url(" not in css and "@import" not in css and "@font-face" not in css


def test_summary_lists_every_category_with_links_to_its_evidence(example_report):
    soup, report = example_report
    units = {u["n"]: u for u in report["units"]}
    items = soup.select("#summary .summary > li")
    assert [li["id"] for li in items] == [f"cat-{code}" for code in CODES]
    for li, category in zip(items, report["summary"], strict=True):
        carrying = [u for u in report["units"] if category["label"] in u["labels"]]
        assert category["count"] == len(carrying) and category["found"] == bool(carrying)
        links = li.select(".evidence a")
        if not carrying:
            assert "not found" in li.get_text() and not links
            continue
        assert 1 <= len(links) <= 3 and f"{len(carrying)} unit" in li.get_text()
        for link, evidence in zip(links, category["evidence"], strict=True):
            target = soup.find(id=link["href"][1:])
            assert target is not None and "unit" in target["class"]
            assert link.get_text() == target.select_one(".text").get_text() == units[evidence["unit"]]["text"]
            assert category["label"] in units[evidence["unit"]]["labels"]
    missing = [c for c in report["summary"] if not c["found"]]
    assert [c["code"] for c in missing] == [li["id"][4:] for li in soup.select(".summary > li.missing")]
    chips = soup.select(".chip[data-code]")
    assert [c["data-code"] for c in chips] == list(CODES) and all(c.name == "button" for c in chips)
    assert [c.has_attr("disabled") for c in chips] == [not c["found"] for c in report["summary"]]


def test_low_confidence_follows_the_thresholds_and_the_margin(tfidf_dir, tmp_path):
    predictor = Predictor.load(tfidf_dir)
    doc = read_file(EXAMPLE)
    rows = predict_document(predictor, doc)
    for margin in (0.0, 0.1, 0.3):
        report = policy_report(doc, rows, predictor, tfidf_dir, margin)
        for unit in report["units"]:
            leads = [unit["scores"][x] - float(predictor.thresholds[LABELS.index(x)]) for x in unit["labels"]]
            assert unit["low_confidence"] == (max(leads) < margin)
        soup = BeautifulSoup(render_report(report), "html.parser")
        marked = [u["id"] for u in body_units(soup) if "low" in u["class"]]
        assert marked == [f"u{u['n']}" for u in report["units"] if u["low_confidence"]]
        assert all(soup.find(id=m).select_one(".badge.low") for m in marked), "marked by a symbol, not colour alone"
    low = policy_report(doc, rows, predictor, tfidf_dir, 0.3)["totals"]["low_confidence"]
    assert low > policy_report(doc, rows, predictor, tfidf_dir, 0.0)["totals"]["low_confidence"]


def test_multi_label_units_show_every_label(tfidf_dir):
    predictor = Predictor.load(tfidf_dir)
    doc = parse(b"We share your e-mail address with partners, and you can opt out.\n", "x.txt", ".txt")
    row = predict_document(predictor, doc)[0]
    labels = ["Third Party Sharing/Collection", "User Choice/Control", "First Party Collection/Use"]
    report = policy_report(doc, [row | {"labels": labels}], predictor, tfidf_dir)
    soup = BeautifulSoup(render_report(report), "html.parser")
    unit = body_units(soup)[0]
    assert [b["title"] for b in unit.select(".tags .badge")] == labels
    for label in labels:
        assert soup.select_one(f"#cat-{CODE_OF[label]} .evidence a")["href"] == "#u1"


def test_a_unit_left_unlabelled_is_shown_without_a_colour_and_as_low_confidence(tfidf_dir):
    predictor = Predictor.load(tfidf_dir)  # a model with always_one_label: false can leave a unit unlabelled
    doc = parse(b"Section 9\n", "x.txt", ".txt")
    row = predict_document(predictor, doc)[0] | {"labels": []}
    report = policy_report(doc, [row], predictor, tfidf_dir)
    assert report["units"][0]["low_confidence"] and not any(c["found"] for c in report["summary"])
    unit = body_units(BeautifulSoup(render_report(report), "html.parser"))[0]
    assert "c-none" in unit["class"] and [b.get_text() for b in unit.select(".badge")] == ["?"]


def test_header_names_the_source_the_model_and_says_it_is_not_legal_advice(example_report, tfidf_dir):
    soup, report = example_report
    header = soup.find("header").get_text(" ", strip=True)
    info = json.loads((tfidf_dir / "training.json").read_text())
    for fact in (str(EXAMPLE), "tfidf", info["clf_version"], info["trained_at"], str(info["data"]["units"])):
        assert fact in header, fact
    assert "Not legal advice" in header and "machine-learning model" in header
    assert report["model"]["data"]["policies"] == info["data"]["policies"]
    css = soup.find("style").get_text()
    assert "@media print" in css


def test_json_has_the_same_content_as_the_page(example_report):
    soup, report = example_report
    assert report["format"] == "clf-report/1" and report["policy"] == "northwind-notes"
    assert [u["text"] for u in report["units"]] == [u.select_one(".text").get_text() for u in body_units(soup)]
    assert [[CODE_OF[x] for x in u["labels"]] for u in report["units"]] == [
        u["data-codes"].split() for u in body_units(soup)
    ]
    assert [c["count"] for c in report["summary"]] == [
        int(re.search(r"\((\d+)\)", c.get_text()).group(1)) for c in soup.select(".chip[data-code]")
    ]
    assert [x["threshold"] for x in report["labels"]] == [
        x["threshold"] for x in json.loads(soup.find(id="clf-labels").get_text())
    ]


def test_a_folder_gets_one_report_per_policy_and_an_index(tmp_path, tfidf_dir):
    policies = tmp_path / "policies"
    (policies / "sub").mkdir(parents=True)
    shutil.copy(EXAMPLE, policies / "northwind.md")
    (policies / "sub" / "tiny.txt").write_text("We use cookies.\n\nYou can opt out.\n")
    out = tmp_path / "reports"
    result = run("report", policies, "--model", tfidf_dir, "--out", out)
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in out.iterdir()) == ["index.html", "northwind.html", "tiny.html"]
    index = soup_of(out / "index.html")
    rows = index.select("tbody tr")
    assert [r.find("a").get_text() for r in rows] == ["northwind", "tiny"]
    for row in rows:
        for link in row.find_all("a"):
            page, _, anchor = link["href"].partition("#")
            target = soup_of(out / page)
            assert not anchor or target.find(id=anchor) is not None
        cells = row.find_all("td")[2:]
        assert len(cells) == len(LABELS)
    tiny = soup_of(out / "tiny.html")
    assert tiny.find("a", href="index.html") is not None
    assert "not found" in index.select("tbody tr")[1].get_text()
    result = run("report", policies, "--model", tfidf_dir, "--out", tmp_path / "j", "--format", "json")
    assert result.exit_code == 0
    listing = json.loads((tmp_path / "j" / "index.json").read_text())
    assert [r["file"] for r in listing["reports"]] == ["northwind.json", "tiny.json"]


def test_errors_are_one_line_and_write_nothing(tmp_path, tfidf_dir):
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    (tmp_path / "a" / "same.txt").write_text("We use cookies.\n")
    (tmp_path / "b" / "same.md").write_text("We sell data.\n")
    (tmp_path / "broken.jsonl").write_text('{"text": "ok"}\n{"text": \n')
    page = tmp_path / "policy.html"
    page.write_text("<p>We collect data.</p>")
    cases = [
        ((tmp_path / "a", tmp_path / "b", "--out", tmp_path / "out"), "would overwrite the one for"),
        ((tmp_path / "a", "--out", tmp_path / "out" / "one.html"), "--out must be a folder"),
        ((tmp_path / "broken.jsonl", "--out", tmp_path / "out" / "x.html"), "broken.jsonl:2: invalid JSON"),
        ((tmp_path / "missing.md", "--out", tmp_path / "out" / "x.html"), "missing.md: file not found"),
        ((EXAMPLE, "--out", tmp_path / "out" / "x.html", "--format", "pdf"), "unknown --format 'pdf'"),
        ((EXAMPLE, "--out", tmp_path / "out" / "x.html", "--margin", "2"), "--margin 2.0"),
        ((page, "--out", page), "--out is one of the inputs"),
    ]
    for args, message in cases:
        result = run("report", *args, "--model", tfidf_dir)
        assert result.exit_code == 2, (args, result.output)
        assert message in result.output and len(result.output.strip().splitlines()) == 1, result.output
        assert "Traceback" not in result.output
        assert not (tmp_path / "out").exists()
    assert page.read_text() == "<p>We collect data.</p>"


def test_colours_have_enough_contrast_and_policy_urls_become_links():
    assert len(set(COLORS.values())) == len(LABELS)
    for color in COLORS.values():
        assert contrast_ratio("#ffffff", color) >= 4.5, "white badge text"
        assert contrast_ratio("#1a1a1a", tint(color)) >= 7, "policy text on its highlight"
    assert link_parts("See https://a.example/x(1)). Or http://b.example/.") == [
        ("See ", None),
        ("https://a.example/x(1)", "https://a.example/x(1)"),
        ("). Or ", None),
        ("http://b.example/", "http://b.example/"),
        (".", None),
    ]
    assert link_parts("javascript:alert(1) and www.example.com") == [("javascript:alert(1) and www.example.com", None)]


def test_a_report_is_readable_by_whoever_it_is_shared_with(tmp_path, tfidf_dir):
    import os

    out = tmp_path / "shared.html"
    assert run("report", EXAMPLE, "--model", tfidf_dir, "--out", out).exit_code == 0
    mask = os.umask(0)
    os.umask(mask)
    assert out.stat().st_mode & 0o777 == 0o666 & ~mask, "the umask decides, as for any new file (not mkstemp's 0600)"
