"""Evaluation metrics: FID/KID, precision/recall, density/coverage, classifier score, Parzen window,
mode counting and memorisation checks, computed on features of per-dataset classifiers."""
