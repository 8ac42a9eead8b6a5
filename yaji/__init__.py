"""Yaji 雅集 — a platform for a cultural-creative marketplace and community."""

__version__ = "0.1.0"
