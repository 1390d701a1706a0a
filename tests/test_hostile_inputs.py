"""Hostile inputs and misuse, as met in the wild: every case ends in a correct result or a one-line error.

Each case builds its files in a fresh folder and runs one `clf` command. Whatever happens, no
traceback is shown and no file that existed before is changed; a failing command names the
file (and the line, where there is one), exits non-zero and writes nothing. The second half
holds property-based tests of the splitter and the JSONL reader.
"""

from __future__ import annotations

import csv
import json
import os
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from clf.cli import app
from clf.errors import DataError
from clf.jsonl import parse_lines, read_jsonl, write_jsonl
from clf.segment import MAX_UNIT_CHARS, collapse, split_units
from tests.conftest import ROOT, TINY_OVERRIDES

runner = CliRunner()
OPP115 = ROOT / "tests" / "fixtures" / "opp115"
TINY = [f"--set={o}" for o in TINY_OVERRIDES]
FAST = ["--set=search={}", "--set=thresholds.inner_folds=2"]  # train in a fraction of a second
WORDS = ["we", "collect", "your", "data", "and", "share", "it", "with", "partners", "for", "purposes", "in", "this"]


@dataclass
class Fails:
    """One line on stderr naming `where` (at `line`, if given) and saying `message`."""

    where: str | Path
    message: str
    line: int | None = None


@dataclass
class Works:
    check: Callable[[object, Path], None] = lambda result, tmp: None
    notice: str | None = None  # a line on stderr that must say this
    replaces: str | None = None  # a folder (relative to tmp) the command is asked to replace


@dataclass
class Ctx:
    tmp: Path
    model: Path  # a trained TF-IDF model folder (outside tmp)
    data: Path  # the tiny labelled corpus, copied into tmp
    stdin: str | None = None

    def write(self, name: str, content: str | bytes) -> Path:
        path = self.tmp / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content.encode("utf-8") if isinstance(content, str) else content)
        return path


CASES: dict[str, Callable[[Ctx], tuple[list[str], Fails | Works]]] = {}


def case(command: str):
    def register(build):
        CASES[f"{command}: {build.__name__.replace('_', ' ')}"] = build
        return build

    return register


def record(text: str, labels=("Data Retention",), **extra) -> str:
    return json.dumps({"text": text, "labels": list(labels), **extra}) + "\n"


def _rows(result) -> list[dict]:
    return [json.loads(line) for line in result.stdout.splitlines()]


def _covers(source: str, rows: list[dict]) -> None:
    """Units in order, not overlapping, none too long, covering every non-space character."""
    previous = 0
    for row in rows:
        assert row["start"] >= previous and not source[previous : row["start"]].strip()
        assert row["text"] == collapse(source[row["start"] : row["end"]]) and len(row["text"]) <= MAX_UNIT_CHARS
        previous = row["end"]
    assert not source[previous:].strip()


# --------------------------------------------------------------------------- predict


@case("predict")
def out_is_the_input_itself(c):
    units = c.write("units.jsonl", '{"id": "a", "text": "We keep logs."}\n')
    return ["predict", str(units), "-m", str(c.model), "-f", "jsonl", "-o", str(units)], Fails(units, "also an input")


@case("predict")
def out_is_a_symlink_to_the_input(c):
    policy = c.write("policy.txt", "We keep logs for a week.\n")
    (c.tmp / "link.txt").symlink_to(policy)
    argv = ["predict", str(policy), "-m", str(c.model), "-o", str(c.tmp / "link.txt")]
    return argv, Fails("link.txt", "also an input")


@case("predict")
def out_is_a_hard_link_to_a_file_inside_an_input_folder(c):
    c.write("in/a.md", "# Privacy\n\nWe keep logs.\n")
    os.link(c.tmp / "in" / "a.md", c.tmp / "copy.md")
    argv = ["predict", str(c.tmp / "in"), "-m", str(c.model), "-o", str(c.tmp / "copy.md")]
    return argv, Fails("copy.md", "also an input")


@case("predict")
def out_left_in_the_input_folder_by_an_earlier_run(c):
    c.write("in/a.txt", "We keep logs.\n")
    labels = c.write("in/labels.jsonl", '{"id": "x", "labels": []}\n')  # what the first run wrote
    argv = ["predict", str(c.tmp / "in"), "-m", str(c.model), "-f", "jsonl", "-o", str(labels)]
    return argv, Fails(labels, "also an input")


@case("predict")
def out_is_an_existing_folder(c):
    policy = c.write("policy.txt", "We keep logs.\n")
    (c.tmp / "results").mkdir()
    return ["predict", str(policy), "-m", str(c.model), "-o", str(c.tmp / "results")], Fails("results", "is a folder")


@case("predict")
def a_scraped_line_of_50_kb_without_a_full_stop(c):
    text = " ".join(WORDS[i % len(WORDS)] for i in range(9000))
    policy = c.write("scraped.txt", text)

    def check(result, tmp):
        rows = _rows(result)
        assert len(rows) >= len(text) // MAX_UNIT_CHARS
        _covers(text, rows)
        assert all(text[r["end"]] == " " for r in rows[:-1]), "cut between words, never inside one"

    return ["predict", str(policy), "-m", str(c.model), "-f", "jsonl"], Works(check)


@case("predict")
def one_token_of_5000_characters(c):
    text = "a" * 5000
    policy = c.write("token.txt", text)

    def check(result, tmp):
        rows = _rows(result)
        assert [len(r["text"]) for r in rows] == [1000] * 5
        _covers(text, rows)

    return ["predict", str(policy), "-m", str(c.model), "-f", "jsonl"], Works(check)


@case("predict")
def a_list_of_3000_items_on_one_line(c):
    text = "We collect: " + ", ".join(f"field {i}" for i in range(3000)) + ".\n"
    policy = c.write("list.txt", text)

    def check(result, tmp):
        rows = _rows(result)
        _covers(text, rows)
        assert all(r["text"].endswith((",", ".")) for r in rows), "cut at the commas"

    return ["predict", str(policy), "-m", str(c.model), "-f", "jsonl"], Works(check)


@case("predict")
def jsonl_nested_100000_deep(c):
    units = c.write("deep.jsonl", '{"text": "ok"}\n' + "[" * 100_000 + "]" * 100_000 + "\n")
    return ["predict", str(units), "-m", str(c.model)], Fails(units, "invalid JSON (nested too deeply)", 2)


@case("predict")
def jsonl_with_a_5000_digit_number(c):
    units = c.write("big.jsonl", '{"text": "We keep logs.", "n": ' + "7" * 5000 + "}\n")
    return ["predict", str(units), "-m", str(c.model)], Fails(units, "a number too long to read", 1)


@case("predict")
def jsonl_with_half_a_surrogate_pair(c):
    units = c.write("surrogate.jsonl", '{"text": "We keep logs."}\n{"text": "We keep \\ud83d logs."}\n')
    return ["predict", str(units), "-m", str(c.model)], Fails(units, "half of a character", 2)


@case("predict")
def jsonl_text_holding_raw_line_separators(c):
    units = c.write("u2028.jsonl", record("We keep logs.\u2028We delete them.\u0085Later.") + record("Cookies."))

    def check(result, tmp):
        assert [len(r["scores"]) for r in _rows(result)] == [12, 12], "one row per record"

    return ["predict", str(units), "-m", str(c.model), "-f", "jsonl"], Works(check)


@case("predict")
def jsonl_text_that_is_a_number(c):
    units = c.write("number.jsonl", '{"text": "fine"}\n{"text": 42}\n')
    return ["predict", str(units), "-m", str(c.model)], Fails(units, "non-empty 'text' string", 2)


@case("predict")
def html_that_is_only_scripts_and_styles(c):
    page = c.write("app.html", "<html><head><script>var a = 1;</script><style>p{}</style></head><body></body></html>")
    return ["predict", str(page), "-m", str(c.model)], Fails(page, "no text left after removing HTML markup")


@case("predict")
def windows_1252_quotes(c):
    policy = c.write("smart.txt", b"We keep \x93logs\x94.\n")
    return ["predict", str(policy), "-m", str(c.model)], Fails(policy, "not UTF-8 text (invalid byte at offset 8)")


@case("predict")
def old_mac_line_ends(c):
    policy = c.write("mac.txt", "Privacy\rWe keep logs.\rWe share nothing.\r")

    def check(result, tmp):
        assert [r["text"] for r in _rows(result)] == ["Privacy", "We keep logs.", "We share nothing."]

    return ["predict", str(policy), "-m", str(c.model), "-f", "jsonl"], Works(check)


@case("predict")
def punctuation_and_nothing_else(c):
    source = "... ;;; ,,, !!! ???\n—\n"
    policy = c.write("dots.txt", source)
    return ["predict", str(policy), "-m", str(c.model), "-f", "jsonl"], Works(lambda r, tmp: _covers(source, _rows(r)))


@case("predict")
def a_folder_without_a_policy(c):
    c.write("scans/page.pdf", b"%PDF-1.4")
    c.write("scans/photo.png", b"\x89PNG")
    return ["predict", str(c.tmp / "scans"), "-m", str(c.model)], Fails("scans", "no supported files")


@case("predict")
def empty_stdin(c):
    c.stdin = ""
    return ["predict", "-", "-m", str(c.model)], Fails("-", "empty input")


@case("predict")
def a_model_folder_that_is_a_policy_file(c):
    policy = c.write("policy.txt", "We keep logs.\n")
    return ["predict", str(policy), "-m", str(policy)], Fails(policy, "is a file, not a model folder")


# --------------------------------------------------------------------------- train


@case("train")
def a_word_for_an_integer(c):
    argv = ["train", "-d", str(c.data), "-o", str(c.tmp / "m"), "--set", "params.max_iter=abc"]
    return argv, Fails("--set params.max_iter", "'abc' is not accepted; use an integer ≥ 1")


@case("train")
def a_word_for_a_searched_number(c):
    argv = ["train", "-d", str(c.data), "-o", str(c.tmp / "m"), "--set", "params.C=abc"]
    return argv, Fails("--set params.C", "'abc' is not accepted; use a number > 0")


@case("train")
def an_explicit_value_wins_over_the_search_grid(c):
    argv = ["train", "-d", str(c.data), "-o", str(c.tmp / "m"), "--set", "params.C=3", "--set=thresholds.inner_folds=2"]

    def check(result, tmp):
        config = yaml.safe_load((tmp / "m" / "config.yaml").read_text())
        assert config["params"]["C"] == 3 and "C" not in config["search"]

    return argv, Works(check, notice="--set params.C wins over the config's search grid for C [1.0, 3.0, 10.0, 30.0]")


@case("train")
def an_explicit_value_and_an_explicit_grid_for_it(c):
    argv = ["train", "-d", str(c.data), "-o", str(c.tmp / "m"), "--set", "params.C=3", "--set", "search.C=[1, 2]"]
    return argv, Fails("--set params.C and --set search.C", "contradict each other")


@case("train")
def an_empty_search_grid(c):
    argv = ["train", "-d", str(c.data), "-o", str(c.tmp / "m"), "--set", "search.C=[]"]
    return argv, Fails("tfidf.yaml", "search.C is an empty list")


@case("train")
def a_reversed_ngram_range(c):
    argv = ["train", "-d", str(c.data), "-o", str(c.tmp / "m"), "--set", "params.char_ngrams=[5, 2]"]
    return argv, Fails("--set params.char_ngrams", "[5, 2] is not accepted; use [low, high]")


@case("train")
def an_unknown_class_weight(c):
    argv = ["train", "-d", str(c.data), "-o", str(c.tmp / "m"), "--set", "params.class_weight=weighted"]
    return argv, Fails("--set params.class_weight", "use one of 'balanced', null")


@case("train")
def one_inner_fold(c):
    argv = ["train", "-d", str(c.data), "-o", str(c.tmp / "m"), "--set", "thresholds.inner_folds=1"]
    return argv, Fails("tfidf.yaml", "thresholds.inner_folds: Input should be greater than or equal to 2")


@case("train")
def params_that_are_not_a_mapping(c):
    argv = ["train", "-d", str(c.data), "-o", str(c.tmp / "m"), "--set", "params=[1, 2]"]
    return argv, Fails("tfidf.yaml", "params: Input should be a valid dictionary")


@case("train")
def two_records_with_one_id(c):
    data = c.write("dup.jsonl", record("We keep logs.", id="u-1") + record("We keep mail.", id="u-2") * 2)
    argv = ["train", "-d", str(data), "-o", str(c.tmp / "m"), *FAST]
    return argv, Fails(data, f"duplicate id 'u-2' (first at {data}:2)", 3)


@case("train")
def one_id_in_two_files_of_a_folder(c):
    c.write("set/a.jsonl", record("We keep logs.", id="x-1") + record("We keep mail.", id="x-2"))
    second = c.write("set/b.jsonl", record("We sell nothing.", id="x-2"))
    argv = ["train", "-d", str(c.tmp / "set"), "-o", str(c.tmp / "m"), *FAST]
    return argv, Fails(second, "duplicate id 'x-2' (first at", 1)


@case("train")
def out_is_the_data_folder(c):
    argv = ["train", "-d", str(c.data), "-o", str(c.data), *FAST]
    return argv, Fails(c.data, "not a clf model folder")


@case("train")
def out_is_a_folder_that_holds_the_data(c):
    (c.data / "training.json").write_text("{}")  # looks like a model folder, but the data lives inside it
    argv = ["train", "-d", str(c.data / "alpha.jsonl"), "-o", str(c.data), *FAST]
    return argv, Fails(c.data, "holds the input")


@case("train")
def out_is_someone_elses_folder(c):
    c.write("thesis/chapter1.tex", "\\chapter{Privacy}")
    return ["train", "-d", str(c.data), "-o", str(c.tmp / "thesis"), *FAST], Fails("thesis", "not a clf model folder")


@case("train")
def out_is_a_file(c):
    notes = c.write("notes.txt", "my notes")
    return ["train", "-d", str(c.data), "-o", str(notes), *FAST], Fails(notes, "is a file, not a model folder")


@case("train")
def a_single_record(c):
    data = c.write("one.jsonl", record("We keep logs."))
    return ["train", "-d", str(data), "-o", str(c.tmp / "m"), *FAST], Fails(data, "training needs at least 2")


@case("train")
def data_saved_with_a_byte_order_mark(c):
    data = c.write("bom.jsonl", b"\xef\xbb\xbf" + (c.data / "alpha.jsonl").read_bytes())

    def check(result, tmp):
        assert json.loads((tmp / "m" / "training.json").read_text())["data"]["units"] == 12

    return ["train", "-d", str(data), "-o", str(c.tmp / "m"), *FAST], Works(check)


@case("train")
def retraining_into_an_existing_model_folder(c):
    shutil.copytree(c.model, c.tmp / "m")
    before = json.loads((c.tmp / "m" / "training.json").read_text())

    def check(result, tmp):
        assert json.loads((tmp / "m" / "training.json").read_text())["trained_at"] >= before["trained_at"]
        assert json.loads((tmp / "m" / "training.json").read_text())["data"]["paths"] != before["data"]["paths"]

    return ["train", "-d", str(c.data), "-o", str(c.tmp / "m"), *TINY], Works(check, replaces="m")


# --------------------------------------------------------------------------- config


@case("config")
def an_unclosed_bracket(c):
    config = c.write("bad.yaml", "model: tfidf\nparams:\n  C: [1, 2\nseed: 0\n")
    return ["train", "-c", str(config), "-o", str(c.tmp / "m")], Fails(f"{config}:4:5", "not valid YAML")


@case("config")
def a_tab_for_indentation(c):
    config = c.write("tabs.yaml", "model: tfidf\nparams:\n\tC: 1\n")
    return ["train", "-c", str(config), "-o", str(c.tmp / "m")], Fails(f"{config}:3:1", "found character '\\t'")


@case("config")
def a_list_instead_of_a_mapping(c):
    config = c.write("list.yaml", "- model: tfidf\n")
    return ["train", "-c", str(config), "-o", str(c.tmp / "m")], Fails(config, "a config is a YAML mapping")


@case("config")
def a_latin_1_config(c):
    config = c.write("latin.yaml", "# Übersicht\nmodel: tfidf\n".encode("latin-1"))
    return ["train", "-c", str(config), "-o", str(c.tmp / "m")], Fails(config, "not UTF-8 text")


@case("config")
def a_grid_that_is_not_a_list(c):
    config = c.write("grid.yaml", "model: tfidf\nsearch:\n  C: 3\n")
    return ["train", "-c", str(config), "-o", str(c.tmp / "m")], Fails(config, "search.C: Input should be a valid list")


@case("config")
def an_override_into_a_number(c):
    return ["train", "-o", str(c.tmp / "m"), "--set", "params.C.x=1"], Fails("params.C.x=1", "'C' is not a section")


@case("config")
def an_override_without_a_key(c):
    return ["train", "-o", str(c.tmp / "m"), "--set", "=3"], Fails("'=3'", "must look like key.sub=value")


@case("config")
def an_ensemble_member_with_a_bad_value(c):
    config = c.write("ens.yaml", "model: ensemble\nparams:\n  members:\n    - model: tfidf\n      params: {C: -1}\n")
    argv = ["train", "-c", str(config), "-o", str(c.tmp / "m")]
    return argv, Fails(config, "ensemble parameter members[0]: tfidf parameter C: -1 is not accepted")


@case("config")
def ensemble_weights_that_do_not_match_the_members(c):
    config = c.write("w.yaml", "model: ensemble\nparams:\n  members: [{model: tfidf}]\n  weights: [1, 1]\n")
    argv = ["train", "-c", str(config), "-o", str(c.tmp / "m")]
    return argv, Fails(config, "weights: [1, 1] is not accepted; use one number ≥ 0 per member (1)")


@case("config")
def a_transformer_base_model_that_is_not_there(c):
    argv = ["train", "-m", "transformer", "-o", str(c.tmp / "m"), "--set", f"params.base_model={c.tmp / 'minilm'}"]
    return argv, Fails("--set params.base_model", "is not a model folder with config.json and tokenizer.json")


@case("config")
def a_quantization_that_does_not_exist(c):
    argv = ["train", "-m", "transformer", "-o", str(c.tmp / "m"), "--set", "params.quantization=fp16"]
    return argv, Fails("--set params.quantization", "use one of 'blockwise', 'dynamic'")


# --------------------------------------------------------------------------- evaluate


@case("evaluate")
def out_folder_whose_predictions_file_is_the_data(c):
    data = c.write("r/predictions.jsonl", (c.data / "alpha.jsonl").read_text() + (c.data / "beta.jsonl").read_text())
    argv = ["evaluate", "-d", str(data), "-o", str(c.tmp / "r"), *TINY]
    return argv, Fails(data, "also an input")


@case("evaluate")
def out_is_a_report_file(c):
    report = c.write("report.md", "# my report")
    return ["evaluate", "-d", str(c.data), "-o", str(report), *TINY], Fails(report, "is a file; give a folder")


@case("evaluate")
def duplicate_ids_in_the_data(c):
    data = c.write("dup.jsonl", record("We keep logs.", id="a", policy="p") + record("We sell.", id="a", policy="q"))
    return ["evaluate", "-d", str(data), *TINY], Fails(data, "duplicate id 'a'", 2)


@case("evaluate")
def seeds_that_are_not_numbers(c):
    return ["evaluate", "-d", str(c.data), "--seeds", "0,one", *TINY], Fails("--seeds", "not '0,one'")


@case("evaluate")
def a_model_dir_that_is_not_there(c):
    argv = ["evaluate", "--model-dir", str(c.tmp / "models" / "tfidf"), "-d", str(c.data)]
    return argv, Fails(c.tmp / "models" / "tfidf", "model folder not found")


# --------------------------------------------------------------------------- import


def fixture_records() -> list[dict]:
    from clf.opp115 import import_corpus

    return import_corpus(OPP115).records


def _corpus(c: Ctx) -> Path:
    shutil.copytree(OPP115, c.tmp / "opp")
    return c.tmp / "opp"


@case("import")
def out_is_one_of_the_corpus_files(c):
    target = _corpus(c) / "annotations" / "202_quietapps.io.csv"
    return ["import", "opp115", str(c.tmp / "opp"), "-o", str(target)], Fails(target, "also an input")


@case("import")
def out_is_a_folder(c):
    corpus = _corpus(c)
    return ["import", "opp115", str(corpus), "-o", str(corpus)], Fails(corpus, "is a folder")


@case("import")
def a_nul_byte_in_a_column_the_importer_does_not_read(c):
    path = _corpus(c) / "annotations" / "305_trailmaps.org.csv"
    lines = path.read_bytes().split(b"\n")
    lines[2] = lines[2].replace(b"test_batch", b"test\x00batch")  # column 2, the batch id
    path.write_bytes(b"\n".join(lines))

    def check(result, tmp):
        assert (tmp / "o.jsonl").read_text() == "".join(
            json.dumps(r, ensure_ascii=False) + "\n" for r in fixture_records()
        )

    return ["import", "opp115", str(c.tmp / "opp"), "-o", str(c.tmp / "o.jsonl")], Works(check)


@case("import")
def a_nul_byte_in_the_category(c):
    path = _corpus(c) / "annotations" / "305_trailmaps.org.csv"
    lines = path.read_bytes().split(b"\n")
    k = next(i for i, line in enumerate(lines) if b",Third Party" in line)
    lines[k] = lines[k].replace(b",Third Party", b",Third\x00Party")
    path.write_bytes(b"\n".join(lines))
    argv = ["import", "opp115", str(c.tmp / "opp"), "-o", str(c.tmp / "o.jsonl")]
    return argv, Fails(path, "unknown category 'Third\\x00Party", k + 1)


@case("import")
def a_column_4_that_changes_half_way(c):
    path = _corpus(c) / "annotations" / "101_examplebakery.com.csv"
    rows = list(csv.reader(path.read_text().splitlines()))
    rows[10][3] = "9999"
    with path.open("w", newline="") as handle:
        csv.writer(handle).writerows(rows)
    argv = ["import", "opp115", str(c.tmp / "opp"), "-o", str(c.tmp / "o.jsonl")]
    return argv, Fails(path, "policy uid (column 4) '9999' differs from '1360' on line 1", 11)


# --------------------------------------------------------------------------- annotations


def _gold(c: Ctx, lines: bytes, source: bytes = b"We keep logs.\n") -> Path:
    c.write("gold/policies/p.txt", source)
    return c.write("gold/p.jsonl", lines)


GOOD = json.dumps({"policy": "p", "id": "p-0001", "start": 0, "end": 13, "text": "We keep logs.", "labels": ["DR"]})


@case("annotations")
def a_gold_line_nested_too_deep(c):
    gold = _gold(c, ("[" * 50_000 + "]" * 50_000 + "\n").encode())
    return ["annotations", "check", str(gold)], Fails(gold, "invalid JSON (nested too deeply)", 1)


@case("annotations")
def a_latin_1_gold_file(c):
    gold = _gold(c, b'{"x": 1}\n{"note": "\xe9"}\n')
    return ["annotations", "check", str(gold)], Fails(gold, "not UTF-8 text", 2)


@case("annotations")
def a_source_text_that_is_not_utf_8(c):
    gold = _gold(c, GOOD.replace('"DR"', '"Data Retention"').encode() + b"\n", source=b"We keep l\xf6gs.\n")
    return ["annotations", "check", str(gold)], Fails(gold, "is not UTF-8; offsets not checked")


@case("annotations")
def stats_over_a_folder_with_a_broken_file(c):
    gold = _gold(c, b'{"policy": "p", "id": \n')
    return ["annotations", "stats", str(c.tmp / "gold")], Fails(gold, "invalid JSON", 1)


@case("annotations")
def apply_a_sheet_that_is_not_there(c):
    sheet = c.tmp / "sheet.tsv"
    return ["annotations", "apply", str(sheet), "--root", str(c.tmp / "gold")], Fails(sheet, "file not found")


@case("annotations")
def apply_a_sheet_saved_as_latin_1(c):
    sheet = c.write("sheet.tsv", "p-0001\tDR\t\tnot\xe9\n".encode("latin-1"))
    return ["annotations", "apply", str(sheet), "--root", str(c.tmp / "gold")], Fails(sheet, "not UTF-8 text", 1)


@case("annotations")
def agreement_without_sheets(c):
    (c.tmp / "empty").mkdir()
    return ["annotations", "agreement", str(c.tmp / "empty")], Fails(c.tmp / "empty" / "first-pass.tsv", "not found")


@case("annotations")
def read_a_policy_that_is_not_there(c):
    argv = ["annotations", "read", "no-such-policy", "--root", str(c.tmp)]
    return argv, Fails(c.tmp / "policies" / "no-such-policy.txt", "no such policy text")


# --------------------------------------------------------------------------- the runner


def _snapshot(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.mark.parametrize("name", list(CASES))
def test_hostile_input(name, tmp_path, tfidf_dir, tiny_data):
    shutil.copytree(tiny_data, tmp_path / "data")
    ctx = Ctx(tmp_path, tfidf_dir, tmp_path / "data")
    argv, expect = CASES[name](ctx)
    before = _snapshot(tmp_path)
    if isinstance(expect, Works) and expect.replaces:
        before = {k: v for k, v in before.items() if not k.startswith(expect.replaces + "/")}
    model_before = _snapshot(tfidf_dir)
    result = runner.invoke(app, argv, input=ctx.stdin)
    after = _snapshot(tmp_path)
    assert "Traceback" not in result.output and (result.exception is None or isinstance(result.exception, SystemExit))
    assert {k: v for k, v in after.items() if k in before} == before, "an existing file was changed or removed"
    assert _snapshot(tfidf_dir) == model_before
    errors = [line for line in result.stderr.splitlines() if line.strip()]
    if isinstance(expect, Fails):
        assert result.exit_code != 0, result.output
        assert len(errors) == 1, result.stderr
        where = f"{expect.where}:{expect.line}: " if expect.line else str(expect.where)
        assert where in result.output and expect.message in result.output, result.output
        assert after.keys() == before.keys(), f"written: {sorted(after.keys() - before.keys())}"
    else:
        assert result.exit_code == 0, result.output
        expect.check(result, tmp_path)
        if expect.notice:
            assert any(expect.notice in line for line in errors), result.stderr


def test_there_are_at_least_40_cases_across_every_command():
    commands = {name.split(":")[0] for name in CASES}
    assert len(CASES) >= 40 and commands == {"predict", "train", "config", "evaluate", "import", "annotations"}


# --------------------------------------------------------------------------- properties

PROPERTY = settings(max_examples=150, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
_pieces = st.sampled_from(
    [
        " ",
        "  ",
        "\n",
        "\n\n",
        "   \n",
        "\r\n",
        "\t",
        ". ",
        "; ",
        ", ",
        ": ",
        "! ",
        "? ",
        " | ",
        "• ",
        "1. ",
        "(a) ",
        "Art. 6",
        "e.g. ",
        "Sp. z o.o.",
        "ul. ",
        "https://x.org/a.b ",
        '." ',
        "...",
        "\u2028",
        "\xa0",
        "\u3000",
    ]
)
_words = st.text(alphabet="abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789éß-'", min_size=1, max_size=12)
_long_words = st.text(alphabet="abcxyz", min_size=200, max_size=1500)  # tokens longer than a window's half
texts = st.lists(st.one_of(_words, _words, _words, _pieces, _long_words), max_size=400).map("".join)


@PROPERTY
@given(texts)
def test_units_are_ordered_disjoint_bounded_and_cover_every_visible_character(text):
    units = split_units(text)
    previous = 0
    for unit in units:
        assert previous <= unit.start < unit.end <= len(text)
        assert not text[previous : unit.start].strip(), "text between units was dropped"
        assert unit.text == collapse(text[unit.start : unit.end]) and unit.text
        assert len(unit.text) <= MAX_UNIT_CHARS
        assert not text[unit.start].isspace() and not text[unit.end - 1].isspace()
        previous = unit.end
    assert not text[previous:].strip()
    assert "".join("".join(text[u.start : u.end].split()) for u in units) == "".join(text.split())


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=12,
)
records = st.lists(st.dictionaries(st.text(max_size=10), json_values, max_size=5), max_size=20)


@PROPERTY
@given(items=records, newline=st.sampled_from(["\n", "\r\n"]), bom=st.booleans())
def test_jsonl_round_trips_any_records_with_their_line_numbers(items, newline, bom, tmp_path_factory):
    path = tmp_path_factory.mktemp("jsonl") / "r.jsonl"
    write_jsonl(path, items)
    raw = path.read_text(encoding="utf-8").replace("\n", newline)
    path.write_bytes(("\ufeff" if bom else "").encode() + raw.encode("utf-8"))
    assert [r for _, r in read_jsonl(path)] == items
    assert [n for n, _ in read_jsonl(path)] == list(range(1, len(items) + 1))


@PROPERTY
@given(
    st.lists(
        st.text(max_size=40) | st.sampled_from(["{", "[" * 3000, '{"a": 1}', "{}", "null", "1" * 4400]), max_size=8
    )
)
def test_jsonl_reader_fails_only_with_a_located_data_error(lines):
    try:
        for number, value in parse_lines(lines, "x.jsonl"):
            assert isinstance(value, dict) and 1 <= number <= len(lines)
    except DataError as exc:
        assert exc.path == "x.jsonl" and 1 <= exc.line <= len(lines)
