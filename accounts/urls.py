from django.urls import path

from accounts import api

urlpatterns = [
    path("accounts/register/", api.RegisterView.as_view(), name="account-register"),
    path("accounts/me/", api.MeView.as_view(), name="account-me"),
    path("accounts/me/export/", api.MeExportView.as_view(), name="account-export"),
    path("accounts/me/replies/", api.MyRepliesView.as_view(), name="account-replies"),
    path("auth/token/", api.TokenView.as_view(), name="auth-token"),
    path("users/<str:username>/", api.ProfileView.as_view(), name="user-profile"),
    path(
        "users/<str:username>/comments/",
        api.ProfileCommentsView.as_view(),
        name="user-comments",
    ),
]
