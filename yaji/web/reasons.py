"""Words for the stable codes the accounts app stores (KYC reasons, audit actions).

The codes are data; how a page says them is the storefront's business, so the translated
labels live here rather than in the services.
"""

from __future__ import annotations

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from yaji.accounts.models import AuditAction

KYC_REASON_LABELS: dict[str, str | Promise] = {
    "name_mismatch": _("姓名与身份证号码不一致。"),
    "id_not_found": _("查无此身份证号码，请核对后重试。"),
    "invalid_id_number": _("身份证号码无效。"),
    "invalid_name": _("姓名格式不正确。"),
}


def kyc_reason_label(code: str) -> str:
    if not code:
        return ""
    return str(KYC_REASON_LABELS.get(code, _("信息核验未通过，请检查后重新提交。")))


def audit_action_label(action: str) -> str:
    try:
        return str(AuditAction(action).label)
    except ValueError:
        return action
