from django.urls import path

from yaji.payments import views

app_name = "payments"

urlpatterns = [
    path("wallet/", views.wallet, name="wallet"),
    path("wallet/topup/", views.wallet_topup, name="wallet_topup"),
    path("wallet/cards/add/", views.wallet_card_add, name="wallet_card_add"),
    path("wallet/cards/<str:card_id>/remove/", views.wallet_card_remove, name="wallet_card_remove"),
    path("wallet/withdraw/", views.wallet_withdraw, name="wallet_withdraw"),
    path("wallet/intents/<str:intent_id>/status/", views.intent_status, name="intent_status"),
    path("wallet/intents/<str:intent_id>/pay/", views.intent_pay, name="intent_pay"),
    path("pay/sandbox/<str:reference>/", views.sandbox_pay, name="sandbox_pay"),
    path("shops/<slug:slug>/finance/", views.shop_finance, name="shop_finance"),
    path("finance/", views.operator_finance, name="finance"),
]
