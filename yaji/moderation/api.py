"""The moderation API: reports and appeals (any signed-in user), the review queue and
decisions (reviewers and operators; others get 403 ``permission_denied``).

Thin: each endpoint validates its input (schemas), calls one service or selector, renders.
"""

from __future__ import annotations

from django.http import HttpRequest
from ninja import Path, Query, Router, Status
from ninja.responses import codes_4xx

from yaji.accounts.auth import api_auth
from yaji.accounts.models import User
from yaji.core.idempotency import idempotent
from yaji.moderation import selectors, services
from yaji.moderation.presenters import item_author_dict, item_review_dict, log_entry_dict
from yaji.moderation.schemas import (
    AppealIn,
    AppealOut,
    DecisionIn,
    ErrorOut,
    ItemDetailOut,
    ItemOut,
    ItemReviewOut,
    QueuePageOut,
    ReportIn,
    ReportOut,
)

router = Router(tags=["moderation"], auth=api_auth)

MAX_ID = 2**63 - 1
ERRORS = {codes_4xx: ErrorOut}


def _user(request: HttpRequest) -> User:
    return request.auth  # type: ignore[attr-defined, return-value]


@router.post(
    "/moderation/reports",
    response={201: ReportOut, **ERRORS},
    summary="Report content (once per person); enough reports hold it for review",
)
@idempotent
def report_create(request: HttpRequest, payload: ReportIn):
    report = services.moderation_report(
        reporter=_user(request),
        kind=payload.kind,
        object_id=payload.object_id,
        reason=payload.reason,
    )
    return Status(
        201,
        {
            "id": report.pk,
            "kind": payload.kind,
            "object_id": payload.object_id,
            "created_at": report.created_at,
        },
    )


@router.get(
    "/moderation/items/mine",
    response={200: list[ItemOut], **ERRORS},
    summary="My held and blocked content, newest first",
)
def items_mine(request: HttpRequest, limit: int = Query(50, ge=1, le=100)):
    return [
        item_author_dict(item)
        for item in selectors.moderation_items_mine(author=_user(request), limit=limit)
    ]


@router.post(
    "/moderation/items/{item_id}/appeal",
    response={201: AppealOut, **ERRORS},
    summary="Appeal a block of my own content (once per item)",
)
@idempotent
def appeal_create(
    request: HttpRequest, payload: AppealIn, item_id: int = Path(..., ge=1, le=MAX_ID)
):
    appeal = services.moderation_appeal(
        author=_user(request), item_id=item_id, reason=payload.reason
    )
    return Status(
        201,
        {
            "id": appeal.pk,
            "item_id": item_id,
            "state": appeal.state,
            "created_at": appeal.created_at,
        },
    )


@router.get(
    "/moderation/queue",
    response={200: QueuePageOut, **ERRORS},
    summary="Items waiting for review, nearest SLA deadline first (reviewers)",
)
def queue(
    request: HttpRequest,
    cursor: str | None = Query(None, max_length=120),
    limit: int = Query(50, ge=1, le=100),
    kind: str | None = Query(None, max_length=50),
):
    page = selectors.moderation_queue(
        reviewer=_user(request), cursor=cursor, limit=limit, kind=kind
    )
    return {
        "items": [item_review_dict(entry.item) for entry in page.entries],
        "next_cursor": page.next_cursor,
        "total": page.total,
    }


@router.get(
    "/moderation/items/{item_id}",
    response={200: ItemDetailOut, **ERRORS},
    summary="One item with its moderation log (reviewers)",
)
def item_detail(request: HttpRequest, item_id: int = Path(..., ge=1, le=MAX_ID)):
    reviewer = _user(request)
    item = selectors.moderation_item_for_review(reviewer=reviewer, item_id=item_id)
    log = selectors.moderation_item_log(reviewer=reviewer, item_id=item_id)
    return {**item_review_dict(item), "log": [log_entry_dict(entry) for entry in log]}


@router.post(
    "/moderation/items/{item_id}/decision",
    response={200: ItemReviewOut, **ERRORS},
    summary="Approve (→ visible) or block (reason required) a queued item (reviewers)",
)
@idempotent
def decide(request: HttpRequest, payload: DecisionIn, item_id: int = Path(..., ge=1, le=MAX_ID)):
    item = services.moderation_decide(
        reviewer=_user(request),
        item_id=item_id,
        decision=payload.decision,
        reason=payload.reason,
    )
    return item_review_dict(item)
