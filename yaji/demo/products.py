"""A handful of demo products, one per demo shop: created, illustrated (a Pillow-drawn product
card), submitted through the pre-checks and approved by the demo reviewer, like real ones.
Rerunnable: a shop that already has its demo product (same title) is skipped."""

from __future__ import annotations

import io
from collections.abc import Iterator
from dataclasses import dataclass, field

from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image, ImageDraw, ImageFilter

from yaji.accounts.selectors import user_by_identifier
from yaji.catalog import selectors as catalog_selectors
from yaji.catalog import services as catalog
from yaji.catalog.defaults import catalog_defaults_seed
from yaji.catalog.glb import glb_vase
from yaji.catalog.models import Attribute, Product
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
