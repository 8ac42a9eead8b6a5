"""Risk control API: the step-up a ``step_up_required`` answer asks for."""

from __future__ import annotations

from django.http import HttpRequest
from ninja import Router
from ninja.responses import codes_4xx

from yaji.accounts.auth import api_auth
from yaji.risk.schemas import ErrorOut, FaceIn, FaceOut
from yaji.risk.services import STEP_UP_VALID, risk_step_up_face

router = Router(tags=["risk control"], auth=api_auth)


@router.post(
    "/risk/step-up/face",
    response={200: FaceOut, codes_4xx: ErrorOut},
    summary="Face verification after step_up_required; then retry with a new Idempotency-Key",
)
def step_up_face(request: HttpRequest, payload: FaceIn):  # type: ignore[no-untyped-def]
    risk_step_up_face(
        user=request.auth,  # type: ignore[attr-defined]
        liveness_token=payload.liveness_token[:200],
        ip=request.META.get("REMOTE_ADDR") or None,
    )
    return {"verified": True, "valid_minutes": int(STEP_UP_VALID.total_seconds() // 60)}
