from django.urls import path

from moderation.desk import views

app_name = "moderation_desk"

urlpatterns = [
    path("", views.desk, name="desk"),
    path("thread/<int:post_id>/", views.thread, name="thread"),
]
