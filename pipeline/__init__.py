"""ofsted-letters: Ofsted children's services rating letters into a documented dataset."""

__version__ = "0.1.0"
# Bumped whenever extraction changes, so cached results of older extractors are redone.
EXTRACTOR_VERSION = "6"
