from django.urls import path

from yaji.redpackets import views

app_name = "redpackets"

urlpatterns = [
    path("red-packets/new/", views.packet_send, name="send"),
    path("red-packets/<int:packet_id>/", views.packet_page, name="packet"),
    path("red-packets/<int:packet_id>/grab/", views.packet_grab, name="grab"),
    path("red-packets/<int:packet_id>/card/", views.packet_card, name="card"),
    path("me/red-packets/", views.my_packets, name="mine"),
    path("works/<int:work_id>/gifts/send/", views.gift_send_view, name="gift_send"),
    path("ops/red-packets/analytics/", views.analytics, name="analytics"),
]
