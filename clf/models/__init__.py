"""Classifiers behind one interface (`base.Classifier`), looked up by name in `registry`."""
