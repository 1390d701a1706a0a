"""Make docs/report.png: the example policy's report in headless Chromium, by the browser test's code path.

    HF_HUB_OFFLINE=1 .venv/bin/python docs/make_screenshot.py --model models/transformer

The page is built as `clf report` builds it and photographed by `tests.browser.tour` (the function
tests/test_report_browser.py checks): a category filter pressed, one unit focused with its probabilities.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from clf.documents import read_file  # noqa: E402
from clf.labels import CODE_OF, CODES  # noqa: E402
from clf.predict import predict_document  # noqa: E402
from clf.predictor import Predictor  # noqa: E402
from clf.views.report import policy_report, render_report  # noqa: E402
from tests import browser  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, default=ROOT / "models" / "transformer")
    parser.add_argument("--code", default="TP", choices=list(CODES), help="the category filter to press")
    parser.add_argument("--policy", type=Path, default=ROOT / "examples" / "northwind-notes.md")
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "report.png")
    args = parser.parse_args()
    predictor = Predictor.load(args.model)
    doc = read_file(args.policy.relative_to(ROOT) if args.policy.is_relative_to(ROOT) else args.policy)
    model = args.model.relative_to(ROOT) if args.model.is_relative_to(ROOT) else args.model
    report = policy_report(doc, predict_document(predictor, doc), predictor, model)
    chosen = [u for u in report["units"] if u["heading"] is None and args.code in map(CODE_OF.get, u["labels"])]
    if not chosen:
        raise SystemExit(f"no unit of {args.policy} is labelled {args.code}")
    label = next(label for label in report["summary"] if label["code"] == args.code)["label"]
    unit = max(chosen, key=lambda u: u["scores"][label])  # the category's most confident unit
    with tempfile.TemporaryDirectory() as tmp:
        page = Path(tmp) / f"{doc.name}.html"
        page.write_text(render_report(report), encoding="utf-8")
        with browser.chromium(1280, 1000) as driver:
            seen = browser.tour(driver, page, args.code, f"u{unit['n']}", args.out)
    shown = f"{len(seen['visible_after'])} of {len(seen['visible_before'])} units shown"
    print(f"wrote {args.out}: {args.code} filter, {shown}, u{unit['n']} focused")


if __name__ == "__main__":
    main()
