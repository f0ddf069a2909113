"""perfgate: a self-healing performance gate for k6 load tests."""

__version__ = "0.1.0"
