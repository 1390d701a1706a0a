"""clf.report: figure hygiene (title, axis labels), and the numbers behind the figures on hand-made inputs."""

from __future__ import annotations

import json
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import numpy as np
import pytest

from clf import report
from clf.labels import CODES, INDEX, LABELS

FP, TP, UC, UA, DR, DS, PC, DNT, ISA, IG, PNC, CI = (CODES[c] for c in CODES)

# Three fictional policies for the result-folder fixtures (also used by test_notebooks.py).
TINY_POLICIES: dict[str, list[tuple[str, list[str]]]] = {
    "alpha": [
        ("Alpha Privacy Policy", [IG]),
        ("We collect your name and e-mail address when you register.", [FP]),
        ("We use your purchase history to recommend products.", [FP]),
        ("We share your address with the courier that delivers your order.", [TP]),
        ("Our advertising partners may set their own cookies.", [TP]),
        ("You can unsubscribe from marketing e-mails at any time.", [UC]),
        ("You may delete your account from the settings page.", [UA]),
        ("Server logs are deleted after 30 days.", [DR]),
        ("All traffic is encrypted with TLS.", [DS]),
        ("We may change this policy and will post the new version here.", [PC]),
        ("E-mail privacy@alpha.example with any questions.", [CI]),
        ("Our service is not directed to children under 13.", [ISA]),
        ("• Purchase recordsKept for seven years", [DR, FP]),
    ],
    "beta": [
        ("This policy describes how we handle your information.", [IG]),
        ("We receive your profile from the social network you log in with.", [FP]),
        ("We record your IP address and browser type.", [FP]),
        ("We disclose information to law enforcement when required by law.", [TP]),
        ("We never sell your personal data to advertisers.", [TP]),
        ("You can opt out of analytics cookies in your browser.", [UC]),
        ("You can download a copy of your data from your account.", [UA]),
        ("We keep invoices for seven years.", [DR]),
        ("Only authorised staff can access customer records.", [DS]),
        ("We will notify you by e-mail of material changes to this policy.", [PC]),
        ("We do not respond to Do Not Track signals.", [DNT]),
        ("We are not responsible for the privacy practices of linked sites.", [PNC]),
        ("Residents of the EU may complain to their supervisory authority.", [ISA, UC]),
    ],
    "gamma": [
        ("Gamma Notice", [IG]),
        ("We collect location data when you enable the map feature.", [FP]),
        ("We use your e-mail address to send receipts.", [FP]),
        ("Our payment processor receives your card details.", [TP]),
        ("We share data with our affiliates for billing.", [TP, FP]),
        ("You may withdraw your consent at any time in the settings.", [UC]),
        ("You can correct inaccurate information in your profile.", [UA]),
        ("Backups are erased within 90 days.", [DR]),
        ("We protect stored passwords with strong hashing.", [DS]),
        ("Changes to this policy take effect when posted.", [PC]),
        ("Write to privacy@gamma.example to reach our privacy team.", [CI]),
        ("California residents have additional rights under the CCPA.", [ISA]),
    ],
}


def write_tiny_annotations(root: Path) -> Path:
    """A valid annotations folder: gold files with offsets into policies/*.txt, plus agreement sheets."""
    from clf.labels import CODE_OF

    (root / "policies").mkdir(parents=True)
    (root / "agreement").mkdir()
    first, second = [], []
    for policy, units in TINY_POLICIES.items():
        source, records = "", []
        for k, (text, labels) in enumerate(units, 1):
            start = len(source)
            source += text + "\n\n"
            record = {"policy": policy, "id": f"{policy}-{k:04d}", "start": start, "end": start + len(text)}
            record.update(text=text, labels=labels)
            if k % 5 == 0:
                record.update(flag=True, note="hard: made-up note")
            records.append(record)
            codes = ",".join(CODE_OF[x] for x in labels)
            first.append(f"{record['id']}\t{codes}")
            # the second pass disagrees on every fourth unit
            second.append(f"{record['id']}\t{'IG' if k % 4 == 0 and labels != [IG] else codes}")
        (root / "policies" / f"{policy}.txt").write_text(source, encoding="utf-8")
        (root / f"{policy}.jsonl").write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    (root / "agreement" / "first-pass.tsv").write_text("\n".join(first) + "\n", encoding="utf-8")
    (root / "agreement" / "second-pass-a.tsv").write_text("\n".join(second) + "\n", encoding="utf-8")
    blind = root / "agreement-2" / "blind"  # the new policies' blind pass: same sheets, second folder
    blind.mkdir(parents=True)
    for sheet in ("first-pass.tsv", "second-pass-a.tsv"):
        (blind / sheet).write_text((root / "agreement" / sheet).read_text(encoding="utf-8"), encoding="utf-8")
    return root


def write_tiny_results(annotations: Path, out: Path) -> Path:
    """`clf evaluate`-style folders out/tfidf (with learning curve) and out/other (without one)."""
    from clf import evaluate
    from clf.config import load_config
    from clf.data import load_dataset

    config = load_config("tfidf")
    data = load_dataset(annotations)
    evaluation = evaluate.cross_validate(config, data)
    evaluation.metrics["learning_curve"] = evaluate.learning_curve(config, data, max_subsets=2)
    evaluate.write_report(evaluation, out / "tfidf")
    evaluation.metrics.pop("learning_curve")
    evaluate.write_report(evaluation, out / "other")
    return out


@pytest.fixture(scope="module")
def tiny(tmp_path_factory) -> dict[str, report.Result]:
    root = tmp_path_factory.mktemp("tiny")
    annotations = write_tiny_annotations(root / "annotations")
    return report.load_results(write_tiny_results(annotations, root / "results"))


def _assert_labelled(fig) -> None:
    """The figure has a title, and every visible plot axes has both axis labels."""
    axes = [ax for ax in fig.axes if ax.get_visible() and ax.get_label() != "<colorbar>"]
    assert axes
    assert (fig._suptitle is not None and fig._suptitle.get_text()) or all(ax.get_title() for ax in axes)
    assert any(ax.get_title() for ax in axes) or fig._suptitle.get_text()
    for ax in axes:
        assert ax.get_xlabel(), f"axes {ax.get_title()!r} has no x label"
        assert (
            ax.get_ylabel()
            or ax.get_shared_y_axes().get_siblings(ax)[0].get_ylabel()
            or any(a.get_ylabel() for a in ax.get_shared_y_axes().get_siblings(ax))
        ), f"axes {ax.get_title()!r} has no y label"


def _row(uid, gold, pred, scores=None, seed=0, policy="p", text="We do things."):
    scores = scores or {x: (0.9 if x in pred else 0.1) for x in LABELS}
    full = {x: scores.get(x, 0.0) for x in LABELS}
    return {
        "seed": seed,
        "fold": policy,
        "id": uid,
        "policy": policy,
        "text": text,
        "gold": gold,
        "pred": pred,
        "scores": full,
    }


# --- figure hygiene ----------------------------------------------------------------------------


def test_every_result_figure_is_titled_and_labelled(tiny):
    predictions = tiny["tfidf"].seed_predictions()
    joined = report.join_predictions(tiny)
    figures = [
        report.summary_figure(tiny),
        report.per_label_figure(tiny),
        report.per_policy_figure(tiny, "macro_f1"),
        report.pr_curves_figure(tiny),
        report.reliability_figure(tiny),
        report.learning_curve_figure(tiny),
        report.confusion_figure(predictions, "missed", "tfidf"),
        report.confusion_figure(predictions, "spurious", "tfidf"),
        report.error_tags_figure(joined, list(tiny)),
    ]
    for fig in figures:
        assert type(fig).__name__ == "Figure"
        _assert_labelled(fig)


def test_annotation_figures_are_titled_and_labelled(tmp_path):
    from clf.agreement import kappa_table, load_passes
    from clf.annotations import load_gold, stats

    root = write_tiny_annotations(tmp_path / "annotations")
    gold = load_gold(root)
    st = stats(gold)
    table = kappa_table(*load_passes(root / "agreement"), n_boot=50)
    for fig in (
        report.policy_labels_figure(st),
        report.labels_per_unit_figure(st),
        report.unit_length_figure(gold),
        report.cooccurrence_figure([r["labels"] for g in gold for r in g.records]),
        report.kappa_figure(table),
    ):
        _assert_labelled(fig)
    flagged = report.flagged_markdown(gold, n=3)
    assert flagged.count("\n| ") == 3 and "hard: made-up note" in flagged
    # per-label names readable: full label names on the policy heatmap
    ticks = [t.get_text() for t in report.policy_labels_figure(st).axes[0].get_xticklabels()]
    assert "Data Retention (DR)" in ticks


# --- numbers behind the figures ------------------------------------------------------------------


def test_label_confusion_counts_on_hand_made_predictions():
    rows = [
        _row("a", [DR], [DS]),  # DR missed, DS instead
        _row("b", [DR, FP], [FP]),  # DR missed, nothing wrong predicted
        _row("c", [DR], [DS, UA]),  # DR missed, DS and UA instead
        _row("d", [FP], [FP]),  # correct
        _row("e", [IG], [FP]),  # IG missed, FP instead
    ]
    missed = report.label_confusion(rows, "missed")
    assert missed.shape == (12, 13)
    assert missed[INDEX[DR], INDEX[DS]] == 2
    assert missed[INDEX[DR], INDEX[UA]] == 1
    assert missed[INDEX[DR], -1] == 1
    assert missed[INDEX[IG], INDEX[FP]] == 1
    assert missed.sum() == 5
    spurious = report.label_confusion(rows, "spurious")
    assert spurious[INDEX[DS], INDEX[DR]] == 2 and spurious[INDEX[UA], INDEX[DR]] == 1
    assert spurious[INDEX[FP], INDEX[IG]] == 1 and spurious.sum() == 4
    with pytest.raises(ValueError):
        report.label_confusion(rows, "sideways")


def test_cooccurrence_counts():
    counts = report.cooccurrence([[FP, TP], [FP], [TP, ISA, UC], [IG]])
    assert counts[INDEX[FP], INDEX[TP]] == counts[INDEX[TP], INDEX[FP]] == 1
    assert counts[INDEX[FP], INDEX[FP]] == 2 and counts[INDEX[TP], INDEX[TP]] == 2
    assert counts[INDEX[ISA], INDEX[UC]] == 1 and counts[INDEX[IG], INDEX[FP]] == 0


def test_operating_point_and_pr_curve():
    y = np.array([1, 1, 0, 1, 0, 0])
    s = np.array([0.9, 0.8, 0.7, 0.4, 0.3, 0.1])
    assert report.operating_point(y, s, 0.5) == pytest.approx((2 / 3, 2 / 3))
    assert report.operating_point(y, s, 0.85) == pytest.approx((1 / 3, 1.0))
    assert report.operating_point(y, s, 0.95) == (0.0, 1.0)  # nothing predicted
    recall, precision = report.pr_curve(y, s)
    assert recall.tolist() == pytest.approx([0, 1 / 3, 2 / 3, 2 / 3, 1, 1, 1])
    assert precision.tolist() == pytest.approx([1, 1, 1, 2 / 3, 3 / 4, 3 / 5, 1 / 2])


def test_pr_figure_marks_each_fold_threshold_and_their_mean(tmp_path):
    rows = [
        _row("a", [DR], [DR], {DR: 0.9}, policy="p1"),
        _row("b", [DR], [DR], {DR: 0.6}, policy="p1"),
        _row("c", [FP], [DR], {DR: 0.5}, policy="p2"),
        _row("d", [DR], [FP], {DR: 0.2}, policy="p2"),
    ]
    folds = [
        {"policy": "p1", "thresholds": {x: 0.7 for x in LABELS}},
        {"policy": "p2", "thresholds": {x: 0.3 for x in LABELS}},
    ]
    metrics = {"seeds": [0], "runs": [{"seed": 0, "folds": folds}]}
    result = report.Result("m", tmp_path, metrics, rows)
    fig = report.pr_curves_figure({"m": result}, labels=[DR])
    ax = fig.axes[0]
    markers = {line.get_marker(): [] for line in ax.lines}
    for line in ax.lines:
        markers[line.get_marker()].append(tuple(np.round(line.get_xydata()[0], 6)))
    # fold thresholds 0.7 → (recall 1/3, precision 1); 0.3 → (2/3, 2/3); mean 0.5 → (2/3, 2/3)
    assert sorted(markers["x"]) == [(round(1 / 3, 6), 1.0), (round(2 / 3, 6), round(2 / 3, 6))]
    assert markers["o"] == [(round(2 / 3, 6), round(2 / 3, 6))]
    assert result.thresholds()[DR] == [0.7, 0.3]


def test_calibration_bins_and_ece():
    y = np.array([0, 0, 1, 1, 1])
    p = np.array([0.05, 0.15, 0.15, 0.95, 1.0])
    bins = report.calibration_bins(y, p, bins=10)
    assert [b["count"] for b in bins] == [1, 2, 2]  # 1.0 falls in the last bin, with 0.95
    assert bins[1]["positive_rate"] == 0.5 and bins[1]["mean_score"] == pytest.approx(0.15)
    assert bins[2]["count"] == 2 and bins[2]["positive_rate"] == 1.0
    expected = (1 * 0.05 + 2 * abs(0.5 - 0.15) + 2 * abs(1 - 0.975)) / 5
    assert report.expected_calibration_error(y, p, 10) == pytest.approx(expected)


def test_learning_curve_summary_averages_subsets_then_held_out_policies():
    rows = [
        {"held_out": "a", "n_train_policies": 1, "macro_f1": 0.2},
        {"held_out": "a", "n_train_policies": 1, "macro_f1": 0.4},  # a@1 = 0.3
        {"held_out": "b", "n_train_policies": 1, "macro_f1": 0.5},  # b@1 = 0.5
        {"held_out": "a", "n_train_policies": 2, "macro_f1": 0.6},
        {"held_out": "b", "n_train_policies": 2, "macro_f1": 0.8},
    ]
    summary = report.learning_curve_summary(rows)
    assert list(summary) == [1, 2]
    assert summary[1]["mean"] == pytest.approx(0.4) and summary[1]["n"] == 2
    assert summary[1]["std"] == pytest.approx(np.std([0.3, 0.5], ddof=1))
    assert summary[2]["mean"] == pytest.approx(0.7)


def test_learning_curve_present_and_absent(tiny):
    table = report.learning_curve_markdown(tiny)
    assert "| tfidf | 1 |" in table and "| tfidf | all (2) |" in table
    assert "No learning curve in metrics.json for: other" in table
    fig = report.learning_curve_figure(tiny)
    assert any("no learning curve for: other" in t.get_text() for t in fig.axes[0].texts)


def test_a_curves_all_point_is_one_point_when_folds_differ_in_size():
    rows = [
        {"held_out": "f1", "n_train_policies": 1, "macro_f1": 0.2},
        {"held_out": "f1", "n_train_policies": 29, "macro_f1": 0.7},
        {"held_out": "f2", "n_train_policies": 1, "macro_f1": 0.4},
        {"held_out": "f2", "n_train_policies": 28, "macro_f1": 0.5},
    ]
    summary = report.learning_curve_summary(rows)
    assert list(summary) == [1, 28]
    assert summary[28]["all"] and summary[28]["sizes"] == [28, 29] and summary[28]["n"] == 2
    assert abs(summary[28]["mean"] - 0.6) < 1e-9 and abs(summary[1]["mean"] - 0.3) < 1e-9
    # a curve run without 'all' (clf learning-curve --sizes 1,8): its largest size is not called "all"
    partial = [{"held_out": "f1", "n_train_policies": k, "all": False, "macro_f1": 0.5} for k in (1, 8)]
    assert not any(v.get("all") for v in report.learning_curve_summary(partial).values())


def test_error_tags():
    assert report.error_tags("Right to Restrict ProcessingRequest that we limit how we use your data")[0] == "table row"
    assert report.error_tags("Cloud products YES YES NO YES YES")[0] == "table row"
    assert report.error_tags("• Phone: 0303 123 1113")[:1] == ["list fragment"]
    assert "contact detail" in report.error_tags("• Phone: 0303 123 1113")
    assert report.error_tags("6. Security Logging") == ["heading/short line"]
    assert report.error_tags("We do not sell your data.") == ["negation"]
    assert report.error_tags("We describe things here.", [IG], [FP]) == ["fallback"]
    assert report.error_tags("We use DoubleClick cookies to measure ads.") == ["sentence"]


def test_join_and_top_errors(tmp_path):
    a = [
        _row("u1", [DR], [DS], {DR: 0.2, DS: 0.8}),
        _row("u2", [DR], [FP], {DR: 0.05}),
        _row("u3", [FP], [FP, DR], {DR: 0.7}),
    ]
    b = [_row("u1", [DR], [DR], {DR: 0.6}), _row("u3", [FP], [FP], {DR: 0.1}), _row("u1", [DR], [DS], seed=1)]
    results = {
        "a": report.Result("a", tmp_path, {"seeds": [0]}, a),
        "b": report.Result("b", tmp_path, {"seeds": [0, 1]}, b),
    }
    joined = report.join_predictions(results, seed=0)
    assert [u["id"] for u in joined] == ["u1", "u2", "u3"]
    assert joined[0]["pred"] == {"a": [DS], "b": [DR]} and "b" not in joined[1]["pred"]
    fn = report.top_errors(joined, "a", DR, "fn")
    assert [r["id"] for r in fn] == ["u2", "u1"]  # lowest score first
    assert fn[1]["label_scores"] == {"a": 0.2, "b": 0.6}
    fp = report.top_errors(joined, "a", DR, "fp")
    assert [r["id"] for r in fp] == ["u3"]
    table = report.errors_markdown(fn, ["a", "b"])
    assert "| score a | score b |" in table and "0.05 | – |" in table
    counts = report.error_tag_counts(joined, "a")
    assert sum(c["units"] for c in counts.values()) == 3 and sum(c["wrong_units"] for c in counts.values()) == 3


def test_load_results_orders_models_and_tolerates_missing_predictions(tmp_path, tiny):
    for name in ("zeta", "transformer", "tfidf"):
        (tmp_path / name).mkdir()
        (tmp_path / name / "metrics.json").write_text(json.dumps(tiny["tfidf"].metrics))
    (tmp_path / "notes").mkdir()  # not a result folder
    results = report.load_results(tmp_path)
    assert list(results) == ["tfidf", "transformer", "zeta"]
    assert results["zeta"].predictions == []
    assert list(report.load_results(tmp_path / "zeta")) == ["zeta"]  # a single result folder
    report.pr_curves_figure(results)  # models without predictions are skipped, not an error
    assert "| zeta |" in report.summary_markdown(results)
    overview = report.results_overview_markdown(results)
    assert "none" in overview


def test_summary_and_headline_tables(tiny):
    summary = report.summary_markdown(tiny)
    macro = tiny["tfidf"].metrics["summary"]["macro_f1"]["mean"]
    assert f"{macro:.3f} ± 0.000" in summary
    headline = report.headline_markdown(tiny)
    assert headline.count("- **") == 2 and "weakest labels" in headline and "learning curve" in headline
    calibration = report.calibration_markdown(tiny)
    assert calibration.count("\n") == 14 and "ECE other" in calibration


def test_existing_markdown_tables_still_work():
    st = {
        "units": 2,
        "per_policy": {"p": {"units": 2, "labels": {x: 1 for x in LABELS}}},
        "labels": {x: 1 for x in LABELS},
        "labels_per_unit": {"1": 2},
        "flagged": [],
    }
    table = report.stats_markdown(st)
    assert "| p | 2 | " + " | ".join(["1"] * 12) + " |" in table
    assert "| **all (1 policies)** | **2** | " in table


def test_an_ensembles_members_stand_in_for_models_not_evaluated_alone(tmp_path):
    for folder, model in (
        ("tfidf", "tfidf"),
        ("ensemble", "ensemble"),
        ("ensemble/parts/tfidf", "tfidf"),
        ("ensemble/parts/transformer", "transformer"),
    ):
        (tmp_path / folder).mkdir(parents=True)
        (tmp_path / folder / "metrics.json").write_text(json.dumps({"model": model, "where": folder}))
    results = report.load_results(tmp_path)
    assert list(results) == ["tfidf", "transformer", "ensemble"]
    assert results["tfidf"].metrics["where"] == "tfidf"  # the model's own run wins over a member's
    assert results["transformer"].metrics["where"] == "ensemble/parts/transformer"
