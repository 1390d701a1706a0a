"""clf: label privacy-policy sentences with the 12 OPP-115 categories."""

__version__ = "0.1.0"

# Bumped when the layout of a saved model folder changes; older clf refuses newer folders.
MODEL_FORMAT_VERSION = 1
