"""``yaji copyright-measure``: the near-duplicate distances behind the threshold (ADR 0023)."""

from __future__ import annotations

from django.core.management.base import BaseCommand

from yaji.copyright.measurements import measure, rates, summary
from yaji.copyright.perceptual import NEAR_DUPLICATE_MAX_DISTANCE


class Command(BaseCommand):
    help = "Measure perceptual-hash distances of edited copies and unrelated images."

    def add_arguments(self, parser) -> None:  # type: ignore[no-untyped-def]
        parser.add_argument("--originals", type=int, default=16)

    def handle(self, *args, originals: int, **options) -> None:  # type: ignore[no-untyped-def]
        pairs = measure(originals)
        self.stdout.write(
            "| variant | pairs | dHash min/median/max | pHash min/median/max | combined min/median/max |"
        )
        self.stdout.write("|---|---|---|---|---|")
        for variant, kinds in summary(pairs).items():
            count = sum(p.variant == variant for p in pairs)
            cells = " | ".join(
                "/".join(str(v) for v in kinds[k]) for k in ("dhash", "phash", "combined")
            )
            self.stdout.write(f"| {variant} | {count} | {cells} |")
        for threshold in (24, 28, 32, NEAR_DUPLICATE_MAX_DISTANCE, 40, 44):
            caught, flagged = rates(pairs, "combined", threshold)
            mark = "  ← chosen" if threshold == NEAR_DUPLICATE_MAX_DISTANCE else ""
            self.stdout.write(
                f"combined ≤ {threshold}: copies caught {caught:.1%}, unrelated flagged {flagged:.1%}{mark}"
            )
