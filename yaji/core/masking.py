"""How personal identifiers are shown to anyone but their owner: masked, everywhere."""

from __future__ import annotations


def mask_phone(phone: str | None) -> str:
    """``13812345678`` → ``138****5678``."""
    if not phone:
        return ""
    digits = phone.strip()
    if len(digits) < 7:
        return "*" * len(digits)
    return f"{digits[:3]}{'*' * (len(digits) - 7)}{digits[-4:]}"


def mask_id_number(id_number: str | None) -> str:
    """``110101199003071234`` → ``1101**********1234``."""
    if not id_number:
        return ""
    value = id_number.strip()
    if len(value) <= 8:
        return "*" * len(value)
    return f"{value[:4]}{'*' * (len(value) - 8)}{value[-4:]}"


def mask_bank_card(card_number: str | None) -> str:
    """``6222021234567891234`` → ``**** **** **** 1234``."""
    if not card_number:
        return ""
    digits = "".join(ch for ch in card_number if ch.isdigit())
    if len(digits) < 4:
        return "****"
    return f"**** **** **** {digits[-4:]}"


def mask_email(email: str | None) -> str:
    """``zhang.san@example.com`` → ``z***@example.com``."""
    if not email:
        return ""
    local, at, domain = email.partition("@")
    if not at:
        return mask_phone(email)
    return f"{local[:1]}***@{domain}"


def mask_name(name: str | None) -> str:
    """``张三丰`` → ``*三丰``; ``Li Lei`` → ``*i Lei`` (the family name is hidden)."""
    if not name:
        return ""
    if len(name) == 1:
        return "*"
    return "*" + name[1:]
