from django.urls import path

from accounts import api

urlpatterns = [
    path("accounts/register/", api.RegisterView.as_view(), name="account-register"),
    path("accounts/me/", api.MeView.as_view(), name="account-me"),
    path("accounts/me/export/", api.MeExportView.as_view(), name="account-export"),
    path("auth/token/", api.TokenView.as_view(), name="auth-token"),
]
