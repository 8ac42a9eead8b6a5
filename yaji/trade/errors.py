"""Stable error codes of trade. Codes are public: never rename one, add a new one."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from yaji.core.errors import ApplicationError


class CartEmpty(ApplicationError):
    code = "cart_empty"
    status = 400
    default_message = _("购物车是空的。")


class InvalidQuantity(ApplicationError):
    code = "invalid_quantity"
    status = 400
    default_message = _("数量必须是 1 到 99 之间的整数。")


class ProductUnavailable(ApplicationError):
    code = "product_unavailable"
    status = 409
    default_message = _("商品已下架或不存在。")


class InsufficientStock(ApplicationError):
    code = "insufficient_stock"
    status = 409
    default_message = _("库存不足。")


class PerBuyerLimitExceeded(ApplicationError):
    code = "per_buyer_limit_exceeded"
    status = 409
    default_message = _("超过每人限购数量。")


class InvalidAddress(ApplicationError):
    code = "invalid_address"
    status = 400
    default_message = _("收货地址不完整或无效。")


class AddressRequired(ApplicationError):
    code = "address_required"
    status = 400
    default_message = _("请选择收货地址。")


class ShippingOptionUnavailable(ApplicationError):
    code = "shipping_option_unavailable"
    status = 400
    default_message = _("该店铺不提供这种配送方式。")


class ShippingUnavailable(ApplicationError):
    code = "shipping_unavailable"
    status = 409
    default_message = _("该店铺不配送到这个国家或地区。")


class CheckoutNotPayable(ApplicationError):
    code = "checkout_not_payable"
    status = 409
    default_message = _("该订单已支付、已取消或已超时。")


class OrderStateInvalid(ApplicationError):
    code = "order_state_invalid"
    status = 409
    default_message = _("订单当前状态不允许这个操作。")


class InvalidShipment(ApplicationError):
    code = "invalid_shipment"
    status = 400
    default_message = _("请填写承运商和运单号。")


class InvalidCarrierCallback(ApplicationError):
    code = "invalid_carrier_callback"
    status = 400
    default_message = _("物流回调无效：签名、时间或内容不对。")


class ReviewNotAllowed(ApplicationError):
    code = "review_not_allowed"
    status = 409
    default_message = _("只有已完成订单的买家可以评价这件商品，每件只评价一次。")


class InvalidReview(ApplicationError):
    code = "invalid_review"
    status = 400
    default_message = _("评分须为 1 到 5 星，评价最多 1000 字、9 张图片。")


class ReplyNotAllowed(ApplicationError):
    code = "reply_not_allowed"
    status = 409
    default_message = _("这条评价已经回复过了。")


class FlashSaleSoldOut(ApplicationError):
    code = "flash_sale_sold_out"
    status = 409
    default_message = _("秒杀商品已抢光。")


class InvalidFlashSale(ApplicationError):
    code = "invalid_flash_sale"
    status = 400
    default_message = _("秒杀设置无效：时间、价格或库存不对。")


class AfterSaleNotAllowed(ApplicationError):
    code = "after_sale_not_allowed"
    status = 409
    default_message = _("当前订单或售后状态不允许这个操作。")


class InvalidAfterSale(ApplicationError):
    code = "invalid_after_sale"
    status = 400
    default_message = _("售后申请无效：请填写原因，退款金额不超过实付金额。")


class UnknownDivision(ApplicationError):
    code = "unknown_division"
    status = 400
    default_message = _("该省、市、区县不存在，请从列表中选择。")


class InvalidShippingTemplate(ApplicationError):
    code = "invalid_shipping_template"
    status = 400
    default_message = _("运费设置无效：金额须为不超过一千万元的非负数，最多两位小数。")
