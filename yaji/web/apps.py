from django.apps import AppConfig


class WebConfig(AppConfig):
    name = "yaji.web"
    label = "web"
    verbose_name = "Storefront"
