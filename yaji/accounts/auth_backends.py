from __future__ import annotations

from django.contrib.auth.backends import ModelBackend


class IdentifierBackend(ModelBackend):
    """Log in with an e-mail address or a mobile number (filled in by the accounts work)."""
