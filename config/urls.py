from django.contrib import admin
from django.urls import include, path

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/", include("accounts.urls")),
    path("api/moderation/", include("moderation.urls")),
    path("api/", include("forum.api.urls")),
    path("notify/", include("notifications.urls")),
    path("feeds/", include("forum.feeds")),
]

# Under /api/, errors Django answers itself (no URL matched, ...) are JSON too.
handler400 = "forum.api.error_handlers.bad_request"
handler404 = "forum.api.error_handlers.not_found"
handler500 = "forum.api.error_handlers.server_error"
