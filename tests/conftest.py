"""Shared fixtures: a tiny hand-written labelled corpus and a TF-IDF model trained on it once."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from clf.config import load_config

ROOT = Path(__file__).resolve().parent.parent

# Three fictional policies, hand-labelled, small enough to train on in well under a second.
TINY = {
    "alpha": [
        ("We collect your name and e-mail address when you register.", ["First Party Collection/Use"]),
        ("We use your purchase history to recommend products.", ["First Party Collection/Use"]),
        ("We share your address with the courier that delivers your order.", ["Third Party Sharing/Collection"]),
        ("Our advertising partners may set their own cookies.", ["Third Party Sharing/Collection"]),
        ("You can unsubscribe from marketing e-mails at any time.", ["User Choice/Control"]),
        ("You may delete your account from the settings page.", ["User Access, Edit and Deletion"]),
        ("Server logs are deleted after 30 days.", ["Data Retention"]),
        ("All traffic is encrypted with TLS.", ["Data Security"]),
        ("We may change this policy and will post the new version here.", ["Policy Change"]),
        ("Privacy Policy", ["Introductory/Generic"]),
        ("E-mail privacy@alpha.example with any questions.", ["Privacy contact information"]),
        ("Our service is not directed to children under 13.", ["International and Specific Audiences"]),
    ],
    "beta": [
        ("We receive your profile from the social network you log in with.", ["First Party Collection/Use"]),
        ("We record your IP address and browser type.", ["First Party Collection/Use"]),
        ("We disclose information to law enforcement when required by law.", ["Third Party Sharing/Collection"]),
        ("We never sell your personal data to advertisers.", ["Third Party Sharing/Collection"]),
        ("You can opt out of analytics cookies in your browser.", ["User Choice/Control"]),
        ("You can download a copy of your data from your account.", ["User Access, Edit and Deletion"]),
        ("We keep invoices for seven years.", ["Data Retention"]),
        ("Only authorised staff can access customer records.", ["Data Security"]),
        ("We will notify you by e-mail of material changes to this policy.", ["Policy Change"]),
        ("We do not respond to Do Not Track signals.", ["Do Not Track"]),
        ("This policy describes how we handle your information.", ["Introductory/Generic"]),
        ("We are not responsible for the privacy practices of linked sites.", ["Practice not covered"]),
    ],
    "gamma": [
        ("We collect location data when you enable the map feature.", ["First Party Collection/Use"]),
        ("We use your e-mail address to send receipts.", ["First Party Collection/Use"]),
        ("Our payment processor receives your card details.", ["Third Party Sharing/Collection"]),
        ("We share data with our affiliates for billing.", ["Third Party Sharing/Collection"]),
        ("You may withdraw your consent at any time in the settings.", ["User Choice/Control"]),
        ("You can correct inaccurate information in your profile.", ["User Access, Edit and Deletion"]),
        ("We retain your data while your account is open.", ["Data Retention"]),
        ("No method of transmission over the internet is completely secure.", ["Data Security"]),
        (
            "Residents of the European Union may lodge a complaint with a supervisory authority.",
            ["International and Specific Audiences"],
        ),
        ("Contents", ["Introductory/Generic"]),
        ("Write to our data protection officer at 1 Main Street, Springfield.", ["Privacy contact information"]),
        (
            "We use cookies to remember your preferences and share statistics with our analytics provider.",
            ["First Party Collection/Use", "Third Party Sharing/Collection"],
        ),
    ],
}


def write_tiny(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for policy, rows in TINY.items():
        with (folder / f"{policy}.jsonl").open("w", encoding="utf-8") as handle:
            for i, (text, labels) in enumerate(rows, 1):
                record = {"policy": policy, "id": f"{policy}-{i:04d}", "text": text, "labels": labels}
                handle.write(json.dumps(record) + "\n")
    return folder


@pytest.fixture(scope="session")
def tiny_data(tmp_path_factory) -> Path:
    return write_tiny(tmp_path_factory.mktemp("data"))


TINY_OVERRIDES = ["search={}", "thresholds.inner_folds=2", "params.max_features=5000"]


@pytest.fixture(scope="session")
def tiny_config():
    return load_config("tfidf", overrides=TINY_OVERRIDES)


@pytest.fixture(scope="session")
def tfidf_dir(tmp_path_factory, tiny_data, tiny_config) -> Path:
    from clf.train import train

    out = tmp_path_factory.mktemp("models") / "tfidf"
    train(tiny_config, tiny_data, out)
    return out


# A few optimizer steps: enough to move the weights away from the pretrained ones, cheap on CPU.
TRANSFORMER_OVERRIDES = [
    "search={}",
    "thresholds.inner_folds=2",
    "params.epochs=2",
    "params.batch_size=8",
    "params.lr=1.0e-4",
    "params.head_lr=5.0e-3",
]


@pytest.fixture(scope="session")
def transformer_trained(tmp_path_factory, tiny_data):
    """A transformer trained on the tiny corpus (about half a minute): (in-memory predictor, model folder, events)."""
    import os

    from clf.card import model_card
    from clf.data import load_dataset
    from clf.train import fit_predictor

    os.environ.setdefault("HF_HUB_OFFLINE", "1")  # the base model is read from its package folder, never the hub
    config = load_config("transformer", overrides=TRANSFORMER_OVERRIDES)
    events: list[dict] = []
    predictor = fit_predictor(config, load_dataset(tiny_data), progress=events.append)
    out = tmp_path_factory.mktemp("models") / "transformer"
    predictor.save(out, model_card(predictor))
    return predictor, out, events
