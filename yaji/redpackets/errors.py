"""Stable error codes of red packets. Codes are public: never rename one, add a new one."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from yaji.core.errors import ApplicationError


class PacketCountInvalid(ApplicationError):
    code = "packet_count_invalid"
    status = 400
    default_message = _("红包个数必须在 1 到 200 之间。")


class PacketAmountTooSmall(ApplicationError):
    code = "packet_amount_too_small"
    status = 400
    default_message = _("每个红包至少 0.01 元。")


class PacketAmountOutOfRange(ApplicationError):
    code = "packet_amount_out_of_range"
    status = 400
    default_message = _("红包金额超出允许范围。")


class PacketInvalid(ApplicationError):
    code = "packet_invalid"
    status = 400
    default_message = _("红包参数无效。")


class PacketNotFound(ApplicationError):
    code = "packet_not_found"
    status = 404
    default_message = _("找不到该红包。")


class PacketForbidden(ApplicationError):
    code = "packet_forbidden"
    status = 403
    default_message = _("这个红包不对您开放。")


class PacketExpired(ApplicationError):
    code = "packet_expired"
    status = 410
    default_message = _("红包已过期。")


class PacketFinished(ApplicationError):
    code = "packet_finished"
    status = 409
    default_message = _("手慢了，红包已被抢完。")


class PacketAlreadyClaimed(ApplicationError):
    code = "packet_already_claimed"
    status = 409
    default_message = _("您已经抢过这个红包了。")


class ListenRequired(ApplicationError):
    code = "listen_required"
    status = 403
    default_message = _("请先完整听完作品再抢红包。")


class LocationInvalid(ApplicationError):
    code = "location_invalid"
    status = 400
    default_message = _("位置无效。")


class LocationRequired(ApplicationError):
    code = "location_required"
    status = 400
    default_message = _("同城红包需要提供位置。")


class OutOfRadius(ApplicationError):
    code = "out_of_radius"
    status = 403
    default_message = _("您不在这个同城红包的范围内。")


class FollowersOnly(ApplicationError):
    code = "followers_only"
    status = 403
    default_message = _("这个红包只给发送者的粉丝。")


class GiftNotFound(ApplicationError):
    code = "gift_not_found"
    status = 404
    default_message = _("找不到该礼物。")


class GiftInvalid(ApplicationError):
    code = "gift_invalid"
    status = 400
    default_message = _("礼物参数无效。")


class GiftToSelf(ApplicationError):
    code = "gift_to_self"
    status = 400
    default_message = _("不能给自己的作品送礼物。")


class AudienceUnreachable(ApplicationError):
    code = "audience_unreachable"
    status = 400
    default_message = _("这个红包的对象无法送达（例如还没有粉丝）。")


class BlessingRejected(ApplicationError):
    code = "blessing_rejected"
    status = 400
    default_message = _("祝福语包含不允许的内容，请修改后再发。")


class PacketPendingPayment(ApplicationError):
    code = "packet_pending_payment"
    status = 409
    default_message = _("这个红包还在等待付款，付款到账后才能抢。")


class PacketCancelled(ApplicationError):
    code = "packet_cancelled"
    status = 410
    default_message = _("这个红包未在期限内付款，已取消。")


class PacketNotPayable(ApplicationError):
    code = "packet_not_payable"
    status = 409
    default_message = _("这个红包已不能付款（已付款、已取消或已过付款期限）。")


class FundingInvalid(ApplicationError):
    code = "funding_invalid"
    status = 400
    default_message = _("付款方式无效：请选择钱包或在线支付。")
