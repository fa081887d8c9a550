"""The admin site with the failed-password lockout (``accounts.lockout``) on its login
and password-change pages: a locked sign-in answers 429 with ``Retry-After`` and says
why, and the old password of a password change counts like a sign-in."""

import math

from django.contrib.admin.forms import AdminAuthenticationForm, AdminPasswordChangeForm
from django.contrib.admin.sites import AdminSite
from django.contrib.auth.views import PasswordChangeView
from django.core.exceptions import ValidationError
from django.urls import reverse

from accounts import lockout


class LockoutAuthenticationForm(AdminAuthenticationForm):
    def clean(self):
        try:
            return super().clean()
        except ValidationError:
            wait = lockout.wait_of(self.request) if self.request is not None else None
            if wait is not None:
                raise ValidationError(lockout.message(wait), code="locked_out") from None
            raise


class LockoutPasswordChangeForm(AdminPasswordChangeForm):
    def __init__(self, *args, request=None, **kwargs):
        self.request = request
        super().__init__(*args, **kwargs)

    def clean_old_password(self):
        network = lockout.network_of(self.request)
        username = self.user.get_username()
        wait = lockout.locked_for(username=username, network=network)
        if wait is not None:
            lockout.remember(self.request, wait)
            raise ValidationError(lockout.message(wait), code="locked_out")
        old_password = self.cleaned_data["old_password"]
        if not self.user.check_password(old_password):
            wait = lockout.failed(username=username, network=network)
            if wait is not None:  # this failure started a lockout
                lockout.remember(self.request, wait)
                raise ValidationError(lockout.message(wait), code="locked_out")
            raise ValidationError(
                self.error_messages["password_incorrect"], code="password_incorrect"
            )
        return old_password


class _LockoutPasswordChangeView(PasswordChangeView):
    form_class = LockoutPasswordChangeForm

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "request": self.request}


def _locked_status(request, response):
    wait = lockout.wait_of(request)
    if wait is not None:
        response.status_code = 429
        response["Retry-After"] = str(math.ceil(wait))
    return response


class ForumAdminSite(AdminSite):
    login_form = LockoutAuthenticationForm

    def login(self, request, extra_context=None):
        return _locked_status(request, super().login(request, extra_context))

    def password_change(self, request, extra_context=None):
        defaults = {
            "success_url": reverse("admin:password_change_done", current_app=self.name),
            "extra_context": {**self.each_context(request), **(extra_context or {})},
        }
        if self.password_change_template is not None:
            defaults["template_name"] = self.password_change_template
        request.current_app = self.name
        response = _LockoutPasswordChangeView.as_view(**defaults)(request)
        return _locked_status(request, response)
