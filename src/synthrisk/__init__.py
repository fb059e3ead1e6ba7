"""synthrisk: a benchmark of synthetic tabular data generators (fidelity, utility, privacy)."""
__version__ = "0.1.0"
