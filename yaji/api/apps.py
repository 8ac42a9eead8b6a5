from django.apps import AppConfig


class ApiConfig(AppConfig):
    name = "yaji.api"
    label = "api"
    verbose_name = "REST API"
