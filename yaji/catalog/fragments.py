"""The public product page rendered without the template engine (ADR 0054).

A product page that misses the page cache (ADR 0037; in the catalogue bench every request is
another product) spent most of its CPU in ``catalog/product_detail.html``: ~150 node renders,
``localized``/``fen``/``product_image`` filters, ``{% url %}`` and ``{% static %}`` per use, the
buy box and reviews includes. This module writes the same markup from the plain rows of
``product_page.product_page_rows`` with string formatting: URLs reversed once per kind around a
stand-in id, every value escaped as the template escapes it (``_v``: localised, then
``conditional_escape``), translations of literals not escaped (``{% translate "…" %}`` and
``{% blocktranslate %}`` text are safe; only the variables in the latter are escaped) — as
Django does.

``catalog/product_detail.html`` stays the readable reference and the page for previews (an
unlisted product seen by its shop or a reviewer). ``tests/test_fragments.py`` renders both over
every product kind, with and without images, video, 3D model, options, bundle contents and
reviews, values that need escaping, in both languages, and requires the same page up to runs
of whitespace. Change the markup in both places.
"""

from __future__ import annotations

from typing import Any

from django.templatetags.static import static
from django.urls import reverse
from django.utils import dateformat, timezone
from django.utils.formats import localize
from django.utils.html import conditional_escape, escape, linebreaks
from django.utils.safestring import SafeString, mark_safe
from django.utils.text import normalize_newlines
from django.utils.translation import get_language, gettext, ngettext

from yaji.catalog.models import AttributeKind, Product, ProductKind, Shop, ShopType
from yaji.core.money import Money, format_money

# An id no row has, reversed once per page and split around (the URL patterns take <int:…>).
_STAND_IN = 987654321987654321


def _v(value: Any) -> str:
    """``{{ value }}``: localised like the template engine renders a value, then escaped."""
    return str(conditional_escape(localize(value)))


def _fen(amount: int | None) -> str:
    """``{{ amount|fen }}``."""
    return "" if amount is None else str(escape(format_money(Money(int(amount), "CNY"))))


def _url_around(name: str, **kwargs: Any) -> tuple[str, str]:
    before, _, after = reverse(name, kwargs=kwargs).partition(str(_STAND_IN))
    return str(escape(before)), str(escape(after))


def _t(message: str) -> str:
    """``{% translate "message" %}``: a literal is safe, so is its translation (Django does
    not escape either; the catalogue is ours)."""
    return gettext(message)


def _stamp(value: Any, fmt: str) -> str:
    """``{{ value|date:fmt }}`` (in the current time zone, as the template converts it)."""
    local = timezone.localtime(value) if timezone.is_aware(value) else value
    return str(escape(dateformat.format(local, fmt)))


class _Page:
    def __init__(self, rows: dict[str, Any], *, csrf_token: str, path: str) -> None:
        self.rows = rows
        self.product = rows["product"]
        self.shop = rows["shop"]
        self.english = (get_language() or "").startswith("en")
        self.csrf_token = csrf_token
        self.path = path
        self.variants = rows["variants"]
        self.price_from = min((v["price_fen"] for v in self.variants), default=None)
        kind = self.product["kind"]
        if kind == Product.Kind.BUNDLE:
            self.availability = self._bundle_availability()
        else:
            self.availability = sum(v["stock"] for v in self.variants)

    def localized(self, obj: dict[str, Any], field: str) -> str:
        """``{{ obj|localized:field }}`` (catalog_tags.localized)."""
        zh = obj.get(f"{field}_zh")
        if zh is None:
            zh = obj.get(field, "")
        if self.english:
            return obj.get(f"{field}_en", "") or zh
        return zh

    def _bundle_availability(self) -> int:
        # selectors.bundle_availability over the rows: the fewest whole sets the components'
        # stock allows (a component no longer listed allows none), capped by the own variants.
        items = self.rows["bundle_items"]
        if not items:
            return 0
        sets = min(i["stock"] // i["quantity"] if i["listed"] else 0 for i in items)
        own = [v["stock"] for v in self.variants]
        return min(sets, *own) if own else 0

    # --- head ---------------------------------------------------------------------------------

    def title(self) -> str:
        return (
            f"{escape(self.localized(self.product, 'title'))} · "
            f"{escape(self.localized(self.shop, 'name'))}"
        )

    def head(self) -> str:
        out = (
            f'<link rel="stylesheet" href="{escape(static("catalog/catalog.css"))}">\n'
            f'<link rel="stylesheet" href="{escape(static("trade/trade.css"))}">'
        )
        if self.rows["model_3d"]:
            src = escape(static("catalog/vendor/model-viewer.min.js"))
            out += f'\n<script type="module" src="{src}"></script>'
        return out

    # --- gallery ------------------------------------------------------------------------------

    def gallery(self) -> str:
        p = self.product
        images = self.rows["images"]
        out = [f'<section class="product-gallery" aria-label="{_t("商品图片")}">']
        poster = ""
        if images:
            urls = {
                size: _url_around(
                    "catalog:product_image", product_id=p["id"], image_id=_STAND_IN, size=size
                )
                for size in ("full", "1200", "400")
            }

            def url(image: dict[str, Any], size: str) -> str:
                before, after = urls[size]
                return f"{before}{image['id']}{after}"

            title = p["title_zh"]
            first = images[0]
            poster = url(first, "1200")
            out.append(
                f'<a href="{url(first, "full")}" class="gallery-main"><img src="{poster}"'
                f' alt="{_v(first["alt"] or title)}" width="{_v(first["width"])}"'
                f' height="{_v(first["height"])}" data-testid="main-image"></a>'
            )
            if len(images) > 1:
                thumbs = "".join(
                    f'<li><a href="{url(image, "1200")}"><img src="{url(image, "400")}"'
                    f' alt="{_v(image["alt"] or title)}" loading="lazy"></a></li>'
                    for image in images
                )
                out.append(f'<ul class="gallery-thumbs">\n{thumbs}\n</ul>')
        else:
            out.append(
                f'<div class="gallery-empty">{_v((p["title_zh"] or "雅").strip()[:1])}</div>'
            )
        model_3d = self.rows["model_3d"]
        if model_3d:
            src = self._media_url("catalog:product_model", model_3d)
            alt = escape(gettext("%(title)s 的 3D 模型") % {"title": _v(p["title_zh"])})
            poster_attr = f' poster="{poster}"' if images else ""
            out.append(
                f'<figure class="product-3d" data-testid="model-3d">'
                f' <model-viewer src="{src}"{poster_attr} alt="{alt}"'
                ' ar ar-modes="webxr scene-viewer quick-look" ar-scale="fixed" camera-controls'
                ' touch-action="pan-y" shadow-intensity="1" exposure="1.05" loading="lazy">'
                f' <button slot="ar-button" class="btn btn-primary btn-sm product-3d-ar"'
                f' type="button">{_t("在你的房间里看看")}</button> </model-viewer>'
                f' <figcaption class="muted">'
                f"{_t('拖动旋转、双指缩放；在手机上点「在你的房间里看看」，按真实尺寸摆进房间。')}"
                f"</figcaption> </figure>"
            )
        video = self.rows["video"]
        if video:
            src = self._media_url("catalog:product_video", video)
            poster_attr = f' poster="{poster}"' if images else ""
            out.append(
                f'<figure class="product-video" data-testid="product-video">'
                f' <video controls playsinline preload="metadata"{poster_attr}>'
                f' <source src="{src}" type="{_v(video["content_type"])}"> </video> </figure>'
            )
        out.append("</section>")
        return "\n".join(out)

    def _media_url(self, name: str, row: dict[str, Any]) -> str:
        """presenters.product_media_url over a row."""
        extension = row["file"].rsplit(".", 1)[-1]
        url = reverse(
            name,
            kwargs={"product_id": self.product["id"], "media_id": row["id"], "ext": extension},
        )
        return str(escape(url))

    # --- info ---------------------------------------------------------------------------------

    def info(self) -> str:
        p, kind = self.product, self.product["kind"]
        category = self.rows["category"]
        out = ['<section class="product-info">']
        meta = (
            f'<span class="badge">{_v(self.localized(category, "name"))}</span>' if category else ""
        )
        out.append(
            f'<p class="product-meta">{meta} <span class="badge badge-seal">'
            f"{_v(ProductKind(kind).label)}</span></p>"
        )
        out.append(f"<h1>{_v(p['title_zh'])}</h1>")
        if p["title_en"]:
            out.append(f'<p class="product-title-en" lang="en">{_v(p["title_en"])}</p>')
        if self.price_from:
            price = _fen(self.price_from)
            if len(self.variants) > 1:
                price += f" <small>{_t('起')}</small>"
            out.append(f'<p class="product-price" data-testid="price">{price}</p>')
        if kind == Product.Kind.LIMITED_EDITION:
            text = gettext("限量 %(size)s 件，编号发售，每人限购 %(limit)s 件。") % {
                "size": _v(p["edition_size"]),
                "limit": _v(p["per_buyer_limit"]),
            }
            out.append(f'<p class="muted">{text}</p>')
        if kind == Product.Kind.MADE_TO_ORDER:
            text = gettext("接单后制作，约 %(days)s 天发货。") % {"days": _v(p["lead_time_days"])}
            out.append(f'<p class="muted">{text}</p>')
        if kind == Product.Kind.DIGITAL_DOWNLOAD:
            out.append(f'<p class="muted">{_t("数字商品：付款后通过有时效的下载链接交付。")}</p>')
        if kind == Product.Kind.COURSE:
            minutes = gettext("每场 %(minutes)s 分钟") % {"minutes": _v(p["duration_minutes"])}
            where = _t("线上") if p["online"] else _v(p["location"])
            if p["online"] and p["location"]:
                where += f" · {_v(p['location'])}"
            out.append(f'<p class="muted" data-testid="course-facts">{minutes} · {where}</p>')
        if kind == Product.Kind.BUNDLE:
            out.append(self.bundle())
        if self.variants:
            out.append(self.variant_table())
        if self.rows["options"]:
            out.append(self.options())
        attributes = self.rows["attributes"]
        if attributes:
            labels = dict(AttributeKind.choices)
            facts = "".join(
                f"<dt>{_v(labels.get(a['kind'], a['kind']))}</dt>"
                f"<dd>{_v(self.localized(a, 'value'))}</dd>"
                for a in attributes
            )
            out.append(f'<dl class="facts product-attributes">\n{facts}\n</dl>')
        tags = self.rows["tags"]
        if tags:
            spans = "".join(f'<span class="tag">#{_v(t["name"])}</span> ' for t in tags)
            out.append(f'<p class="tags">{spans}</p>')
        out.append(self.add_to_cart())
        out.append("</section>")
        return "\n".join(out)

    def bundle(self) -> str:
        items = self.rows["bundle_items"]
        before, after = _url_around("catalog:product_detail", product_id=_STAND_IN)
        gone = _t("（已下架）")
        lines = "".join(
            f'<li><a href="{before}{item["product_id"]}{after}">{_v(item["title_zh"])}</a>'
            f" × {_v(item['quantity'])}"
            + ("" if item["listed"] else f' <span class="muted">{gone}</span>')
            + "</li>"
            for item in items
        )
        out = [
            '<section class="bundle-contents" data-testid="bundle">',
            f'<h2 class="eyebrow">{_t("套装内含")}</h2>',
            f"<ul>\n{lines}\n</ul>",
        ]
        total = sum(item["price_fen"] * item["quantity"] for item in items)
        if self.price_from and total > self.price_from:
            out.append(
                f'<p class="muted">{gettext("单买合计 %(total)s") % {"total": _fen(total)}}</p>'
            )
        n = self.availability
        if n:
            sets = ngettext("现可售 %(n)s 套", "现可售 %(n)s 套", n) % {"n": _v(n)}
        else:
            sets = f'<span class="muted">{_t("暂时无货")}</span>'
        out.append(f"<p>{sets}</p>")
        out.append("</section>")
        return "\n".join(out)

    def variant_table(self) -> str:
        course = self.product["kind"] == Product.Kind.COURSE
        bundle = self.product["kind"] == Product.Kind.BUNDLE
        sold_out = _t("售罄")
        rows = []
        for variant in self.variants:
            cell = ""
            starts_at = variant["starts_at"]
            if starts_at:
                cell = (
                    f'<time datetime="{_stamp(starts_at, "c")}">'
                    f"{_stamp(starts_at, 'Y-m-d H:i')}</time> "
                )
            options = variant["options"]
            if options:
                cell += " · ".join(f"{_v(key)}：{_v(value)}" for key, value in options.items())
            elif not starts_at:
                cell += _v(variant["sku"])
            if bundle:
                stock = _v(self.availability)
            elif variant["stock"]:
                stock = _v(variant["stock"])
            else:
                stock = f'<span class="muted">{sold_out}</span>'
            rows.append(
                f"<tr><td>{cell}</td><td>{_fen(variant['price_fen'])}</td><td>{stock}</td></tr>"
            )
        return (
            '<table class="table variant-table" data-testid="variants">\n'
            f"<thead><tr><th>{_t('场次') if course else _t('规格')}</th><th>{_t('价格')}</th>"
            f"<th>{_t('剩余名额') if course else _t('库存')}</th></tr></thead>\n"
            f"<tbody>\n{chr(10).join(rows)}\n</tbody>\n</table>"
        )

    def options(self) -> str:
        required = _t("必填")
        items = []
        for option in self.rows["options"]:
            line = f"<li><strong>{_v(self.localized(option, 'label'))}</strong>"
            if option["required"]:
                line += f' <span class="badge">{required}</span>'
            if option["kind"] == "engraving":
                text = gettext("刻字，最多 %(n)s 个字") % {"n": _v(option["max_length"])}
                line += f' <span class="muted">{text}</span>'
            else:
                choices = []
                for choice in option["choices"] or ():
                    text = _v(choice.get("value_zh", ""))
                    if choice.get("price_delta_fen"):
                        text += f" (+{_fen(choice['price_delta_fen'])})"
                    choices.append(text)
                line += f' <span class="muted">{" / ".join(choices)}</span>'
            items.append(line + " </li>")
        return (
            '<section class="customisation" data-testid="customisation">\n'
            f'<h2 class="eyebrow">{_t("定制选项")}</h2>\n<ul>\n{chr(10).join(items)}\n</ul>\n'
            "</section>"
        )

    def add_to_cart(self) -> str:
        """trade/partials/add_to_cart.html."""
        if not self.variants:
            return ""
        action = escape(reverse("trade:cart_add"))
        choices = []
        for variant in self.variants:
            options = variant["options"]
            label = (
                "".join(f"{_v(value)} " for value in options.values())
                if options
                else _v(variant["sku"])
            )
            disabled = "" if variant["stock"] else "disabled"
            choices.append(f'<option value="{_v(variant["id"])}" {disabled}>{label}</option>')
        fields = []
        for option in self.rows["options"]:
            pk = _v(option["id"])
            star = " *" if option["required"] else ""
            label = f'<label for="custom-{pk}">{_v(option["label_zh"])}{star}</label>'
            if option["kind"] == "engraving":
                control = (
                    f'<input id="custom-{pk}" name="custom_{pk}"'
                    f' maxlength="{_v(option["max_length"])}"> '
                )
            else:
                values = "".join(
                    f'<option value="{_v(c.get("value_zh", ""))}">{_v(c.get("value_zh", ""))}'
                    "</option>"
                    for c in option["choices"] or ()
                )
                control = (
                    f'<select id="custom-{pk}" name="custom_{pk}"><option value="">—</option>'
                    f"{values}</select>"
                )
            fields.append(f'<div class="field">{label} {control}</div>')
        limit = self.product["per_buyer_limit"] or 99
        return (
            f'<form method="post" action="{action}" class="form add-to-cart"'
            ' data-testid="add-to-cart">'
            f' <input type="hidden" name="csrfmiddlewaretoken" value="{escape(self.csrf_token)}">'
            f' <input type="hidden" name="next" value="{escape(self.path)}">'
            f' <div class="field"><label for="buy-variant">{_t("规格")}</label>'
            f' <select id="buy-variant" name="variant_id">{"".join(choices)}</select></div>'
            f" {' '.join(fields)}"
            f' <div class="field"><label for="buy-qty">{_t("数量")}</label>'
            f'<input id="buy-qty" type="number" name="quantity" min="1" max="{_v(limit)}"'
            ' value="1"></div>'
            f' <button class="btn btn-primary" type="submit"'
            f' data-testid="add-to-cart-button">{_t("加入购物车")}</button> </form>'
        )

    # --- body ---------------------------------------------------------------------------------

    def story(self, reviews: list[Any], rating: Any) -> str:
        p = self.product
        story = self.localized(p, "story")
        out = [
            '<section class="product-story">',
            f'<h2 class="eyebrow">{_t("作品故事")}</h2>',
            f'<div class="story">{linebreaks(story, autoescape=True)}</div>'
            if story
            else '<p class="muted">—</p>',
        ]
        if p["designer_notes"]:
            out.append(
                f'<h2 class="eyebrow">{_t("设计师手记")}</h2>'
                f'<div class="story">{linebreaks(p["designer_notes"], autoescape=True)}</div>'
            )
        out.append(_reviews_html(reviews, rating))
        out.append("</section>")
        return "\n".join(out)

    def shop_card(self) -> str:
        shop = self.shop
        shop_url = escape(reverse("catalog:shop_detail", args=[shop["slug"]]))
        creator_url = escape(reverse("catalog:creator_detail", args=[shop["owner_id"]]))
        if shop["logo"]:
            logo = escape(Shop._meta.get_field("logo").storage.url(shop["logo"]))  # type: ignore[attr-defined]
            mark = (
                f'<img class="shop-mark shop-mark-sm" src="{logo}" alt="" width="96" height="96">'
            )
        else:
            mark = (
                f'<span class="shop-mark shop-mark-sm shop-mark-{_v(shop["shop_type"])}"'
                f' aria-hidden="true">{_v((shop["name_zh"] or "雅").strip()[:1])}</span>'
            )
        label = dict(ShopType.choices).get(shop["shop_type"], shop["shop_type"])
        region = f" {_v(shop['region'])}" if shop["region"] else ""
        return (
            '<aside class="panel creator-card" data-testid="shop-card">'
            f' <h2 class="eyebrow">{_t("出自")}</h2>'
            f' <a class="creator-card-link" href="{shop_url}"> {mark}'
            f' <span class="creator-card-name">{_v(self.localized(shop, "name"))}</span> </a>'
            f' <p class="muted"><span class="type-badge type-{_v(shop["shop_type"])}">'
            f"{_v(label)}</span>\n{region}</p>"
            f' <a class="btn btn-ghost btn-sm btn-block" href="{creator_url}">'
            f"{_t('创作者主页')}</a> </aside>"
        )


def _reviews_html(reviews: list[Any], rating: Any) -> str:
    """trade/partials/product_reviews.html over trade's selectors' results."""
    heading = _t("买家评价")
    if rating.count:
        count = ngettext("%(n)s 条", "%(n)s 条", rating.count) % {"n": _v(rating.count)}
        heading += f" · {_v(rating.average)} ★ · {count}"
    out = [
        '<section class="product-reviews" id="reviews" data-testid="product-reviews">',
        f'<h2 class="eyebrow">{heading}</h2>',
    ]
    for review in reviews:
        out.append(
            f'<article class="order-card"> <p><strong>{_v(review.rating)} ★</strong>'
            f' <span class="muted">{_stamp(review.created_at, "Y-m-d")}</span></p>'
        )
        if review.text:
            text = str(escape(normalize_newlines(review.text))).replace("\n", "<br>")
            out.append(f"<p>{text}</p>")
        photos = list(review.photos.all())
        if photos:
            alt = _t("买家晒图")
            out.append(
                "<p>"
                + "".join(
                    f'<a href="{escape(photo.file.url)}"><img src="{escape(photo.thumb.url)}"'
                    f' alt="{alt}" width="96" loading="lazy"></a> '
                    for photo in photos
                )
                + "</p>"
            )
        if review.reply:
            out.append(f'<p class="muted">{_t("店铺回复：")}{_v(review.reply)}</p>')
        out.append("</article>")
    if not reviews:
        out.append(f'<p class="muted">{_t("还没有评价。")}</p>')
    out.append("</section>")
    return "\n".join(out)


def product_page_html(
    rows: dict[str, Any],
    *,
    reviews: list[Any],
    rating: Any,
    csrf_token: str,
    path: str,
) -> dict[str, SafeString]:
    """The blocks of ``catalog/product_page.html`` (title, extra head, main) as
    ``product_detail.html`` renders them for a listed product."""
    page = _Page(rows, csrf_token=csrf_token, path=path)
    main = (
        '<article class="product-page wrap">\n<div class="product-layout">\n'
        f"{page.gallery()}\n{page.info()}\n</div>\n"
        f'<div class="product-body">\n{page.story(reviews, rating)}\n{page.shop_card()}\n</div>\n'
        "</article>"
    )
    # Every value above went through escape/_v; translations from our own catalogue.
    return {
        "title": mark_safe(page.title()),  # noqa: S308
        "head": mark_safe(page.head()),  # noqa: S308
        "main": mark_safe(main),  # noqa: S308
    }
