from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "yaji.core"
    label = "core"
    verbose_name = "Core kernel"
