"""Stable error codes of search (never rename one; add new ones)."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from yaji.core.errors import ValidationFailed


class SearchValidationFailed(ValidationFailed):
    code = "search_invalid"
    default_message = _("搜索参数无效。")


class QueryTooLong(ValidationFailed):
    code = "search_query_too_long"
    default_message = _("搜索词太长了，请精简后再试。")


class UnknownFacetValue(ValidationFailed):
    code = "search_unknown_facet_value"
    default_message = _("筛选条件不存在。")


class UnknownSort(ValidationFailed):
    code = "search_unknown_sort"
    default_message = _("不支持的排序方式。")


class InvalidPage(ValidationFailed):
    code = "search_invalid_page"
    default_message = _("页码或每页数量超出范围。")
