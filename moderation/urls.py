from django.urls import path

from moderation import api

urlpatterns = [
    path("queue/", api.QueueView.as_view(), name="moderation-queue"),
    path(
        "comments/<int:pk>/decision/",
        api.CommentDecisionView.as_view(),
        name="moderation-comment-decision",
    ),
    path(
        "posts/<int:pk>/decision/",
        api.PostDecisionView.as_view(),
        name="moderation-post-decision",
    ),
    path("log/", api.ModerationLogView.as_view(), name="moderation-log"),
]
