from django.urls import path

from yaji.trade import views

app_name = "trade"

urlpatterns = [
    path("cart/", views.cart, name="cart"),
    path("cart/add/", views.cart_add, name="cart_add"),
    path("cart/lines/<int:line_id>/", views.cart_line, name="cart_line"),
    path("checkout/", views.checkout, name="checkout"),
    path("addresses/divisions/", views.division_options, name="division_options"),
    path("checkout/<str:checkout_id>/", views.checkout_pay, name="checkout_pay"),
    path("orders/", views.orders, name="orders"),
    path("orders/<str:number>/", views.order_detail, name="order_detail"),
    path("shops/<slug:slug>/orders/", views.shop_orders, name="shop_orders"),
    path("shops/<slug:slug>/shipping/", views.shop_shipping, name="shop_shipping"),
    path("flash-sales/", views.flash_sales, name="flash_sales"),
    path("flash-sales/<int:sale_id>/", views.flash_sale, name="flash_sale"),
    path("shop-orders/<int:order_id>/ship/", views.shop_order_ship, name="shop_order_ship"),
    path("after-sales/<int:after_sale_id>/shop/", views.shop_after_sale, name="shop_after_sale"),
    path("review/disputes/", views.disputes, name="disputes"),
    path("after-sales/photos/<int:photo_id>/", views.after_sale_photo, name="after_sale_photo"),
]
