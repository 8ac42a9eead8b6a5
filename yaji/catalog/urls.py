from django.urls import path

from yaji.catalog import views

app_name = "catalog"

urlpatterns = [
    path("shops/", views.shop_list, name="shop_list"),
    path("shops/apply/", views.shop_apply, name="shop_apply"),
    path("shops/mine/", views.my_shops, name="my_shops"),
    path("shops/documents/<int:document_id>/", views.document_download, name="document_download"),
    path("shops/<slug:slug>/", views.shop_detail, name="shop_detail"),
    path("shops/<slug:slug>/staff/", views.shop_staff, name="shop_staff"),
    path(
        "shops/<slug:slug>/staff/<int:membership_id>/remove/",
        views.shop_staff_remove,
        name="shop_staff_remove",
    ),
    path("review/shops/", views.review_queue, name="review_queue"),
    path("review/shops/<int:application_id>/", views.review_decide, name="review_decide"),
    path("creators/me/", views.creator_profile_edit, name="creator_profile_edit"),
    path("creators/<int:user_id>/", views.creator_detail, name="creator_detail"),
]

urlpatterns += [
    path("shops/<slug:slug>/products/", views.shop_products, name="shop_products"),
    path("shops/<slug:slug>/products/new/", views.product_new, name="product_new"),
    path("products/<int:product_id>/", views.product_detail, name="product_detail"),
    path("products/<int:product_id>/edit/", views.product_edit, name="product_edit"),
    path(
        "products/<int:product_id>/images/<int:image_id>/<str:size>.webp",
        views.product_image,
        name="product_image",
    ),
    path(
        "products/<int:product_id>/video/<int:media_id>.<str:ext>",
        views.product_video,
        name="product_video",
    ),
    path(
        "products/<int:product_id>/model/<int:media_id>.<str:ext>",
        views.product_model,
        name="product_model",
    ),
    path(
        "products/<int:product_id>/digital-file/",
        views.digital_file_managed,
        name="digital_file_managed",
    ),
    path("downloads/<str:token>/", views.digital_download, name="digital_download"),
    path("review/products/", views.product_review_queue, name="product_review_queue"),
    path(
        "review/products/<int:product_id>/",
        views.product_review_decide,
        name="product_review_decide",
    ),
]

urlpatterns += [
    path("categories/", views.category_tree, name="category_tree"),
    path("categories/<slug:slug>/", views.category_detail, name="category_detail"),
]
