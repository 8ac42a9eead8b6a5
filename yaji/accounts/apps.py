from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AccountsConfig(AppConfig):
    name = "yaji.accounts"
    label = "accounts"
    verbose_name = _("账户与信任")

    def ready(self) -> None:
        from yaji.accounts.notifications import notification_subscribers_register
        from yaji.accounts.token_auth import (
            auth_cache_signals_connect,
            token_cache_location,
            token_cached_peek,
        )
        from yaji.core.fastpath import fast_identity_register

        notification_subscribers_register()
        auth_cache_signals_connect()
        fast_identity_register(token_cached_peek, token_cache_location)
