from django.urls import path

from yaji.payments import views

app_name = "payments"

urlpatterns = [
    path("wallet/", views.wallet, name="wallet"),
    path("wallet/topup/", views.wallet_topup, name="wallet_topup"),
    path("wallet/intents/<str:intent_id>/status/", views.intent_status, name="intent_status"),
    path("pay/sandbox/<str:reference>/", views.sandbox_pay, name="sandbox_pay"),
]
