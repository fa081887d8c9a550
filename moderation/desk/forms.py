"""The desk's filter form (kind, reason, blog, post, order, page)."""

from django import forms

from forum.api.filters import MAX_ID
from moderation import cards


class DeskFilters(forms.Form):
    kind = forms.ChoiceField(choices=[("", "Any kind"), *cards.DESK_KINDS.items()], required=False)
    reason = forms.ChoiceField(
        choices=[("", "Any reason"), *cards.REASON_FILTERS.items()], required=False
    )
    blog = forms.ChoiceField(required=False)
    post = forms.TypedChoiceField(required=False, coerce=int, empty_value=None)
    order = forms.ChoiceField(choices=list(cards.ORDERS.items()), required=False)
    page = forms.IntegerField(required=False, min_value=1, max_value=MAX_ID)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["blog"].choices = [("", "Any blog"), *cards.desk_blogs()]
        posts = cards.desk_posts()
        chosen = self.data.get("post")
        self.fields["post"].choices = [("", "Any post"), *((str(pk), t) for pk, t in posts)]
        # A post no longer waiting stays choosable (a filter kept across decisions).
        known = {str(pk) for pk, _ in posts}
        number = chosen and chosen.isascii() and chosen.isdigit() and int(chosen) <= MAX_ID
        if number and chosen not in known:
            self.fields["post"].choices.append((chosen, "The chosen post (nothing waits)"))

    def entries_filters(self) -> dict:
        data = self.cleaned_data
        return {
            "kind": data["kind"] or None,
            "reason": data["reason"] or None,
            "blog": data["blog"] or None,
            "post": data["post"],
            "order": data["order"] or "oldest",
        }
