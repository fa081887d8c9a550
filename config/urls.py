from django.contrib import admin
from django.urls import include, path
from django.views.generic import RedirectView

from forum.api.root import ApiRootView

# The admin's "View site" leads to the API root.
admin.site.site_url = "/api/"

urlpatterns = [
    path("", RedirectView.as_view(url="/api/", permanent=False), name="home"),
    # The forum's API first: its thread page is the most requested URL, and every
    # pattern tried before it costs each request (no other pattern overlaps these).
    path("api/", include("forum.api.urls")),
    # The moderators' desk: a page of the admin site (before the admin's own URLs).
    path("admin/moderation/desk/", include("moderation.desk.urls")),
    path("admin/", admin.site.urls),
    path("api/", ApiRootView.as_view(), name="api-root"),
    path("api/", include("accounts.urls")),
    path("api/moderation/", include("moderation.urls")),
    path("notify/", include("notifications.urls")),
    path("feeds/", include("forum.feeds")),
]

# Under /api/, errors Django answers itself (no URL matched, ...) are JSON too
# (and forum.api.middleware.JsonErrorsMiddleware makes them so when DEBUG is on).
handler400 = "forum.api.error_handlers.bad_request"
handler404 = "forum.api.error_handlers.not_found"
handler500 = "forum.api.error_handlers.server_error"
