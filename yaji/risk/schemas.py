from __future__ import annotations

from ninja import Schema


class ErrorOut(Schema):
    code: str
    message: str
    extra: dict


class FaceIn(Schema):
    liveness_token: str


class FaceOut(Schema):
    verified: bool
    valid_minutes: int
