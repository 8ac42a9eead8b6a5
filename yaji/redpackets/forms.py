"""The site's send form: amounts in yuan on the page, integer fen to the services."""

from __future__ import annotations

from decimal import Decimal

from django import forms
from django.utils.translation import gettext_lazy as _

from yaji.redpackets.lucky_split import MAX_COUNT
from yaji.redpackets.models import Audience, Funding, SplitType


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
        label=_("发给谁"),
        # Same-city packets need the browser's location: the API takes them.
        choices=[c for c in Audience.choices if c[0] != Audience.CITY],
        initial=Audience.PUBLIC,
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

    def total_fen(self) -> int:
        return int(self.cleaned_data["total_yuan"] * 100)
