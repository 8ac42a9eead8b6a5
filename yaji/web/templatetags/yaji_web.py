from django import template

from yaji.web import reasons

register = template.Library()


@register.filter
def kyc_reason(code: str) -> str:
    """``{{ kyc.reason_code|kyc_reason }}`` → the translated reason a check failed."""
    return reasons.kyc_reason_label(code)


@register.filter
def audit_action(action: str) -> str:
    """``{{ entry.action|audit_action }}`` → the translated name of an audited action."""
    return reasons.audit_action_label(action)
