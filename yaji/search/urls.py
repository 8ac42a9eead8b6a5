from django.urls import path

from yaji.search import views

app_name = "search"

urlpatterns = [
    path("search/", views.results, name="results"),
    path("search/go/<int:product_id>/", views.click, name="click"),
]
