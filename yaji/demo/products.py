"""A handful of demo products, one per demo shop: created, illustrated (a Pillow-drawn product
card), submitted through the pre-checks and approved by the demo reviewer, like real ones.
Rerunnable: a shop that already has its demo product (same title) is skipped."""

from __future__ import annotations

import functools
import io
import json
import random
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from PIL import Image, ImageDraw, ImageFilter, ImageFont

from yaji.accounts.models import User
from yaji.accounts.selectors import user_by_identifier
from yaji.catalog import selectors as catalog_selectors
from yaji.catalog import services as catalog
from yaji.catalog.defaults import catalog_defaults_seed
from yaji.catalog.glb import glb_vase
from yaji.catalog.models import Attribute, Category, Product, Shop, Tag, Variant
from yaji.core import clock
from yaji.core.errors import NotFound
from yaji.demo.shops import REVIEWER_EMAIL


@dataclass(frozen=True)
class DemoProduct:
    shop_slug: str
    title_zh: str
    title_en: str
    category: str
    story_zh: str
    story_en: str
    variants: tuple[tuple[str, int, int, dict[str, str]], ...]  # sku, price_fen, stock, options
    colors: tuple[tuple[int, int, int], tuple[int, int, int]]  # background, object
    attributes: tuple[tuple[str, str], ...] = ()
    tags: tuple[str, ...] = ()
    kind: str = "standard"
    extra: dict[str, int] = field(default_factory=dict)
    engraving: int | None = None
    # A 3D model for the viewer and AR: the colour (0–1 RGB) of a turned vase (ADR 0016).
    model_3d_color: tuple[float, float, float] | None = None


DEMO_PRODUCTS: tuple[DemoProduct, ...] = (
    DemoProduct(
        "wanqing-embroidery",
        "双面绣团扇·宋人花鸟",
        "Double-sided embroidered fan: Song birds",
        "heritage-craft",
        "扇面取自宋人《桃花山鸟图》，正反两面同一只山雀，针脚细到看不见。\n\n限量五十柄，每柄附编号证书。",
        "After the Song painting of a bird on a peach branch, stitched identically on both faces."
        "\n\nFifty numbered fans, each with a certificate.",
        (("FAN-SONG", 128000, 50, {"扇柄": "湘妃竹"}),),
        ((236, 226, 208), (168, 50, 45)),
        (("craft", "苏绣"), ("era", "宋代"), ("material", "丝绸")),
        ("宋韵", "团扇"),
        "limited_edition",
        {"edition_size": 50, "per_buyer_limit": 2},
    ),
    DemoProduct(
        "shanhe-cloisonne",
        "景泰蓝掐丝书签",
        "Cloisonné bookmark",
        "stationery",
        "一枚书签也走完掐丝、点蓝、烧蓝、磨光四道主工序。",
        "Even a bookmark goes through wire-shaping, enamelling, firing and polishing.",
        (("BM-BLUE", 16800, 40, {"颜色": "宝石蓝"}), ("BM-GREEN", 16800, 25, {"颜色": "松石绿"})),
        ((222, 232, 240), (30, 80, 150)),
        (("craft", "景泰蓝"),),
        ("书房", "送礼"),
    ),
    DemoProduct(
        "aduo-miao-silver",
        "苗银錾刻手镯（可刻字）",
        "Engraved Miao silver bangle",
        "jewellery",
        "阿朵按你的手围打制，内圈可錾刻四个字。",
        "Forged to your wrist size by Aduo; up to four characters engraved inside.",
        (("BANGLE-56", 68000, 10, {"手围": "56 mm"}), ("BANGLE-60", 72000, 10, {"手围": "60 mm"})),
        ((228, 228, 230), (150, 150, 160)),
        (),
        ("苗银",),
        "made_to_order",
        {"lead_time_days": 21},
        engraving=4,
    ),
    DemoProduct(
        "jiangnan-weaving-museum",
        "千里江山真丝方巾",
        "A Thousand Li silk scarf",
        "museum",
        "馆藏青绿山水局部，印在十六姆米真丝上。",
        "A detail of the blue-green landscape, printed on 16-momme silk.",
        (("SCARF-90", 39800, 60, {"尺寸": "90×90"}),),
        ((214, 232, 222), (40, 120, 110)),
        (("series", "千里江山"), ("material", "丝绸")),
        ("丝巾", "国潮"),
    ),
    DemoProduct(
        "shanhe-cloisonne",
        "景泰蓝缠枝莲梅瓶",
        "Cloisonné meiping vase with lotus scrolls",
        "home",
        "小口、丰肩、瘦底的梅瓶，通体宝石蓝地缠枝莲。高约三十厘米，可在手机上把它摆进你的书房看看大小。",
        "A meiping vase, lotus scrolls on a sapphire ground, about 30 cm tall. On a phone you "
        "can place it in your own room at its real size.",
        (("VASE-30", 268000, 6, {"高度": "30 cm"}),),
        ((226, 232, 242), (28, 70, 150)),
        (("craft", "景泰蓝"),),
        ("书房", "摆件"),
        model_3d_color=(0.11, 0.27, 0.62),
    ),
    DemoProduct(
        "yunwen",
        "云纹茶席布",
        "Cloud-pattern tea mat",
        "tea-incense",
        "祥云纹提花棉麻，铺开就是一方茶席。",
        "Jacquard cotton-linen with auspicious clouds: unroll it and the tea table is set.",
        (("MAT-S", 12800, 80, {"尺寸": "30×120"}),),
        ((240, 234, 222), (120, 90, 60)),
        (),
        ("茶席",),
    ),
)


def product_card_png(background: tuple[int, int, int], ink: tuple[int, int, int]) -> bytes:
    """A product-photo-like card: soft gradient, a shadowed object, a seal."""
    size = 900
    image = Image.new("RGB", (size, size), background)
    draw = ImageDraw.Draw(image)
    for y in range(size):  # a gentle vertical gradient, darker toward the floor
        shade = 1 - 0.18 * (y / size)
        draw.line([(0, y), (size, y)], fill=tuple(int(c * shade) for c in background))
    shadow = Image.new("L", (size, size), 0)
    ImageDraw.Draw(shadow).ellipse((230, 700, 670, 780), fill=120)
    image.paste((40, 30, 20), mask=shadow.filter(ImageFilter.GaussianBlur(24)))
    draw.ellipse((250, 220, 650, 740), fill=ink)
    draw.ellipse((330, 300, 470, 420), fill=tuple(min(255, c + 60) for c in ink))
    draw.rectangle((760, 60, 840, 140), outline=(168, 50, 45), width=8)
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


def _attribute_ids(pairs: tuple[tuple[str, str], ...]) -> list[int]:
    return [
        pk
        for kind, value in pairs
        for pk in Attribute.objects.filter(kind=kind, value_zh=value).values_list("pk", flat=True)
    ]


def products_chapter() -> Iterator[str]:
    catalog_defaults_seed()  # the demo's products sit in the default categories
    reviewer = user_by_identifier(identifier=REVIEWER_EMAIL)
    for spec in DEMO_PRODUCTS:
        try:
            shop = catalog_selectors.shop_get_public(slug=spec.shop_slug)
        except NotFound:
            yield spec.title_zh
            continue
        if reviewer is None or Product.objects.filter(shop=shop, title_zh=spec.title_zh).exists():
            yield spec.title_zh
            continue
        owner = shop.owner
        product = catalog.product_create(
            actor=owner,
            shop=shop,
            kind=spec.kind,
            title_zh=spec.title_zh,
            title_en=spec.title_en,
            story_zh=spec.story_zh,
            story_en=spec.story_en,
            category_slug=spec.category,
            attribute_ids=_attribute_ids(spec.attributes),
            tags=spec.tags,
            **spec.extra,
        )
        for sku, price_fen, stock, options in spec.variants:
            catalog.variant_upsert(
                actor=owner,
                product_id=product.pk,
                sku=sku,
                price_fen=price_fen,
                stock=stock,
                options=options,
            )
        if spec.engraving:
            catalog.customisation_option_add(
                actor=owner,
                product_id=product.pk,
                kind="engraving",
                label_zh="内圈刻字",
                label_en="Inside engraving",
                max_length=spec.engraving,
            )
        catalog.product_image_add(
            actor=owner,
            product_id=product.pk,
            upload=SimpleUploadedFile(
                f"{spec.shop_slug}.png", product_card_png(*spec.colors), content_type="image/png"
            ),
            alt=spec.title_zh,
        )
        if spec.model_3d_color is not None:
            catalog.product_model_3d_set(
                actor=owner,
                product_id=product.pk,
                upload=SimpleUploadedFile(
                    f"{spec.shop_slug}-vase.glb",
                    glb_vase(spec.model_3d_color),
                    content_type="model/gltf-binary",
                ),
            )
        catalog.product_submit(actor=owner, product_id=product.pk)
        catalog.product_review_approve(reviewer=reviewer, product_id=product.pk)
        yield spec.title_zh


# --- the generated catalogue: ~500 products over every category, made by all 42 shops ----------

# key: (zh, en, category, shape, lowest and highest price in yuan, option name zh, option values)
ITEMS: dict[str, tuple[str, str, str, str, int, int, str, tuple[str, ...]]] = {
    "bookmark": ("书签", "bookmark", "stationery", "tall", 38, 168, "款式", ("单枚", "两枚装")),
    "notebook": ("手账本", "notebook", "stationery", "book", 48, 168, "内页", ("空白", "横线")),
    "inkstone": ("砚台", "inkstone", "stationery", "slab", 280, 2800, "尺寸", ("小号", "中号")),
    "brush": ("毛笔", "writing brush", "stationery", "tall", 68, 680, "笔头", ("兼毫", "狼毫")),
    "paperweight": ("镇纸", "paperweight", "stationery", "slab", 88, 680, "材质", ("黄铜", "红木")),
    "seal": ("印章", "seal stamp", "stationery", "seal", 120, 880, "印面", ("2 cm", "3 cm")),
    "scarf": ("丝巾", "silk scarf", "apparel", "square", 198, 980, "尺寸", ("53×53", "90×90")),
    "shawl": ("披肩", "shawl", "apparel", "square", 368, 1680, "尺寸", ("70×180",)),
    "qipao": ("旗袍", "qipao dress", "apparel", "shirt", 880, 4800, "尺码", ("S", "M", "L")),
    "hanfu": ("汉服", "hanfu robe", "apparel", "shirt", 680, 3200, "尺码", ("S", "M", "L")),
    "vase": ("花瓶", "vase", "home", "vase", 268, 3800, "高度", ("20 cm", "30 cm")),
    "cushion": ("抱枕", "cushion", "home", "square", 128, 398, "尺寸", ("45×45",)),
    "lamp": ("台灯", "table lamp", "home", "lamp", 398, 1680, "光色", ("暖光",)),
    "screen": ("屏风", "folding screen", "home", "screen", 2800, 18800, "扇数", ("四扇",)),
    "teapot": ("茶壶", "teapot", "tea-incense", "teapot", 380, 6800, "容量", ("200 ml", "300 ml")),
    "teacup": ("茶杯", "teacup", "tea-incense", "cup", 68, 580, "数量", ("单只", "一对")),
    "teaset": ("茶具套装", "tea set", "tea-incense", "box", 680, 5800, "件数", ("一壶四杯",)),
    "teamat": ("茶席", "tea mat", "tea-incense", "square", 98, 398, "尺寸", ("30×120",)),
    "burner": ("香炉", "incense burner", "tea-incense", "bowl", 198, 1880, "尺寸", ("小号",)),
    "fan": ("团扇", "round fan", "heritage-craft", "fan", 168, 2800, "扇柄", ("湘妃竹", "红木")),
    "embroidery": (
        "绣画",
        "embroidered picture",
        "heritage-craft",
        "frame",
        880,
        12800,
        "尺寸",
        ("30×30",),
    ),
    "papercut": (
        "剪纸",
        "paper-cut",
        "heritage-craft",
        "frame",
        58,
        680,
        "尺寸",
        ("20×20", "40×40"),
    ),
    "puppet": ("皮影", "shadow puppet", "heritage-craft", "puppet", 168, 1280, "尺寸", ("30 cm",)),
    "kite": ("风筝", "kite", "heritage-craft", "kite", 128, 980, "尺寸", ("1 m", "2 m")),
    "magnet": ("冰箱贴", "fridge magnet", "museum", "badge", 28, 88, "款式", ("单个", "三个装")),
    "blocks": ("积木", "building blocks", "museum", "box", 168, 680, "颗粒", ("800 粒",)),
    "badge": ("徽章", "pin badge", "museum", "badge", 38, 128, "款式", ("单枚",)),
    "wallpaper": ("数字壁纸", "digital wallpaper", "digital", "frame", 6, 38, "分辨率", ("4K",)),
    "bangle": ("手镯", "bangle", "jewellery", "ring", 280, 3800, "手围", ("56 mm", "60 mm")),
    "earrings": ("耳环", "earrings", "jewellery", "ring", 128, 1280, "款式", ("耳钩", "耳夹")),
    "necklace": ("项链", "necklace", "jewellery", "ring", 198, 2800, "长度", ("45 cm",)),
    "brooch": ("胸针", "brooch", "jewellery", "badge", 168, 1280, "款式", ("单枚",)),
    "hairpin": ("发簪", "hairpin", "jewellery", "tall", 98, 980, "款式", ("单支",)),
    "bowl": ("碗", "bowl", "ceramics", "bowl", 68, 880, "口径", ("12 cm", "15 cm")),
    "plate": ("盘", "plate", "ceramics", "plate", 88, 1280, "口径", ("20 cm", "26 cm")),
    "jianzhan": ("建盏", "Jian tea bowl", "ceramics", "bowl", 198, 3800, "口径", ("9 cm",)),
    "mug": ("马克杯", "mug", "ceramics", "cup", 58, 168, "容量", ("350 ml",)),
    "postcard": (
        "明信片",
        "postcards",
        "books-prints",
        "frame",
        28,
        88,
        "张数",
        ("八张", "十二张"),
    ),
    "print": (
        "装饰画",
        "art print",
        "books-prints",
        "frame",
        128,
        1280,
        "尺寸",
        ("30×40", "50×70"),
    ),
    "book": ("画册", "art book", "books-prints", "book", 98, 680, "装帧", ("精装",)),
    "calendar": ("日历", "calendar", "books-prints", "book", 68, 198, "年份", ("2027",)),
    "sweatshirt": ("卫衣", "sweatshirt", "guochao", "shirt", 198, 598, "尺码", ("M", "L", "XL")),
    "tshirt": ("T恤", "T-shirt", "guochao", "shirt", 99, 299, "尺码", ("M", "L", "XL")),
    "tote": ("帆布包", "canvas tote bag", "guochao", "bag", 68, 268, "颜色", ("本白", "黑色")),
    "phonecase": (
        "手机壳",
        "phone case",
        "guochao",
        "phone",
        49,
        129,
        "型号",
        ("6.1 英寸", "6.7 英寸"),
    ),
    "lantern": ("灯笼", "lantern", "festival-gifts", "lantern", 88, 880, "尺寸", ("30 cm",)),
    "couplets": (
        "春联",
        "spring couplets",
        "festival-gifts",
        "couplet",
        38,
        268,
        "尺寸",
        ("1.2 m",),
    ),
    "redenvelope": (
        "红包",
        "red envelopes",
        "festival-gifts",
        "envelope",
        18,
        68,
        "数量",
        ("十个装",),
    ),
    "giftbox": ("礼盒", "gift box", "festival-gifts", "box", 198, 980, "规格", ("标准装",)),
}

# key: (zh, en, background RGB, ink RGB, pattern, attributes (kind, value zh))
MOTIFS: dict[
    str,
    tuple[str, str, tuple[int, int, int], tuple[int, int, int], str, tuple[tuple[str, str], ...]],
] = {
    "landscape": (
        "青绿山水",
        "blue-green landscape",
        (214, 232, 222),
        (38, 118, 104),
        "hills",
        (("series", "千里江山"),),
    ),
    "lotus": (
        "缠枝莲",
        "lotus scroll",
        (226, 232, 242),
        (30, 72, 150),
        "scrolls",
        (("era", "明清"),),
    ),
    "cloud": ("祥云", "auspicious cloud", (244, 236, 222), (176, 60, 48), "clouds", ()),
    "crane": ("仙鹤", "crane", (238, 240, 236), (40, 44, 52), "dots", (("era", "宋代"),)),
    "koi": ("锦鲤", "koi", (226, 238, 246), (214, 92, 40), "waves", ()),
    "peony": ("牡丹", "peony", (248, 234, 236), (186, 48, 90), "flowers", (("era", "唐代"),)),
    "plum": ("梅花", "plum blossom", (242, 240, 236), (150, 40, 60), "flowers", (("era", "宋代"),)),
    "bamboo": ("竹影", "bamboo shadow", (230, 238, 222), (60, 110, 60), "stripes", ()),
    "waves": (
        "海水江崖",
        "sea-and-cliff waves",
        (222, 230, 240),
        (24, 60, 120),
        "waves",
        (("era", "明清"),),
    ),
    "dragon": ("龙纹", "dragon", (246, 230, 200), (170, 110, 30), "scrolls", (("era", "明清"),)),
    "apsara": (
        "敦煌飞天",
        "Dunhuang apsara",
        (240, 222, 196),
        (150, 70, 50),
        "clouds",
        (("era", "唐代"),),
    ),
    "songbird": (
        "宋画花鸟",
        "Song bird-and-flower",
        (236, 226, 208),
        (120, 80, 50),
        "flowers",
        (("era", "宋代"),),
    ),
    "beast": (
        "故宫瑞兽",
        "Palace guardian beast",
        (244, 222, 214),
        (160, 36, 36),
        "dots",
        (("era", "明清"), ("museum", "故宫博物院")),
    ),
    "panda": ("熊猫", "panda", (232, 240, 230), (30, 30, 30), "stripes", ()),
    "rabbit": ("玉兔", "jade rabbit", (236, 232, 246), (110, 90, 160), "dots", ()),
    "moon": (
        "月下西湖",
        "West Lake moon",
        (220, 226, 238),
        (60, 70, 110),
        "hills",
        (("region", "江南"),),
    ),
}

# The shops' own crafts: slug → (craft zh for the title, attribute pairs, items they make).
SHOP_CRAFTS: dict[str, tuple[str, tuple[tuple[str, str], ...], tuple[str, ...]]] = {
    "wanqing-embroidery": (
        "苏绣",
        (("craft", "苏绣"), ("region", "江南"), ("material", "丝绸")),
        ("fan", "embroidery", "scarf"),
    ),
    "shanhe-cloisonne": ("景泰蓝", (("craft", "景泰蓝"),), ("bookmark", "vase", "bangle", "plate")),
    "shenmo-design": ("", (), ("teacup", "teaset", "burner", "notebook")),
    "aduo-miao-silver": (
        "苗银",
        (("craft", "苗银"), ("region", "贵州")),
        ("bangle", "earrings", "necklace"),
    ),
    "qingyin-kunqu": ("昆曲", (("region", "江南"),), ("scarf", "fan", "postcard")),
    "jiangnan-weaving-museum": ("云锦", (("region", "江南"),), ("bookmark", "scarf", "notebook")),
    "yunwen": ("", (), ("sweatshirt", "tote", "teamat")),
    "yixing-zisha": ("紫砂", (("craft", "紫砂"), ("region", "江南")), ()),
    "jingdezhen-qinghua": (
        "青花瓷",
        (("craft", "青花瓷"), ("region", "景德镇"), ("material", "陶瓷")),
        (),
    ),
    "longquan-celadon": ("青瓷", (("material", "陶瓷"),), ()),
    "hangzhou-silk": ("真丝", (("material", "丝绸"), ("region", "江南")), ()),
    "suzhou-kesi": ("缂丝", (("craft", "缂丝"), ("region", "江南"), ("material", "丝绸")), ()),
    "miao-batik": ("蜡染", (("craft", "蜡染"), ("region", "贵州")), ()),
    "dali-tie-dye": ("扎染", (("craft", "扎染"), ("region", "云南")), ()),
    "fuzhou-bodiless": ("漆器", (("craft", "漆器"),), ()),
    "xiamen-lacquer": ("漆线雕", (("craft", "漆器"),), ()),
    "foshan-papercut": ("", (("craft", "剪纸"),), ()),
    "bamboo-weaving": ("竹编", (("craft", "竹编"), ("material", "竹木")), ()),
    "screen-workshop": ("木雕", (("material", "竹木"),), ()),
    "yunnan-silver": ("银", (("region", "云南"),), ()),
    "beijing-silver": ("花丝", (), ()),
    "palace-creations": ("故宫", (("museum", "故宫博物院"),), ()),
    "suzhou-museum-shop": ("", (("museum", "苏州博物馆"), ("region", "江南")), ()),
    "dunhuang-colours": ("敦煌", (("era", "唐代"),), ()),
    "xian-tang-studio": ("唐风", (("era", "唐代"),), ()),
}
CATALOGUE_PER_SHOP = 12
CATALOGUE_SEED = 20261201

_STORY_ZH = (
    "{motif}纹样取自传统画稿，由{shop}重新描绘，做成一件日常可用的{item}。",
    "{shop}出品。这件{item}以{motif}为题，{craft}工艺，细节经得起细看。",
    "把{motif}带到身边：{item}的尺寸、手感与颜色都经过反复打样。",
)
_STORY_EN = (
    "The {motif} pattern comes from traditional drawings, redrawn by {shop} as an everyday {item}.",
    "Made by {shop}: a {item} on the theme of {motif}, with details that reward a close look.",
    "Keep the {motif} close: the size, feel and colour of this {item} were sampled many times.",
)


@dataclass(frozen=True)
class CatalogueProduct:
    """One generated demo product and the ground truth the search evaluation labels from."""

    shop_slug: str
    item: str
    motif: str
    title_zh: str
    title_en: str
    story_zh: str
    story_en: str
    category: str
    sku: str
    price_fen: int
    stock: int
    options: tuple[str, tuple[str, ...]]
    attributes: tuple[tuple[str, str], ...]
    tags: tuple[str, ...]
    kind: str
    extra: tuple[tuple[str, int], ...]


def _price(rng: random.Random, low: int, high: int) -> int:
    yuan = rng.randint(low, high)
    step = 10 if yuan < 1000 else 100
    return max(low, (yuan // step) * step + (8 if yuan < 1000 else 0)) * 100


def demo_catalogue() -> list[CatalogueProduct]:
    """The deterministic generated catalogue: ``CATALOGUE_PER_SHOP`` products per shop."""
    # Late import: the shop list lives with the shops chapter.
    from yaji.demo.shops import DEMO_SHOPS, demo_makers

    rng = random.Random(CATALOGUE_SEED)
    shops: list[tuple[str, str, str, tuple[str, ...]]] = []
    for shop in DEMO_SHOPS:
        shops.append((shop.slug, shop.name_zh, shop.name_en, SHOP_CRAFTS[shop.slug][2]))
    for maker in demo_makers():
        shops.append((maker.shop.slug, maker.shop.name_zh, maker.shop.name_en, maker.specialities))
    taken = {spec.title_zh for spec in DEMO_PRODUCTS}
    out: list[CatalogueProduct] = []
    motif_keys = sorted(MOTIFS)
    for shop_no, (slug, shop_zh, shop_en, items) in enumerate(shops):
        craft_zh, craft_attrs, _own = SHOP_CRAFTS.get(slug, ("", (), ()))
        pairs = [(item, motif) for item in items for motif in motif_keys]
        rng.shuffle(pairs)
        made = 0
        for item, motif in pairs:
            if made == CATALOGUE_PER_SHOP:
                break
            item_zh, item_en, category, _shape, low, high, option, values = ITEMS[item]
            motif_zh, motif_en, _bg, _ink, _pattern, motif_attrs = MOTIFS[motif]
            prefix = "" if craft_zh and craft_zh in motif_zh else craft_zh
            title_zh = f"{prefix}{motif_zh}{item_zh}"
            if title_zh in taken:
                continue
            taken.add(title_zh)
            title_en = f"{motif_en[0].upper()}{motif_en[1:]} {item_en}"
            if craft_zh:
                title_en = f"{title_en} ({shop_en})"
            n = rng.randrange(3)
            story_zh = _STORY_ZH[n].format(
                motif=motif_zh, shop=shop_zh, item=item_zh, craft=craft_zh or "手作"
            )
            story_en = _STORY_EN[n].format(motif=motif_en, shop=shop_en, item=item_en)
            attributes = tuple(dict.fromkeys((*craft_attrs, *motif_attrs)))
            kind, extra = "standard", ()
            if item == "wallpaper":
                kind = "digital_download"
            elif category == "heritage-craft" and rng.random() < 0.3:
                kind = "limited_edition"
                extra = (("edition_size", 100), ("per_buyer_limit", 2))
            elif item in ("seal", "bangle") and rng.random() < 0.5:
                kind, extra = "made_to_order", (("lead_time_days", 14),)
            out.append(
                CatalogueProduct(
                    shop_slug=slug,
                    item=item,
                    motif=motif,
                    title_zh=title_zh,
                    title_en=title_en,
                    story_zh=story_zh,
                    story_en=story_en,
                    category=category,
                    sku=f"D{shop_no:02d}{made:02d}",
                    price_fen=_price(rng, low, high),
                    stock=10 if kind == "limited_edition" else rng.randint(5, 200),
                    options=(option, values),
                    attributes=attributes,
                    tags=(motif_zh, item_zh),
                    kind=kind,
                    extra=extra,
                )
            )
            made += 1
    return out


# --- product photos: a drawn object on a coloured ground, with the title ------------------------

CARD_SIDE = 640
_FONT_PATHS = (
    "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
)


@functools.lru_cache(maxsize=4)
def _font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    """A font with Chinese glyphs if the machine has one, else Pillow's own (titles are then
    left off: the default font has no Han glyphs)."""
    for path in _FONT_PATHS:
        if Path(path).exists():
            return ImageFont.truetype(path, size)
    return ImageFont.load_default()


def _has_cjk_font() -> bool:
    return isinstance(_font(30), ImageFont.FreeTypeFont)


def _shade(color: tuple[int, int, int], by: int) -> tuple[int, int, int]:
    return tuple(max(0, min(255, c + by)) for c in color)  # type: ignore[return-value]


def _pattern(
    draw: ImageDraw.ImageDraw,
    box: tuple[int, int, int, int],
    kind: str,
    color: tuple[int, int, int],
) -> None:
    x0, y0, x1, y1 = box
    if kind == "stripes":
        for x in range(x0, x1, 22):
            draw.line([(x, y0), (x, y1)], fill=color, width=5)
    elif kind == "waves":
        for y in range(y0 + 10, y1, 26):
            for x in range(x0, x1, 36):
                draw.arc((x, y, x + 36, y + 24), 180, 360, fill=color, width=4)
    elif kind == "clouds":
        for y in range(y0 + 14, y1, 60):
            for x in range(x0 + ((y // 60) % 2) * 30, x1, 70):
                draw.arc((x, y, x + 30, y + 30), 90, 360, fill=color, width=4)
                draw.arc((x + 22, y + 4, x + 46, y + 28), 180, 90, fill=color, width=4)
    elif kind == "hills":
        for i, y in enumerate(range(y0 + 30, y1, 44)):
            points = [(x0, y1)]
            for x in range(x0, x1 + 1, 40):
                points.append((x, y + (18 if (x // 40 + i) % 2 else -10)))
            points.append((x1, y1))
            draw.line(points[1:-1], fill=color, width=5)
    elif kind == "flowers":
        for y in range(y0 + 20, y1, 54):
            for x in range(x0 + 20 + ((y // 54) % 2) * 26, x1 - 10, 54):
                for dx, dy in ((0, -9), (9, 0), (0, 9), (-9, 0)):
                    draw.ellipse((x + dx - 7, y + dy - 7, x + dx + 7, y + dy + 7), fill=color)
    elif kind == "scrolls":
        for y in range(y0 + 20, y1, 50):
            for x in range(x0 + 10, x1 - 20, 50):
                draw.arc((x, y, x + 40, y + 40), 0, 270, fill=color, width=4)
    else:  # dots
        for y in range(y0 + 12, y1, 28):
            for x in range(x0 + 12 + ((y // 28) % 2) * 14, x1, 28):
                draw.ellipse((x - 4, y - 4, x + 4, y + 4), fill=color)


def _object(image: Image.Image, shape: str, ink: tuple[int, int, int], pattern: str) -> None:
    """Draw the object's silhouette in ``ink`` with its pattern, centred in the upper frame."""
    mask = Image.new("L", image.size, 0)
    m = ImageDraw.Draw(mask)
    c = CARD_SIDE // 2
    if shape == "vase":
        m.ellipse((c - 150, 230, c + 150, 500), fill=255)
        m.rectangle((c - 45, 110, c + 45, 280), fill=255)
        m.ellipse((c - 70, 95, c + 70, 135), fill=255)
    elif shape == "cup":
        m.polygon([(c - 130, 220), (c + 130, 220), (c + 95, 470), (c - 95, 470)], fill=255)
        m.arc((c + 80, 260, c + 190, 400), 270, 90, fill=255, width=26)
    elif shape == "bowl":
        m.chord((c - 200, 120, c + 200, 500), 0, 180, fill=255)
        m.rectangle((c - 60, 470, c + 60, 500), fill=255)
    elif shape == "teapot":
        m.ellipse((c - 150, 220, c + 150, 470), fill=255)
        m.ellipse((c - 40, 180, c + 40, 235), fill=255)
        m.polygon([(c + 130, 320), (c + 240, 230), (c + 250, 250), (c + 150, 380)], fill=255)
        m.arc((c - 250, 260, c - 110, 420), 90, 270, fill=255, width=28)
    elif shape == "plate":
        m.ellipse((c - 220, 150, c + 220, 480), fill=255)
    elif shape in ("square", "frame"):
        m.rectangle((c - 190, 110, c + 190, 480), fill=255)
    elif shape == "book":
        m.rectangle((c - 150, 100, c + 150, 490), fill=255)
    elif shape == "slab":
        m.rounded_rectangle((c - 200, 220, c + 200, 430), radius=30, fill=255)
    elif shape == "tall":
        m.rounded_rectangle((c - 45, 80, c + 45, 500), radius=20, fill=255)
    elif shape == "seal":
        m.rectangle((c - 80, 150, c + 80, 460), fill=255)
        m.ellipse((c - 70, 90, c + 70, 190), fill=255)
    elif shape == "fan":
        m.ellipse((c - 170, 80, c + 170, 420), fill=255)
        m.rectangle((c - 14, 400, c + 14, 540), fill=255)
    elif shape == "ring":
        m.ellipse((c - 170, 130, c + 170, 470), fill=255)
        m.ellipse((c - 120, 180, c + 120, 420), fill=0)
    elif shape == "badge":
        m.ellipse((c - 160, 130, c + 160, 450), fill=255)
    elif shape == "shirt":
        m.polygon(
            [
                (c - 110, 110),
                (c - 250, 200),
                (c - 200, 280),
                (c - 140, 250),
                (c - 140, 500),
                (c + 140, 500),
                (c + 140, 250),
                (c + 200, 280),
                (c + 250, 200),
                (c + 110, 110),
                (c + 40, 140),
                (c - 40, 140),
            ],
            fill=255,
        )
    elif shape == "bag":
        m.rectangle((c - 170, 220, c + 170, 500), fill=255)
        m.arc((c - 100, 110, c + 100, 330), 180, 360, fill=255, width=22)
    elif shape == "phone":
        m.rounded_rectangle((c - 110, 80, c + 110, 510), radius=36, fill=255)
    elif shape == "lantern":
        m.ellipse((c - 160, 150, c + 160, 460), fill=255)
        m.rectangle((c - 60, 120, c + 60, 160), fill=255)
        m.rectangle((c - 60, 450, c + 60, 490), fill=255)
        m.line([(c, 490), (c, 560)], fill=255, width=8)
    elif shape == "couplet":
        m.rectangle((c - 200, 80, c - 110, 520), fill=255)
        m.rectangle((c + 110, 80, c + 200, 520), fill=255)
        m.rectangle((c - 90, 80, c + 90, 150), fill=255)
    elif shape == "envelope":
        m.rounded_rectangle((c - 120, 100, c + 120, 500), radius=16, fill=255)
    elif shape == "box":
        m.rectangle((c - 200, 200, c + 200, 480), fill=255)
        m.polygon([(c - 200, 200), (c - 130, 140), (c + 270, 140), (c + 200, 200)], fill=255)
    elif shape == "kite":
        m.polygon([(c, 70), (c + 190, 290), (c, 470), (c - 190, 290)], fill=255)
        m.line([(c, 470), (c + 40, 520), (c - 20, 560)], fill=255, width=6)
    elif shape == "puppet":
        m.ellipse((c - 50, 80, c + 50, 180), fill=255)
        m.polygon([(c - 90, 190), (c + 90, 190), (c + 130, 460), (c - 130, 460)], fill=255)
        m.line([(c - 90, 200), (c - 200, 360)], fill=255, width=16)
        m.line([(c + 90, 200), (c + 200, 360)], fill=255, width=16)
    elif shape == "screen":
        for i in range(4):
            x = c - 220 + i * 112
            m.rectangle((x, 110, x + 100, 490), fill=255)
    elif shape == "lamp":
        m.polygon([(c - 80, 110), (c + 80, 110), (c + 170, 300), (c - 170, 300)], fill=255)
        m.rectangle((c - 14, 300, c + 14, 460), fill=255)
        m.ellipse((c - 110, 450, c + 110, 500), fill=255)
    else:
        m.ellipse((c - 180, 120, c + 180, 480), fill=255)
    body = Image.new("RGB", image.size, ink)
    _pattern(ImageDraw.Draw(body), (0, 0, CARD_SIDE, CARD_SIDE), pattern, _shade(ink, 55))
    shadow = Image.new("L", image.size, 0)
    ImageDraw.Draw(shadow).ellipse((c - 200, 500, c + 200, 560), fill=110)
    image.paste((40, 30, 20), mask=shadow.filter(ImageFilter.GaussianBlur(18)))
    image.paste(body, mask=mask)


def catalogue_card_png(
    *,
    title: str,
    shape: str,
    background: tuple[int, int, int],
    ink: tuple[int, int, int],
    pattern: str,
) -> bytes:
    """A product photo: a gradient ground, the object with its pattern and a soft shadow, a
    red seal and the title (in Chinese, when a CJK font is installed)."""
    image = Image.new("RGB", (CARD_SIDE, CARD_SIDE), background)
    draw = ImageDraw.Draw(image)
    for y in range(0, CARD_SIDE, 4):  # a vertical gradient, darker toward the floor
        shade = 1 - 0.2 * (y / CARD_SIDE)
        draw.rectangle((0, y, CARD_SIDE, y + 4), fill=tuple(int(ch * shade) for ch in background))
    _object(image, shape, ink, pattern)
    draw = ImageDraw.Draw(image)
    draw.rectangle((560, 24, 616, 80), outline=(168, 50, 45), width=5)
    if _has_cjk_font():
        draw.text((588, 52), "雅", font=_font(30), fill=(168, 50, 45), anchor="mm")
        draw.rectangle((0, 570, CARD_SIDE, CARD_SIDE), fill=(250, 248, 244))
        draw.text((CARD_SIDE // 2, 605), title[:18], font=_font(34), fill=(50, 40, 34), anchor="mm")
    out = io.BytesIO()
    image.save(out, format="PNG", compress_level=1)
    return out.getvalue()


def _catalogue_product_build(spec: CatalogueProduct, shop: Shop, reviewer: User) -> None:
    owner = shop.owner
    _shape = ITEMS[spec.item][3]
    _zh, _en, background, ink, pattern, _attrs = MOTIFS[spec.motif]
    product = catalog.product_create(
        actor=owner,
        shop=shop,
        kind=spec.kind,
        title_zh=spec.title_zh,
        title_en=spec.title_en,
        story_zh=spec.story_zh,
        story_en=spec.story_en,
        category_slug=spec.category,
        attribute_ids=_attribute_ids(spec.attributes),
        tags=spec.tags,
        **dict(spec.extra),
    )
    option, values = spec.options
    for n, value in enumerate(values):
        catalog.variant_upsert(
            actor=owner,
            product_id=product.pk,
            sku=f"{spec.sku}-{n + 1}",
            price_fen=spec.price_fen + n * (spec.price_fen // 10 // 100 * 100),
            stock=spec.stock,
            options={option: value},
        )
    if spec.kind == "made_to_order":
        catalog.customisation_option_add(
            actor=owner,
            product_id=product.pk,
            kind="engraving",
            label_zh="刻字",
            label_en="Engraving",
            max_length=6,
        )
    card = catalogue_card_png(
        title=spec.title_zh, shape=_shape, background=background, ink=ink, pattern=pattern
    )
    catalog.product_image_add(
        actor=owner,
        product_id=product.pk,
        upload=SimpleUploadedFile(f"{spec.sku}.png", card, content_type="image/png"),
        alt=spec.title_zh,
    )
    if spec.kind == "digital_download":
        catalog.digital_file_set(
            actor=owner,
            product_id=product.pk,
            upload=SimpleUploadedFile(f"{spec.sku}-4k.png", card, content_type="image/png"),
        )
    catalog.product_submit(actor=owner, product_id=product.pk)
    product.refresh_from_db(fields=["status"])
    if product.status == Product.Status.IN_REVIEW:
        catalog.product_review_approve(reviewer=reviewer, product_id=product.pk)


def catalogue_chapter() -> Iterator[str]:
    """Build the generated catalogue through the services, like the hand-written products:
    one step per product; products already there (same shop and title) are skipped."""
    catalog_defaults_seed()
    reviewer = user_by_identifier(identifier=REVIEWER_EMAIL)
    existing = set(Product.objects.values_list("shop__slug", "title_zh"))
    shops = {s.slug: s for s in Shop.objects.select_related("owner")}
    for spec in demo_catalogue():
        shop = shops.get(spec.shop_slug)
        if (
            reviewer is not None
            and shop is not None
            and (spec.shop_slug, spec.title_zh) not in existing
        ):
            _catalogue_product_build(spec, shop, reviewer)
        yield spec.title_zh


# --- search judgements: graded relevance of the demo catalogue for the labelled queries --------

# The hand-written products in the terms of the generated catalogue (item, motif, attributes).
_HANDWRITTEN_TRUTH: dict[str, tuple[str, str]] = {
    "双面绣团扇·宋人花鸟": ("fan", "songbird"),
    "景泰蓝掐丝书签": ("bookmark", ""),
    "苗银錾刻手镯（可刻字）": ("bangle", ""),
    "千里江山真丝方巾": ("scarf", "landscape"),
    "景泰蓝缠枝莲梅瓶": ("vase", "lotus"),
    "云纹茶席布": ("teamat", "cloud"),
}


@dataclass(frozen=True)
class Truth:
    """What a demo product is, as a person labelling queries sees it."""

    title_zh: str
    item: str
    motif: str
    category: str
    attributes: frozenset[tuple[str, str]]
    shop_slug: str


def catalogue_truth() -> list[Truth]:
    out = [
        Truth(
            spec.title_zh,
            *_HANDWRITTEN_TRUTH[spec.title_zh],
            spec.category,
            frozenset(spec.attributes),
            spec.shop_slug,
        )
        for spec in DEMO_PRODUCTS
    ]
    out.extend(
        Truth(p.title_zh, p.item, p.motif, p.category, frozenset(p.attributes), p.shop_slug)
        for p in demo_catalogue()
    )
    return out


# A rule: (grade, conditions) — every condition must hold; a product's grade for a query is the
# highest grade of the rules it satisfies. Conditions: item / motif / category / shop are sets
# of keys, anything else is an attribute kind with allowed values.
Rule = tuple[int, dict[str, tuple[str, ...]]]


def _holds(truth: Truth, conditions: dict[str, tuple[str, ...]]) -> bool:
    for key, allowed in conditions.items():
        if key in ("item", "motif", "category"):
            if getattr(truth, key) not in allowed:
                return False
        elif key == "shop":
            if truth.shop_slug not in allowed:
                return False
        elif not any((key, value) in truth.attributes for value in allowed):
            return False
    return True


def _i(*items: str) -> dict[str, tuple[str, ...]]:
    return {"item": items}


_TEA = ("teaset", "teapot", "teacup", "jianzhan")
# (query, group, rules). Groups: two_char, phrase, english, pinyin, initials, traditional, typo.
EVAL_QUERIES: tuple[tuple[str, str, tuple[Rule, ...]], ...] = (
    # two-character words
    ("丝巾", "two_char", ((3, _i("scarf")), (1, _i("shawl")))),
    ("茶具", "two_char", ((3, _i("teaset")), (2, _i("teapot", "teacup")), (1, _i("jianzhan")))),
    ("书签", "two_char", ((3, _i("bookmark")),)),
    ("花瓶", "two_char", ((3, _i("vase")),)),
    ("手镯", "two_char", ((3, _i("bangle")),)),
    ("团扇", "two_char", ((3, _i("fan")),)),
    ("茶壶", "two_char", ((3, _i("teapot")), (1, _i("teaset")))),
    ("耳环", "two_char", ((3, _i("earrings")),)),
    ("灯笼", "two_char", ((3, _i("lantern")),)),
    ("剪纸", "two_char", ((3, _i("papercut")), (2, {"craft": ("剪纸",)}))),
    ("红包", "two_char", ((3, _i("redenvelope")),)),
    ("卫衣", "two_char", ((3, _i("sweatshirt")),)),
    ("画册", "two_char", ((3, _i("book")),)),
    ("春联", "two_char", ((3, _i("couplets")),)),
    ("风筝", "two_char", ((3, _i("kite")),)),
    ("皮影", "two_char", ((3, _i("puppet")),)),
    ("紫砂", "two_char", ((3, {"craft": ("紫砂",)}),)),
    ("苏绣", "two_char", ((3, {"craft": ("苏绣",)}),)),
    ("建盏", "two_char", ((3, _i("jianzhan")), (1, _i("teacup")))),
    ("香炉", "two_char", ((3, _i("burner")),)),
    ("茶杯", "two_char", ((3, _i("teacup")), (2, _i("jianzhan")), (1, _i("mug")))),
    ("发簪", "two_char", ((3, _i("hairpin")),)),
    ("砚台", "two_char", ((3, _i("inkstone")),)),
    ("印章", "two_char", ((3, _i("seal")),)),
    ("屏风", "two_char", ((3, _i("screen")),)),
    ("熊猫", "two_char", ((3, {"motif": ("panda",)}),)),
    # long phrases
    (
        "苏绣缠枝莲丝巾",
        "phrase",
        (
            (3, {**_i("scarf"), "motif": ("lotus",), "craft": ("苏绣",)}),
            (2, {**_i("scarf"), "craft": ("苏绣",)}),
            (1, _i("scarf")),
        ),
    ),
    ("景泰蓝花瓶", "phrase", ((3, {**_i("vase"), "craft": ("景泰蓝",)}), (1, _i("vase")))),
    ("青花瓷茶杯", "phrase", ((3, {**_i("teacup"), "craft": ("青花瓷",)}), (1, _i("teacup")))),
    ("故宫瑞兽冰箱贴", "phrase", ((3, {**_i("magnet"), "motif": ("beast",)}), (1, _i("magnet")))),
    ("敦煌飞天丝巾", "phrase", ((3, {**_i("scarf"), "motif": ("apsara",)}), (1, _i("scarf")))),
    ("宋画花鸟团扇", "phrase", ((3, {**_i("fan"), "motif": ("songbird",)}), (1, _i("fan")))),
    (
        "送给妈妈的真丝丝巾",
        "phrase",
        ((3, {**_i("scarf"), "material": ("丝绸",)}), (2, _i("scarf"))),
    ),
    ("适合泡茶的紫砂壶", "phrase", ((3, {**_i("teapot"), "craft": ("紫砂",)}), (1, _i("teapot")))),
    (
        "中秋节玉兔礼盒",
        "phrase",
        ((3, {**_i("giftbox"), "motif": ("rabbit",)}), (1, _i("giftbox"))),
    ),
    ("熊猫帆布包", "phrase", ((3, {**_i("tote"), "motif": ("panda",)}), (1, _i("tote")))),
    ("青绿山水装饰画", "phrase", ((3, {**_i("print"), "motif": ("landscape",)}), (1, _i("print")))),
    ("苗银手镯", "phrase", ((3, {**_i("bangle"), "craft": ("苗银",)}), (1, _i("bangle")))),
    ("蜡染抱枕", "phrase", ((3, {**_i("cushion"), "craft": ("蜡染",)}), (1, _i("cushion")))),
    ("龙纹茶具套装", "phrase", ((3, {**_i("teaset"), "motif": ("dragon",)}), (1, _i("teaset")))),
    # English
    ("silk scarf", "english", ((3, _i("scarf")), (1, _i("shawl")))),
    ("teapot", "english", ((3, _i("teapot")), (1, _i("teaset")))),
    ("tea set", "english", ((3, _i("teaset")), (2, _i("teapot", "teacup")), (1, _i("jianzhan")))),
    ("cloisonne vase", "english", ((3, {**_i("vase"), "craft": ("景泰蓝",)}), (1, _i("vase")))),
    ("bookmark", "english", ((3, _i("bookmark")),)),
    ("bangle", "english", ((3, _i("bangle")),)),
    ("lantern", "english", ((3, _i("lantern")),)),
    ("phone case", "english", ((3, _i("phonecase")),)),
    ("blue and white porcelain", "english", ((3, {"craft": ("青花瓷",)}),)),
    ("kite", "english", ((3, _i("kite")),)),
    ("panda tote bag", "english", ((3, {**_i("tote"), "motif": ("panda",)}), (1, _i("tote")))),
    ("incense burner", "english", ((3, _i("burner")),)),
    ("hairpin", "english", ((3, _i("hairpin")),)),
    ("fridge magnet", "english", ((3, _i("magnet")),)),
    ("sweatshirt", "english", ((3, _i("sweatshirt")),)),
    ("Dunhuang", "english", ((3, {"motif": ("apsara",)}), (2, {"shop": ("dunhuang-colours",)}))),
    # full pinyin
    ("sijin", "pinyin", ((3, _i("scarf")), (1, _i("shawl")))),
    ("chaju", "pinyin", ((3, _i("teaset")), (2, _i("teapot", "teacup")), (1, _i("jianzhan")))),
    ("qinghuaci", "pinyin", ((3, {"craft": ("青花瓷",)}),)),
    ("jingtailan", "pinyin", ((3, {"craft": ("景泰蓝",)}),)),
    ("shuqian", "pinyin", ((3, _i("bookmark")),)),
    ("tuanshan", "pinyin", ((3, _i("fan")),)),
    ("zisha", "pinyin", ((3, {"craft": ("紫砂",)}),)),
    ("denglong", "pinyin", ((3, _i("lantern")),)),
    ("jianzhan", "pinyin", ((3, _i("jianzhan")), (1, _i("teacup")))),
    ("suxiu", "pinyin", ((3, {"craft": ("苏绣",)}),)),
    # pinyin initials
    ("qhc", "initials", ((3, {"craft": ("青花瓷",)}),)),
    ("jtl", "initials", ((3, {"craft": ("景泰蓝",)}),)),
    ("sx", "initials", ((3, {"craft": ("苏绣",)}),)),
    ("sq", "initials", ((3, _i("bookmark")),)),
    ("dl", "initials", ((3, _i("lantern")),)),
    ("fz", "initials", ((3, _i("kite")),)),
    ("cj", "initials", ((3, _i("teaset")), (2, _i("teapot", "teacup")), (1, _i("jianzhan")))),
    # traditional characters
    ("絲巾", "traditional", ((3, _i("scarf")), (1, _i("shawl")))),
    ("書簽", "traditional", ((3, _i("bookmark")),)),
    ("團扇", "traditional", ((3, _i("fan")),)),
    ("蘇繡", "traditional", ((3, {"craft": ("苏绣",)}),)),
    ("景泰藍", "traditional", ((3, {"craft": ("景泰蓝",)}),)),
    ("燈籠", "traditional", ((3, _i("lantern")),)),
    ("龍紋", "traditional", ((3, {"motif": ("dragon",)}),)),
    ("青花瓷茶壺", "traditional", ((3, {**_i("teapot"), "craft": ("青花瓷",)}), (1, _i("teapot")))),
    ("項鏈", "traditional", ((3, _i("necklace")),)),
    # typos
    ("景泰兰", "typo", ((3, {"craft": ("景泰蓝",)}),)),
    ("青花磁", "typo", ((3, {"craft": ("青花瓷",)}),)),
    ("苏秀", "typo", ((3, {"craft": ("苏绣",)}),)),
    ("紫沙壶", "typo", ((3, {**_i("teapot"), "craft": ("紫砂",)}), (1, _i("teapot")))),
    ("scraf", "typo", ((3, _i("scarf")),)),
    ("porcelian", "typo", ((3, {"craft": ("青花瓷",)}), (1, {"material": ("陶瓷",)}))),
    ("cloisone", "typo", ((3, {"craft": ("景泰蓝",)}),)),
    ("lanten", "typo", ((3, _i("lantern")),)),
    ("braclet", "typo", ((3, _i("bangle")),)),
)


def search_judgements() -> list[dict[str, object]]:
    """The labelled query set: each query with its graded relevant demo products (by title),
    computed from what the products are (item, motif, craft ...), never from a search."""
    truths = catalogue_truth()
    out: list[dict[str, object]] = []
    for query, group, rules in EVAL_QUERIES:
        relevant: dict[str, int] = {}
        for truth in truths:
            grade = max((g for g, cond in rules if _holds(truth, cond)), default=0)
            if grade:
                relevant[truth.title_zh] = grade
        out.append(
            {
                "q": query,
                "group": group,
                "relevant": dict(sorted(relevant.items(), key=lambda kv: (-kv[1], kv[0]))),
            }
        )
    return out


# --- bulk seeding: the same catalogue, inserted directly (evaluation runs, benchmarks) ---------

BULK_BATCH = 2000
BULK_OWNER_PASSWORD = "yaji-demo-2026"  # noqa: S105  # the demo password, as in world.py


def _bulk_shops() -> dict[str, Shop]:
    """Every demo shop by slug; missing ones are opened directly (no application), each with
    an owner account of its own. Only the seeding path does this: the demo world applies."""
    from yaji.demo.shops import DEMO_SHOPS, demo_makers

    shops = {s.slug: s for s in Shop.objects.all()}
    for spec in [*DEMO_SHOPS, *(m.shop for m in demo_makers())]:
        if spec.slug in shops:
            continue
        owner = user_by_identifier(identifier=spec.owner_email)
        if owner is None:
            owner = User.objects.create_user(
                spec.owner_email, BULK_OWNER_PASSWORD, display_name=spec.name_zh
            )
        shops[spec.slug] = Shop.objects.create(
            owner=owner,
            name_zh=spec.name_zh,
            name_en=spec.name_en,
            slug=spec.slug,
            shop_type=spec.shop_type,
            story_zh=spec.story_zh,
            story_en=spec.story_en,
            region=spec.region,
        )
    return shops


def _bulk_specs() -> list[CatalogueProduct]:
    """The hand-written products in the generated form, then the generated catalogue."""
    out = []
    for n, spec in enumerate(DEMO_PRODUCTS):
        _sku, price, stock, options = spec.variants[0]
        (option, value), *_rest = options.items()
        out.append(
            CatalogueProduct(
                shop_slug=spec.shop_slug,
                item=_HANDWRITTEN_TRUTH[spec.title_zh][0],
                motif=_HANDWRITTEN_TRUTH[spec.title_zh][1] or "cloud",
                title_zh=spec.title_zh,
                title_en=spec.title_en,
                story_zh=spec.story_zh,
                story_en=spec.story_en,
                category=spec.category,
                sku=f"H{n:02d}",
                price_fen=price,
                stock=stock,
                options=(option, (value,)),
                attributes=spec.attributes,
                tags=spec.tags,
                kind="standard",
                extra=(),
            )
        )
    return [*out, *demo_catalogue()]


def bulk_title(spec: CatalogueProduct, copy: int) -> str:
    """The title of the ``copy``-th seeded copy of a catalogue product (0 is the original)."""
    return spec.title_zh if copy == 0 else f"{spec.title_zh} · 第{copy + 1}批"


def catalogue_bulk_seed(*, total: int, on_progress: Callable[[int, int], Any] | None = None) -> int:
    """Top the listed catalogue up to ``total`` products with bulk inserts: the demo catalogue
    first, then numbered batches of it (``… · 第2批``), listed in active shops, without images.
    Deterministic and re-runnable (what exists is kept); returns how many were inserted."""
    catalog_defaults_seed()
    shops = _bulk_shops()
    specs = _bulk_specs()
    categories = dict(Category.objects.values_list("slug", "id"))
    attributes = {(a.kind, a.value_zh): a.pk for a in Attribute.objects.all()}
    tag_names = sorted({t for spec in specs for t in spec.tags})
    Tag.objects.bulk_create([Tag(name=n) for n in tag_names], ignore_conflicts=True)
    tags = dict(Tag.objects.filter(name__in=tag_names).values_list("name", "id"))
    existing = set(Product.objects.values_list("shop_id", "title_zh"))
    now = clock.now()
    wanted = [(n, specs[n % len(specs)], n // len(specs)) for n in range(total)]
    pending = [
        (n, spec, copy)
        for n, spec, copy in wanted
        if (shops[spec.shop_slug].pk, bulk_title(spec, copy)) not in existing
    ]
    if on_progress is not None:
        on_progress(0, len(pending))
    inserted = 0
    AttributeLink = Product.attributes.through
    TagLink = Product.tags.through
    for start in range(0, len(pending), BULK_BATCH):
        chunk = pending[start : start + BULK_BATCH]
        with transaction.atomic():
            products = Product.objects.bulk_create(
                [
                    Product(
                        shop=shops[spec.shop_slug],
                        kind=Product.Kind.STANDARD,
                        title_zh=bulk_title(spec, copy),
                        title_en=spec.title_en if copy == 0 else f"{spec.title_en} #{copy + 1}",
                        story_zh=spec.story_zh,
                        story_en=spec.story_en,
                        category_id=categories.get(spec.category),
                        status=Product.Status.LISTED,
                        created_by_id=shops[spec.shop_slug].owner_id,
                        submitted_at=now,
                        reviewed_at=now,
                        listed_at=now - timedelta(minutes=n),
                    )
                    for n, spec, copy in chunk
                ]
            )
            variants, attribute_links, tag_links = [], [], []
            for product, (_n, spec, copy) in zip(products, chunk, strict=True):
                option, values = spec.options
                variants.extend(
                    Variant(
                        product=product,
                        sku=f"{spec.sku}-{copy + 1}-{i + 1}",
                        options={option: value},
                        price_fen=spec.price_fen + i * 1000,
                        stock=spec.stock,
                        position=i,
                    )
                    for i, value in enumerate(values)
                )
                attribute_links.extend(
                    AttributeLink(product_id=product.pk, attribute_id=attributes[pair])
                    for pair in spec.attributes
                    if pair in attributes
                )
                tag_links.extend(TagLink(product_id=product.pk, tag_id=tags[t]) for t in spec.tags)
            Variant.objects.bulk_create(variants)
            AttributeLink.objects.bulk_create(attribute_links)
            TagLink.objects.bulk_create(tag_links)
        inserted += len(chunk)
        if on_progress is not None:
            on_progress(inserted, len(pending))
    return inserted


def judgements_json() -> str:
    """The labelled query set as stored in the repository (``yaji demo-data --search-labels``)."""
    return json.dumps(search_judgements(), ensure_ascii=False, indent=1) + "\n"
