"""The default category tree and cultural attribute values every new site starts with.

Editable in the admin afterwards. The seed migration applies them; tests and `yaji demo-data` call
`catalog_defaults_seed()` too, because a transactional test's flush wipes migration-seeded rows.
"""

from __future__ import annotations

from typing import Any

CATEGORIES = (
    ("stationery", "文房雅器", "Scholar's Studio"),
    ("apparel", "服饰配饰", "Apparel & Accessories"),
    ("home", "家居陈设", "Home & Display"),
    ("tea-incense", "茶器香器", "Tea & Incense"),
    ("heritage-craft", "非遗手作", "Intangible Heritage Crafts"),
    ("museum", "博物馆文创", "Museum Creations"),
    ("digital", "数字藏品", "Digital Collectibles"),
    ("jewellery", "首饰珠宝", "Jewellery"),
    ("ceramics", "陶瓷器物", "Ceramics"),
    ("books-prints", "书画印刷", "Books & Prints"),
    ("guochao", "国潮设计", "Guochao Design"),
    ("festival-gifts", "节令礼品", "Festival Gifts"),
)

ATTRIBUTES = (
    ("era", "宋代", "Song dynasty"),
    ("era", "唐代", "Tang dynasty"),
    ("era", "明清", "Ming & Qing"),
    ("craft", "苏绣", "Suzhou embroidery"),
    ("craft", "景泰蓝", "Cloisonné"),
    ("craft", "缂丝", "Kesi silk tapestry"),
    ("craft", "青花瓷", "Blue-and-white porcelain"),
    ("craft", "漆器", "Lacquerware"),
    ("craft", "紫砂", "Zisha clay"),
    ("craft", "蜡染", "Batik"),
    ("craft", "扎染", "Tie-dye"),
    ("craft", "剪纸", "Paper-cutting"),
    ("craft", "竹编", "Bamboo weaving"),
    ("craft", "苗银", "Miao silver"),
    ("region", "江南", "Jiangnan"),
    ("region", "景德镇", "Jingdezhen"),
    ("region", "贵州", "Guizhou"),
    ("region", "云南", "Yunnan"),
    ("material", "丝绸", "Silk"),
    ("material", "陶瓷", "Ceramic"),
    ("material", "竹木", "Bamboo & wood"),
    ("series", "千里江山", "A Thousand Li of Rivers and Mountains"),
    ("museum", "故宫博物院", "The Palace Museum"),
    ("museum", "苏州博物馆", "Suzhou Museum"),
)


def catalog_defaults_seed(category_model: Any = None, attribute_model: Any = None) -> None:
    """Create the missing default categories and attributes; safe to run any number of times."""
    if category_model is None or attribute_model is None:
        from yaji.catalog.models import Attribute, Category

        category_model, attribute_model = Category, Attribute
    for position, (slug, name_zh, name_en) in enumerate(CATEGORIES):
        category_model.objects.get_or_create(
            slug=slug, defaults={"name_zh": name_zh, "name_en": name_en, "position": position}
        )
    for kind, value_zh, value_en in ATTRIBUTES:
        attribute_model.objects.get_or_create(
            kind=kind, value_zh=value_zh, defaults={"value_en": value_en}
        )
