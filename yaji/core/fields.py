"""Model fields that keep personal data encrypted at rest (see :mod:`yaji.core.encryption`)."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import FieldError
from django.db import models

from yaji.core.encryption import decrypt_str, encrypt_str


class EncryptedTextField(models.TextField):
    """A text column stored as AES-256-GCM ciphertext; Python code sees the plaintext.

    * every save encrypts with the active key, so re-saving a row rotates its key;
    * ``None`` stays NULL and ``""`` stays empty (an erased value carries nothing to hide);
    * the associated data defaults to ``app_label.model.field`` so ciphertext cannot be
      moved between columns; pass ``associated_data=`` to pin it before renaming a model;
    * only ``isnull`` lookups are allowed: ciphertext is randomised, so equality can never
      match — search a blind index (:func:`yaji.core.encryption.blind_index`) instead.
    """

    description = "Encrypted text"

    def __init__(self, *args: Any, associated_data: str | None = None, **kwargs: Any) -> None:
        self.associated_data = associated_data
        super().__init__(*args, **kwargs)

    def deconstruct(self):  # type: ignore[no-untyped-def]
        name, path, args, kwargs = super().deconstruct()
        if self.associated_data is not None:
            kwargs["associated_data"] = self.associated_data
        return name, path, args, kwargs

    def _aad(self) -> str:
        if self.associated_data is not None:
            return self.associated_data
        return f"{self.model._meta.app_label}.{self.model._meta.model_name}.{self.name}"

    def from_db_value(self, value: Any, expression: Any, connection: Any) -> str | None:
        if value is None or value == "":
            return value
        return decrypt_str(value, associated_data=self._aad())

    def to_python(self, value: Any) -> str | None:
        if value is None or isinstance(value, str):
            return value
        return str(value)

    def get_prep_value(self, value: Any) -> str | None:
        value = super().get_prep_value(value)
        if value is None or value == "":
            return value
        return encrypt_str(str(value), associated_data=self._aad())

    def get_lookup(self, lookup_name: str):  # type: ignore[no-untyped-def]
        if lookup_name != "isnull":
            raise FieldError(
                f"{self.name} is encrypted; '{lookup_name}' lookups cannot match ciphertext. "
                "Query its blind index instead."
            )
        return super().get_lookup(lookup_name)
