"""``yaji moderation-bench``: how fast the text matcher builds and scans, without the database.

Builds a :class:`TextMatcher` over ``--words`` synthetic Chinese and English rules and screens a
``--chars``-character text with a few planted hits, reporting one JSON object: build time,
normalise time, scan time and throughput. The normaliser is measured apart because it is pure
Python (regexes) while the scan is the C automaton.
"""

from __future__ import annotations

import json
import random
import time
from typing import Any

from django.core.management.base import BaseCommand

from yaji.moderation.matcher import TextMatcher
from yaji.moderation.normalize import normalize_text

HAN = "的一是在不了有和人这中大为上个国我以要他时来用们生到作地于出就分对成会可主发年动同工也能下过子说产种面而方后多定行学法所民得经十三之进着等部度家电力里如水化高自二理起小物现实加量都两体制机当使点从业本去把性好应开它合还因由其些然前外天政四日那社义事平形相全表间样与关各重新线内数正心反你明看原又么利比或但质气第向道命此变条只没结解问意建月公无系军很情者最立代想已通并提直题党程展五果料象员革位入常文总次品式活设及管特件长求老头基资边流路级少图山统接知较将组见计别她手角期根论运农指几九区强放决西被干做必战先回则任取据处队南给色光门即保治北造百规热领七海口东导器压志世金增争济阶油思术极交受联什认六共权收证改清己美再采转更单风切打白教速花带安场身车例真务具万每目至达走积示议声报斗完类八离华名确才科张信马节话米整空元况今集温传土许步群广石记需段研界拉林律叫且究观越织装影算低持音众书布复容儿须际商非验连断深难近矿千周委素技备半办青省列习响约支般史感劳便团往酸历市克何除消构府称太准精值号率族维划选标写存候毛亲快效斯院查江型眼王按格养易置派层片始却专状育厂京识适属圆包火住调满县局照参红细引听该铁价严"


def _word(rng: random.Random, i: int, alphabet: str) -> tuple[str, str, str]:
    if i % 5 == 0:
        letters = "".join(
            rng.choice("abcdefghijklmnopqrstuvwxyz") for _ in range(rng.randint(5, 9))
        )
        return letters, "other", "hold"
    return "".join(rng.choice(alphabet) for _ in range(rng.randint(2, 5))), "other", "hold"


# Rules drawn from the whole CJK block hit random prose rarely (like real lists); --dense draws
# them from the same 500 common characters as the text, a worst case with a hit every ~75
# characters.
ALL_HAN = "".join(chr(c) for c in range(0x4E00, 0x9FA6))


class Command(BaseCommand):
    help = "Measure the moderation text matcher (build + scan) on synthetic words and text."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--words", type=int, default=20_000)
        parser.add_argument("--chars", type=int, default=1_000_000)
        parser.add_argument("--repeat", type=int, default=5)
        parser.add_argument("--seed", type=int, default=7)
        parser.add_argument("--dense", action="store_true", help="rules from common characters")

    def handle(self, *args: Any, **options: Any) -> None:
        rng = random.Random(options["seed"])
        alphabet = HAN if options["dense"] else ALL_HAN
        words = [_word(rng, i, alphabet) for i in range(options["words"])]
        started = time.perf_counter()
        matcher = TextMatcher(words)
        build_s = time.perf_counter() - started

        # Mostly Chinese prose with spaces, punctuation and some English, plus planted hits.
        pieces: list[str] = []
        length = 0
        while length < options["chars"]:
            piece = "".join(rng.choice(HAN) for _ in range(rng.randint(4, 20)))
            piece += rng.choice(["，", "。", " ", "! ", " and more ", "、"])
            pieces.append(piece)
            length += len(piece)
        planted = [w for w, _, _ in words[:: max(1, len(words) // 10)]]
        for word in planted:
            pieces.insert(rng.randrange(len(pieces)), " ".join(word) + "。")  # spaced evasion
        text = "".join(pieces)

        normalize_s, scan_s, hits = [], [], 0
        for _ in range(options["repeat"]):
            started = time.perf_counter()
            normalized = normalize_text(text)
            normalize_s.append(time.perf_counter() - started)
            started = time.perf_counter()
            hits = len(matcher.find_normalized(normalized))
            scan_s.append(time.perf_counter() - started)
        found = {h.word for h in matcher.find_normalized(normalize_text(text))}
        best_norm, best_scan = min(normalize_s), min(scan_s)
        result = {
            "dense": options["dense"],
            "words": matcher.size,
            "chars": len(text),
            "build_ms": round(build_s * 1000, 1),
            "normalize_ms": round(best_norm * 1000, 1),
            "scan_ms": round(best_scan * 1000, 1),
            "total_ms": round((best_norm + best_scan) * 1000, 1),
            "mchars_per_s": round(len(text) / (best_norm + best_scan) / 1e6, 2),
            "scan_only_mchars_per_s": round(len(text) / best_scan / 1e6, 1),
            "hits": hits,
            "planted_found": sum(1 for w in planted if normalize_text(w) in found),
            "planted": len(planted),
        }
        self.stdout.write(json.dumps(result))
