"""Text normalisation shared by the word rules and the text being screened.

Both sides go through :func:`normalize_text`, so a rule written as "苏 绣" or "ＳＣＡＭ" matches
"苏.绣" or "scam". Steps, in order:

1. NFKC: full-width letters/digits, circled and compatibility forms become plain ones.
2. Case folding (``str.casefold``: "Straße" → "strasse").
3. Traditional → simplified Chinese for a built-in table of common characters
   (:data:`T2S`); no conversion library is installed, so this is a table, not OpenCC.
4. Every run of characters that are not letters or digits (spaces, punctuation, symbols,
   emoji, zero-width characters) next to a CJK character is removed — "赌 博", "赌*博",
   "赌\u200b博" all become "赌博" — and between Latin words it becomes one space.
5. Runs of single Latin letters are joined ("s c a m" → "scam"), the Latin form of the
   same evasion.

Latin rules then match only whole words (see :mod:`yaji.moderation.matcher`), so "scam" does
not fire inside "scampi".
"""

from __future__ import annotations

import re
import unicodedata

_CJK = "\u2e80-\u2fdf\u3040-\u30ff\u3100-\u312f\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff"
_CJK_CHAR = re.compile(f"[{_CJK}]")
# Separators: anything that is not a letter/digit. ``\W`` keeps "_" as a word character, so
# it is listed explicitly.
_SEP = re.compile(r"[\W_]+")
# A space before a CJK character (led by a literal, so the regex engine skips ahead in C). A
# space *after* one is found the same way in the reversed string, instead of a lookbehind
# that would be tried at every position.
_SPACE_BEFORE_CJK = re.compile(f" (?=[{_CJK}])")
# Cheap pre-check: is there any lone letter or digit between spaces at all?
_MAYBE_SINGLE = re.compile(r" [^\W_](?: |$)|^[^\W_] ")

# Full-width ASCII (ＳＣＡＭ, the ，！？ of Chinese typing) and the ideographic space: what NFKC
# changes in almost all Chinese text. Mapping these first (a C regex scan, a callback per run)
# usually leaves nothing for NFKC to do, which is several times faster than running it on
# everything; NFKC still runs when anything else (circled letters, ligatures...) remains.
_FULLWIDTH = re.compile("[\uff01-\uff5e\u3000]+")
_HALFWIDTH = {c: c - 0xFEE0 for c in range(0xFF01, 0xFF5F)} | {0x3000: 0x20}


def _halfwidth(match: re.Match[str]) -> str:
    return match.group(0).translate(_HALFWIDTH)


# Traditional → simplified for common characters (and all the ones in the default word
# lists). Unlisted characters are left as they are.
_T2S_PAIRS = (
    "賭赌 詐诈 騙骗 錢钱 貨货 號号 碼码 門门 網网 線线 買买 賣卖 價价 貸贷 賬账 帳帐 "
    "銀银 貴贵 優优 惠惠 獎奖 發发 財财 輸输 贏赢 場场 莊庄 馬马 彩彩 票票 盤盘 "
    "點点 對对 會会 員员 開开 關关 這这 個个 們们 來来 時时 說说 話话 為为 與与 "
    "後后 裡里 從从 動动 還还 進进 過过 種种 樣样 讓让 給给 見见 長长 頭头 東东 "
    "車车 間间 問问 題题 學学 體体 實实 現现 應应 當当 經经 業业 務务 機机 電电 "
    "視视 聽听 書书 畫画 藝艺 術术 傳传 統统 繡绣 蘇苏 絲丝 綢绸 瓷瓷 紅红 綠绿 "
    "藍蓝 黃黄 寶宝 鑽钻 錶表 鐘钟 師师 專专 廠厂 產产 製制 護护 證证 認认 識识 "
    "驗验 轉转 帶带 陸陆 僞伪 偽伪 冒冒 仿仿 劣劣 質质 牌牌 高高 級级 貼贴 標标 "
    "簽签 戶户 資资 訊讯 號号 區区 縣县 鄉乡 國国 際际 華华 漢汉 語语 詞词 讀读 "
    "寫写 聞闻 親亲 愛爱 歡欢 樂乐 禮礼 節节 紅红 包包 搶抢 領领 額额 現现 金金 "
    "兌兑 換换 賠赔 償偿 刷刷 單单 返返 傭佣 薦荐 導导 審审 隱隐 私私 蟲虫 魚鱼 "
    "鳥鸟 龍龙 鳳凤 雲云 氣气 風风 萬万 億亿 兩两 幾几 無无 邊边 類类 麼么 嗎吗 "
    "淫淫 穢秽 黃黄 賤贱 罵骂 殺杀 槍枪 毒毒 販贩 彈弹 藥药"
)
T2S = {pair[0]: pair[1] for pair in _T2S_PAIRS.split() if pair[0] != pair[1]}
# A regex finds the few traditional characters in C; str.translate with a dict would look up
# every character in Python-level dict calls (≈ 0.8 µs each).
_T2S_RE = re.compile("[" + "".join(sorted(T2S)) + "]")


def _t2s(match: re.Match[str]) -> str:
    return T2S[match.group(0)]


def _lone_head(token: str) -> bool:
    """Does ``token`` start with a lone Latin letter/digit ("s", or "s" glued to CJK: "s中")?"""
    return not _is_cjk(token[0]) and (len(token) == 1 or _is_cjk(token[1]))


def _lone_tail(token: str) -> bool:
    return not _is_cjk(token[-1]) and (len(token) == 1 or _is_cjk(token[-2]))


def _join_single_letters(text: str) -> str:
    """ "s c a m" → "scam", "中s c a m" → "中scam"; "a cat" stays (one lone letter is a word)."""
    tokens = text.split(" ")
    out = [tokens[0]]
    tail = _lone_tail(tokens[0])
    for token in tokens[1:]:
        if tail and _lone_head(token):
            out[-1] += token
        else:
            out.append(token)
        tail = _lone_tail(token)
    return " ".join(out)


def normalize_text(text: str) -> str:
    """The canonical form screened and matched; see the module docstring for the steps."""
    if not text:
        return ""
    if not unicodedata.is_normalized("NFKC", text):
        text = _FULLWIDTH.sub(_halfwidth, text)
        if not unicodedata.is_normalized("NFKC", text):
            text = unicodedata.normalize("NFKC", text)
    folded = _T2S_RE.sub(_t2s, text.casefold())
    spaced = _SEP.sub(" ", folded).strip()
    if " " not in spaced:
        return spaced
    spaced = _SPACE_BEFORE_CJK.sub("", spaced)
    spaced = _SPACE_BEFORE_CJK.sub("", spaced[::-1])[::-1]
    if _MAYBE_SINGLE.search(spaced):
        spaced = _join_single_letters(spaced)
    return spaced


def is_word_char(char: str) -> bool:
    """A letter or digit of a space-separated script: Latin rules need these as boundaries."""
    return char.isalnum() and not _is_cjk(char)


def _is_cjk(char: str) -> bool:
    return _CJK_CHAR.match(char) is not None
