"""Rows the ``request-path`` bench reads and writes (ADR 0036): the smallest possible database
work, so what the scenario measures is the request path around it."""

from __future__ import annotations

from django.db import models


class Probe(models.Model):
    label = models.CharField(max_length=64)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return self.label
