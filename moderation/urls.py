from django.urls import path

from moderation import api, api_bans

urlpatterns = [
    path("queue/", api.QueueView.as_view(), name="moderation-queue"),
    path(
        "comments/<int:pk>/decision/",
        api.CommentDecisionView.as_view(),
        name="moderation-comment-decision",
    ),
    path(
        "comments/<int:pk>/revisions/",
        api.CommentRevisionsView.as_view(),
        name="moderation-comment-revisions",
    ),
    path(
        "posts/<int:pk>/decision/",
        api.PostDecisionView.as_view(),
        name="moderation-post-decision",
    ),
    path("log/", api.ModerationLogView.as_view(), name="moderation-log"),
    path("bans/", api_bans.BanListView.as_view(), name="moderation-bans"),
    path("bans/<int:pk>/lift/", api_bans.BanLiftView.as_view(), name="moderation-ban-lift"),
]
