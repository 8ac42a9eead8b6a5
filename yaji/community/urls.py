from django.urls import path

from yaji.community import views

app_name = "community"

urlpatterns = [
    path("works/new/", views.work_new, name="work_new"),
    path("works/<int:work_id>/", views.work_play, name="work_play"),
]
