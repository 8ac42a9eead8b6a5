"""The default word list every new site starts with; operators edit it in the admin.

Deliberately small and specific to a cultural-goods marketplace: gambling (red packets make
it tempting), fraud around payments and red packets, and counterfeit craft goods. Words that
block are unambiguous; words that only hold for review can appear in innocent text.

The seed migration applies it; tests and ``yaji demo-data`` call ``moderation_defaults_seed()``
too, because a transactional test's flush wipes migration-seeded rows.
"""

from __future__ import annotations

from typing import Any

# (word, category, action)
WORDS: tuple[tuple[str, str, str], ...] = (
    # gambling
    ("赌博", "gambling", "block"),
    ("网络赌场", "gambling", "block"),
    ("网上赌场", "gambling", "block"),
    ("博彩平台", "gambling", "block"),
    ("时时彩", "gambling", "block"),
    ("百家乐", "gambling", "hold"),
    ("六合彩", "gambling", "hold"),
    ("红包赌局", "gambling", "block"),
    ("红包接龙", "gambling", "hold"),
    ("online casino", "gambling", "block"),
    # fraud
    ("刷单返利", "fraud", "block"),
    ("刷单兼职", "fraud", "block"),
    ("套现", "fraud", "hold"),
    ("代开发票", "fraud", "block"),
    ("内部渠道", "fraud", "hold"),
    ("稳赚不赔", "fraud", "hold"),
    ("加微信领红包", "fraud", "hold"),
    ("洗钱", "fraud", "block"),
    ("guaranteed profit", "fraud", "hold"),
    ("free money", "fraud", "hold"),
    ("scam", "fraud", "hold"),
    # counterfeit
    ("高仿", "counterfeit", "block"),
    ("a货", "counterfeit", "block"),
    ("精仿", "counterfeit", "block"),
    ("复刻大牌", "counterfeit", "block"),
    ("假冒故宫", "counterfeit", "block"),
    ("原单尾货", "counterfeit", "hold"),
    ("replica", "counterfeit", "hold"),
    ("counterfeit", "counterfeit", "hold"),
)


def moderation_defaults_seed(word_model: Any = None) -> int:
    """Create the missing default words; safe to run any number of times. Returns how many."""
    if word_model is None:
        from yaji.moderation.models import WordRule

        word_model = WordRule
    created = 0
    for word, category, action in WORDS:
        _, was_created = word_model.objects.get_or_create(
            word=word, defaults={"category": category, "action": action}
        )
        created += int(was_created)
    return created
