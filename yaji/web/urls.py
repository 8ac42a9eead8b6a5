from django.urls import path

from yaji.web import views

app_name = "web"

urlpatterns = [
    path("", views.home, name="home"),
    path("account/register/", views.register, name="register"),
    path("account/register/code/", views.register_code, name="register_code"),
    path("account/login/", views.login, name="login"),
    path("account/login/code/", views.login_code, name="login_code"),
    path("account/login/code/send/", views.login_code_send, name="login_code_send"),
    path("account/logout/", views.logout, name="logout"),
    path("account/password/reset/", views.password_reset, name="password_reset"),
    path("account/password/reset/code/", views.password_reset_code, name="password_reset_code"),
    path("account/", views.profile, name="profile"),
    path("account/kyc/", views.kyc, name="kyc"),
    path("account/devices/", views.devices, name="devices"),
    path("account/devices/<int:device_id>/revoke/", views.device_revoke, name="device_revoke"),
    path("account/password/", views.password_change, name="password_change"),
    path("account/audit/", views.audit, name="audit"),
    path("account/export/", views.data_export, name="data_export"),
    path("account/delete/", views.account_delete, name="account_delete"),
]
