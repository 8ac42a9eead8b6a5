"""The site's send form: amounts in yuan on the page, integer fen to the services."""

from __future__ import annotations

from decimal import Decimal

from django import forms
from django.utils.translation import gettext_lazy as _

from yaji.redpackets.lucky_split import MAX_COUNT
from yaji.redpackets.models import Audience, Funding, SplitType

RADIUS_KM = (1, 3, 5, 10, 50)  # within the service's 500 m – 50 km


class SendForm(forms.Form):
    total_yuan = forms.DecimalField(
        label=_("总金额（元）"),
        min_value=Decimal("0.01"),
        max_digits=9,
        decimal_places=2,
        widget=forms.NumberInput(attrs={"step": "0.01", "inputmode": "decimal"}),
    )
    count = forms.IntegerField(label=_("红包个数"), min_value=1, max_value=MAX_COUNT, initial=5)
    split_type = forms.ChoiceField(
        label=_("类型"),
        choices=SplitType.choices,
        initial=SplitType.LUCKY,
        widget=forms.RadioSelect,
    )
    blessing = forms.CharField(
        label=_("祝福语"),
        max_length=60,
        required=False,
        widget=forms.TextInput(attrs={"placeholder": _("恭喜发财，大吉大利")}),
    )
    audience = forms.ChoiceField(
        label=_("发给谁"), choices=Audience.choices, initial=Audience.PUBLIC
    )
    # Same city: the sender's location (the browser's, filled in by send_city.js, or typed)
    # and a radius; only the geohash cell of it is stored with the packet.
    lat = forms.FloatField(
        label=_("纬度"),
        required=False,
        min_value=-90,
        max_value=90,
        widget=forms.NumberInput(attrs={"step": "any", "inputmode": "decimal"}),
    )
    lng = forms.FloatField(
        label=_("经度"),
        required=False,
        min_value=-180,
        max_value=180,
        widget=forms.NumberInput(attrs={"step": "any", "inputmode": "decimal"}),
    )
    radius_km = forms.TypedChoiceField(
        label=_("范围"),
        choices=[(km, _("%(km)s 公里内") % {"km": km}) for km in RADIUS_KM],
        coerce=int,
        initial=5,
        required=False,
    )
    funding = forms.ChoiceField(
        label=_("付款方式"),
        choices=Funding.choices,
        initial=Funding.WALLET,
        widget=forms.RadioSelect,
    )
    use_wallet = forms.BooleanField(label=_("在线支付时先用钱包余额抵扣"), required=False)
    work = forms.IntegerField(required=False, widget=forms.HiddenInput, min_value=1)
    listened_full = forms.BooleanField(label=_("听完作品才能抢"), required=False)
    nonce = forms.CharField(max_length=80, widget=forms.HiddenInput)

    def clean(self) -> dict:
        data = super().clean()
        if data.get("audience") == Audience.CITY:
            if data.get("lat") is None or data.get("lng") is None:
                self.add_error("lat", _("同城红包需要您的位置：请点“使用我的位置”，或填写经纬度。"))
            if not data.get("radius_km"):
                data["radius_km"] = 5
        return data

    def radius_m(self) -> int | None:
        km = self.cleaned_data.get("radius_km")
        return km * 1000 if km else None

    def total_fen(self) -> int:
        return int(self.cleaned_data["total_yuan"] * 100)
