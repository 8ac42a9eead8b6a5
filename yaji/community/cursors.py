"""Opaque keyset cursors for the feeds: "continue after row id N", base64 so clients don't
build them by hand. A broken cursor is a 422 ``invalid_cursor``, never a 500."""

from __future__ import annotations

import base64
import binascii

from yaji.community.errors import InvalidCursor

MAX_ID = 2**63 - 1


def cursor_encode(last_id: int) -> str:
    return base64.urlsafe_b64encode(f"c{last_id}".encode()).decode().rstrip("=")


def cursor_decode(cursor: str | None) -> int | None:
    if not cursor:
        return None
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        if not raw.startswith("c") or not raw[1:].isdigit():
            raise ValueError(raw)
        last_id = int(raw[1:])
        if not 0 < last_id <= MAX_ID:
            raise ValueError(raw)
        return last_id
    except (binascii.Error, UnicodeDecodeError, ValueError) as exc:
        raise InvalidCursor(extra={"cursor": cursor[:100]}) from exc
