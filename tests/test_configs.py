"""The shipped configs agree with each other where the README's tables rely on it."""

from clf.config import load_config


def test_the_ensembles_members_are_the_standalone_configs():
    """The transformer's reported numbers are the ensemble run's transformer member: same params, same protocol."""
    ensemble = load_config("ensemble")
    members = {m["model"]: m["params"] for m in ensemble.params["members"]}
    transformer, tfidf = load_config("transformer"), load_config("tfidf")
    assert members["transformer"] == transformer.params
    assert members["tfidf"] == tfidf.params  # the search grid of configs/tfidf.yaml is the standalone model's own
    assert ensemble.thresholds == transformer.thresholds and ensemble.evaluation == transformer.evaluation
    assert ensemble.params["weights"] == "auto" and not ensemble.search
