"""Site forms: input shape only. Business rules (strength, codes, lockouts, KYC) live in the
accounts services; their :class:`ApplicationError` s come back here as form errors."""

from __future__ import annotations

from typing import ClassVar

from django import forms
from django.utils.translation import gettext_lazy as _

from yaji.core.errors import ApplicationError
from yaji.web.reasons import kyc_reason_label


class ServiceErrorsMixin:
    """Show an :class:`ApplicationError` on the field it concerns, or on the whole form."""

    error_fields: ClassVar[dict[str, str]] = {}

    def add_application_error(self, exc: ApplicationError) -> None:
        field = self.error_fields.get(exc.code)
        errors = [str(exc.message)]
        # Password validators explain themselves in extra.reasons; KYC gives a reason code.
        errors += [str(reason) for reason in exc.extra.get("reasons", [])]
        if exc.extra.get("reason_code"):
            errors.append(kyc_reason_label(exc.extra["reason_code"]))
        self.add_error(field, errors)  # type: ignore[attr-defined]  # mixed into forms.Form


class SendCodeForm(ServiceErrorsMixin, forms.Form):
    identifier = forms.CharField(label=_("手机号或邮箱"), max_length=254, strip=True)

    error_fields = {"invalid_identifier": "identifier", "identifier_taken": "identifier"}


class RegisterForm(ServiceErrorsMixin, forms.Form):
    identifier = forms.CharField(
        label=_("手机号或邮箱"),
        max_length=254,
        help_text=_("中国大陆手机号或电子邮箱，用于登录和接收验证码。"),
        widget=forms.TextInput(attrs={"autocomplete": "username", "inputmode": "email"}),
    )
    code = forms.CharField(
        label=_("验证码"),
        max_length=8,
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "numeric"}),
    )
    display_name = forms.CharField(
        label=_("昵称"),
        max_length=64,
        required=False,
        help_text=_("展示给其他人看的名字，可以稍后再改。"),
        widget=forms.TextInput(attrs={"autocomplete": "nickname"}),
    )
    password = forms.CharField(
        label=_("密码"),
        strip=False,
        max_length=128,
        help_text=_("至少 8 位，不要只用数字或常见密码。"),
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )
    password_confirm = forms.CharField(
        label=_("确认密码"),
        strip=False,
        max_length=128,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )

    error_fields = {
        "invalid_identifier": "identifier",
        "identifier_taken": "identifier",
        "code_invalid": "code",
        "code_expired": "code",
        "weak_password": "password",
    }

    def clean(self) -> dict:
        data = super().clean()
        if data.get("password") and data.get("password") != data.get("password_confirm"):
            self.add_error("password_confirm", _("两次输入的密码不一致。"))
        return data


class LoginForm(ServiceErrorsMixin, forms.Form):
    identifier = forms.CharField(
        label=_("手机号或邮箱"),
        max_length=254,
        widget=forms.TextInput(attrs={"autocomplete": "username", "autofocus": True}),
    )
    password = forms.CharField(
        label=_("密码"),
        strip=False,
        max_length=128,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )

    error_fields = {"invalid_identifier": "identifier"}


class LoginCodeForm(ServiceErrorsMixin, forms.Form):
    identifier = forms.CharField(
        label=_("手机号或邮箱"),
        max_length=254,
        help_text=_("注册时使用的手机号或电子邮箱，验证码会发送到这里。"),
        widget=forms.TextInput(attrs={"autocomplete": "username", "inputmode": "email"}),
    )
    code = forms.CharField(
        label=_("验证码"),
        max_length=8,
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "numeric"}),
    )

    error_fields = {"invalid_identifier": "identifier"}


class PasswordResetForm(ServiceErrorsMixin, forms.Form):
    identifier = forms.CharField(
        label=_("手机号或邮箱"),
        max_length=254,
        help_text=_("注册时使用的手机号或电子邮箱，验证码会发送到这里。"),
        widget=forms.TextInput(attrs={"autocomplete": "username", "inputmode": "email"}),
    )
    code = forms.CharField(
        label=_("验证码"),
        max_length=8,
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "numeric"}),
    )
    new_password = forms.CharField(
        label=_("新密码"),
        strip=False,
        max_length=128,
        help_text=_("至少 8 位，不要只用数字或常见密码。"),
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )
    new_password_confirm = forms.CharField(
        label=_("确认新密码"),
        strip=False,
        max_length=128,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )

    error_fields = {
        "invalid_identifier": "identifier",
        "code_invalid": "code",
        "code_expired": "code",
        "weak_password": "new_password",
    }

    def clean(self) -> dict:
        data = super().clean()
        if data.get("new_password") and data.get("new_password") != data.get(
            "new_password_confirm"
        ):
            self.add_error("new_password_confirm", _("两次输入的密码不一致。"))
        return data


class KycForm(ServiceErrorsMixin, forms.Form):
    real_name = forms.CharField(
        label=_("真实姓名"),
        max_length=40,
        widget=forms.TextInput(attrs={"autocomplete": "name"}),
    )
    id_number = forms.CharField(
        label=_("居民身份证号码"),
        max_length=18,
        min_length=18,
        help_text=_("18 位，末位可能是 X。号码加密保存，页面上只显示首尾几位。"),
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
    )

    error_fields = {"invalid_id_number": "id_number", "invalid_real_name": "real_name"}

    def clean_id_number(self) -> str:
        return self.cleaned_data["id_number"].strip().upper()


class PasswordChangeForm(ServiceErrorsMixin, forms.Form):
    old_password = forms.CharField(
        label=_("当前密码"),
        strip=False,
        max_length=128,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )
    new_password = forms.CharField(
        label=_("新密码"),
        strip=False,
        max_length=128,
        help_text=_("至少 8 位，不要只用数字或常见密码。"),
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )
    new_password_confirm = forms.CharField(
        label=_("确认新密码"),
        strip=False,
        max_length=128,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )

    error_fields = {"invalid_credentials": "old_password", "weak_password": "new_password"}

    def clean(self) -> dict:
        data = super().clean()
        if data.get("new_password") and data.get("new_password") != data.get(
            "new_password_confirm"
        ):
            self.add_error("new_password_confirm", _("两次输入的密码不一致。"))
        return data


class AccountDeleteForm(ServiceErrorsMixin, forms.Form):
    password = forms.CharField(
        label=_("当前密码"),
        strip=False,
        max_length=128,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )
    confirm = forms.BooleanField(
        label=_("我已了解：账户注销后无法恢复。"),
    )

    error_fields = {"invalid_credentials": "password"}
