from django.contrib import admin
from django.urls import include, path

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/", include("accounts.urls")),
    path("api/moderation/", include("moderation.urls")),
    path("api/", include("forum.api.urls")),
]
