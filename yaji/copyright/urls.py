from django.urls import path

from yaji.copyright import views

app_name = "copyright"

urlpatterns = [
    path("copyright/", views.my_registrations, name="mine"),
    path(
        "copyright/certificates/<int:registration_id>/", views.certificate_page, name="certificate"
    ),
    path(
        "copyright/certificates/<int:registration_id>.json",
        views.certificate_download,
        name="certificate_json",
    ),
    path(
        "copyright/certificates/<int:registration_id>.png",
        views.certificate_image,
        name="certificate_png",
    ),
    path("copyright/verify/", views.verify_page, name="verify"),
    path("copyright/log/", views.log_page, name="log"),
    path("copyright/log/key", views.log_key_text, name="log_key"),
    path("copyright/log/key.json", views.log_key_json, name="log_key_json"),
    path("copyright/review/", views.review_queue, name="review_queue"),
    path("copyright/review/<int:case_id>/", views.review_decide, name="review_decide"),
    path("copyright/p/<str:token>/", views.passport_page, name="passport"),
    path("copyright/passports/", views.my_passports, name="passports_mine"),
    path("copyright/passports/<str:serial>.png", views.passport_qr, name="passport_qr"),
    path("copyright/clones/", views.clone_queue, name="clone_queue"),
    path("copyright/clones/<int:case_id>/", views.clone_decide, name="clone_decide"),
    path("copyright/takedowns/", views.takedown_list, name="takedown_list"),
    path("copyright/takedowns/new/", views.takedown_new, name="takedown_new"),
    path("copyright/takedowns/<int:notice_id>/", views.takedown_detail, name="takedown_detail"),
]
