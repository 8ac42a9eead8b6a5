from django.apps import AppConfig


class DemoConfig(AppConfig):
    name = "yaji.demo"
    label = "demo"
    verbose_name = "Demo world"
