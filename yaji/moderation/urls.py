from django.urls import path

from yaji.moderation import views

app_name = "moderation"

urlpatterns = [
    path("moderation/queue/", views.queue, name="queue"),
    path("moderation/items/<int:item_id>/", views.item_review, name="item"),
    path("moderation/mine/", views.mine, name="mine"),
    path("moderation/report/", views.report, name="report"),
]
