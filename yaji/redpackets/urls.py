from django.urls import path

from yaji.redpackets import views

app_name = "redpackets"

urlpatterns = [
    path("red-packets/<int:packet_id>/", views.packet_page, name="packet"),
    path("red-packets/<int:packet_id>/grab/", views.packet_grab, name="grab"),
]
