"""``{% work_red_packets work %}``: the "listen and grab" panel on a work's play page."""

from __future__ import annotations

import uuid

from django import template

from yaji.community.selectors import play_completed
from yaji.core.money import Money, format_money
from yaji.redpackets import selectors
from yaji.redpackets.gifts import gift_catalogue

register = template.Library()


@register.inclusion_tag("redpackets/partials/work_red_packets.html", takes_context=True)
def work_red_packets(context: template.Context, work) -> dict:  # type: ignore[no-untyped-def]
    request = context.get("request")
    user = getattr(request, "user", None)
    authenticated = bool(user is not None and user.is_authenticated)
    packets = list(selectors.red_packets_for_work(work_id=work.pk, user=user))
    mine = selectors.claimed_ids(user, packets)
    return {
        "work": work,
        "user": user,
        "csrf_token": context.get("csrf_token"),
        "listened": authenticated and play_completed(user=user, work=work),
        "packets": [
            (p, format_money(Money(p.total_fen, p.currency)), p.pk in mine) for p in packets
        ],
        "nonce": uuid.uuid4().hex,
        "gifts": [(g, format_money(Money(g.price_fen, "CNY"))) for g in gift_catalogue()],
    }
