"""Site forms of moderation: input shape only; services decide."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _


class ReasonForm(forms.Form):
    reason = forms.CharField(
        label=_("原因"), max_length=500, widget=forms.Textarea(attrs={"rows": 2})
    )


class DecisionForm(forms.Form):
    decision = forms.ChoiceField(choices=[("approve", _("通过")), ("block", _("屏蔽"))])
    reason = forms.CharField(label=_("屏蔽原因"), max_length=500, required=False)


class ReportForm(forms.Form):
    kind = forms.CharField(max_length=50)
    object_id = forms.IntegerField(min_value=1, max_value=2**63 - 1)
    reason = forms.CharField(label=_("举报原因"), max_length=500)
    next = forms.CharField(max_length=500, required=False)
