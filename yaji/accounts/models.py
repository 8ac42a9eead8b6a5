"""Identity & trust data: users, codes, devices, tokens, roles, real-name checks, audit."""

from __future__ import annotations

import uuid
from datetime import date

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser, PermissionsMixin
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from yaji.accounts.managers import UserManager
from yaji.core.fields import EncryptedTextField
from yaji.core.masking import mask_email, mask_id_number, mask_name, mask_phone


class Language(models.TextChoices):
    ZH_HANS = "zh-hans", "简体中文"
    EN = "en", "English"


class User(AbstractBaseUser, PermissionsMixin):
    email = models.EmailField(_("电子邮箱"), unique=True, null=True, blank=True)
    # The number itself is encrypted; phone_index (HMAC) makes it findable and unique.
    phone = EncryptedTextField(_("手机号"), null=True, blank=True)
    phone_index = models.CharField(
        max_length=64, unique=True, null=True, blank=True, editable=False
    )
    display_name = models.CharField(_("昵称"), max_length=64, blank=True)
    language = models.CharField(
        _("语言"), max_length=8, choices=Language.choices, default=Language.ZH_HANS
    )
    # Copied from a verified real-name check so the minor status needs no join.
    birth_date = models.DateField(_("出生日期"), null=True, blank=True, editable=False)
    is_staff = models.BooleanField(_("后台人员"), default=False)
    is_active = models.BooleanField(_("有效"), default=True)
    deleted_at = models.DateTimeField(_("注销时间"), null=True, blank=True, editable=False)
    created_at = models.DateTimeField(_("注册时间"), auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = UserManager()

    USERNAME_FIELD = "email"
    REQUIRED_FIELDS: list[str] = []

    class Meta:
        verbose_name = _("用户")
        verbose_name_plural = _("用户")

    def __str__(self) -> str:
        if self.display_name:
            return self.display_name
        if self.email:
            return mask_email(self.email)
        if self.phone:
            return mask_phone(self.phone)
        return f"user-{self.pk}"

    @property
    def phone_masked(self) -> str:
        return mask_phone(self.phone)

    @property
    def email_masked(self) -> str:
        return mask_email(self.email)

    @property
    def is_deleted(self) -> bool:
        return self.deleted_at is not None

    @property
    def age(self) -> int | None:
        from yaji.accounts.selectors import user_age

        return user_age(self)

    @property
    def is_minor(self) -> bool | None:
        """True/False once a real-name check gave a birth date; None while unknown."""
        from yaji.accounts.selectors import user_is_minor

        return user_is_minor(self)


class CodePurpose(models.TextChoices):
    REGISTER = "register", _("注册")
    PASSWORD_RESET = "password_reset", _("重置密码")
    LOGIN = "login", _("验证码登录")


class VerificationCode(models.Model):
    """A one-time code sent to a phone or mailbox; only its keyed hash is kept."""

    target_index = models.CharField(max_length=64, db_index=True)
    channel = models.CharField(max_length=8)  # sms | email
    purpose = models.CharField(max_length=20, choices=CodePurpose.choices)
    code_hash = models.CharField(max_length=64)
    expires_at = models.DateTimeField()
    attempts = models.PositiveSmallIntegerField(default=0)
    consumed_at = models.DateTimeField(null=True, blank=True)
    ip = models.GenericIPAddressField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        indexes = [models.Index(fields=["target_index", "purpose", "-created_at"])]

    def __str__(self) -> str:
        return f"{self.purpose} code #{self.pk} ({self.channel})"


class Device(models.Model):
    """A browser or app install a user signed in from (client device id, else user agent)."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="devices"
    )
    fingerprint = models.CharField(max_length=64)
    label = models.CharField(_("名称"), max_length=100, blank=True)
    user_agent = models.CharField(max_length=512, blank=True)
    last_ip = models.GenericIPAddressField(null=True, blank=True)
    session_key = models.CharField(max_length=64, blank=True, editable=False)
    first_seen_at = models.DateTimeField(auto_now_add=True)
    last_seen_at = models.DateTimeField()
    revoked_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("设备")
        verbose_name_plural = _("设备")
        constraints = [
            models.UniqueConstraint(
                fields=["user", "fingerprint"], name="device_user_fingerprint_uniq"
            )
        ]

    def __str__(self) -> str:
        return self.label or self.user_agent[:40] or f"device-{self.pk}"


class LoginEvent(models.Model):
    """One login attempt, kept whether it succeeded or not."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="login_events",
    )
    identifier_index = models.CharField(max_length=64, db_index=True)
    success = models.BooleanField()
    reason = models.CharField(max_length=32, blank=True)
    ip = models.GenericIPAddressField(null=True, blank=True)
    user_agent = models.CharField(max_length=512, blank=True)
    device = models.ForeignKey(Device, null=True, blank=True, on_delete=models.SET_NULL)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("登录记录")
        verbose_name_plural = _("登录记录")
        indexes = [models.Index(fields=["identifier_index", "success", "-created_at"])]

    def __str__(self) -> str:
        return f"login {'ok' if self.success else self.reason} #{self.pk}"


class TokenKind(models.TextChoices):
    ACCESS = "access", "access"
    REFRESH = "refresh", "refresh"


class ApiToken(models.Model):
    """A bearer token; only its SHA-256 is stored. Pairs rotate within a family."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens"
    )
    device = models.ForeignKey(Device, on_delete=models.CASCADE, related_name="api_tokens")
    family = models.UUIDField(default=uuid.uuid4, db_index=True)
    kind = models.CharField(max_length=8, choices=TokenKind.choices)
    token_hash = models.CharField(max_length=64, unique=True)
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)  # a refresh token is single-use
    revoked_at = models.DateTimeField(null=True, blank=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("API 令牌")
        verbose_name_plural = _("API 令牌")

    def __str__(self) -> str:
        return f"{self.kind} token #{self.pk}"


class Role(models.TextChoices):
    BUYER = "buyer", _("买家")
    CREATOR = "creator", _("创作者")
    MERCHANT_STAFF = "merchant_staff", _("商家员工")
    SUPPLIER = "supplier", _("供应商")
    OPERATOR = "operator", _("运营")
    REVIEWER = "reviewer", _("审核员")
    FINANCE = "finance", _("财务")


SCOPED_ROLES = frozenset({Role.MERCHANT_STAFF})


class RoleAssignment(models.Model):
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="role_assignments"
    )
    role = models.CharField(_("角色"), max_length=20, choices=Role.choices)
    # "" for platform-wide roles, "shop:<id>" for merchant staff.
    scope = models.CharField(_("范围"), max_length=64, blank=True, default="")
    granted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("角色")
        verbose_name_plural = _("角色")
        constraints = [
            models.UniqueConstraint(fields=["user", "role", "scope"], name="role_assignment_uniq")
        ]

    def __str__(self) -> str:
        return f"{self.get_role_display()}{' ' + self.scope if self.scope else ''}"


class KycStatus(models.TextChoices):
    VERIFIED = "verified", _("已认证")
    REJECTED = "rejected", _("未通过")
    ERASED = "erased", _("已删除")


class RealNameVerification(models.Model):
    """One real-name (KYC) attempt. A verified ID belongs to exactly one account."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="kyc_records"
    )
    real_name = EncryptedTextField(_("姓名"), blank=True)
    id_number = EncryptedTextField(_("身份证号"), blank=True)
    id_index = models.CharField(max_length=64, null=True, blank=True, db_index=True, editable=False)
    birth_date = models.DateField(null=True, blank=True)
    status = models.CharField(_("状态"), max_length=10, choices=KycStatus.choices)
    reason_code = models.CharField(max_length=40, blank=True)
    provider = models.CharField(max_length=32)
    provider_ref = models.CharField(max_length=64, blank=True)
    verified_at = models.DateTimeField(null=True, blank=True)
    face_verified_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("实名认证")
        verbose_name_plural = _("实名认证")
        constraints = [
            models.UniqueConstraint(
                fields=["id_index"], condition=Q(status="verified"), name="kyc_verified_id_uniq"
            ),
            models.UniqueConstraint(
                fields=["user"], condition=Q(status="verified"), name="kyc_verified_user_uniq"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.real_name_masked} {self.id_number_masked} ({self.status})"

    @property
    def real_name_masked(self) -> str:
        return mask_name(self.real_name)

    @property
    def id_number_masked(self) -> str:
        return mask_id_number(self.id_number)


class AuditAction(models.TextChoices):
    REGISTER = "register", _("注册")
    LOGIN = "login", _("登录")
    LOGIN_FAILED = "login_failed", _("登录失败")
    LOGOUT = "logout", _("退出")
    PASSWORD_CHANGE = "password_change", _("修改密码")
    PASSWORD_RESET = "password_reset", _("重置密码")
    PROFILE_UPDATE = "profile_update", _("修改资料")
    KYC_SUBMIT = "kyc_submit", _("提交实名认证")
    FACE_VERIFY = "face_verify", _("人脸核验")
    ROLE_GRANT = "role_grant", _("授予角色")
    ROLE_REVOKE = "role_revoke", _("撤销角色")
    TOKEN_REVOKE = "token_revoke", _("注销令牌")
    TOKEN_REUSE = "token_reuse", _("刷新令牌重用")
    DEVICE_REVOKE = "device_revoke", _("移除设备")
    DATA_EXPORT = "data_export", _("导出个人数据")
    ACCOUNT_DELETE = "account_delete", _("注销账号")


class AppendOnlyError(Exception):
    pass


class AuditEntry(models.Model):
    """Append-only record of a sensitive action; written in the same transaction as it."""

    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    action = models.CharField(_("操作"), max_length=32)
    target_user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="audit_about",
    )
    target_type = models.CharField(max_length=40, blank=True)
    target_id = models.CharField(max_length=64, blank=True)
    ip = models.GenericIPAddressField(null=True, blank=True)
    metadata = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("审计日志")
        verbose_name_plural = _("审计日志")
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.action} #{self.pk}"

    def save(self, *args, **kwargs) -> None:  # type: ignore[no-untyped-def]
        # Guard, not business logic: an audit row that could be edited proves nothing.
        if not self._state.adding:
            raise AppendOnlyError("audit entries are append-only")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        raise AppendOnlyError("audit entries are append-only")


def age_on(birth: date, today: date) -> int:
    return today.year - birth.year - ((today.month, today.day) < (birth.month, birth.day))
