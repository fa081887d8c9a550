from django.urls import path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from forum.api import views

urlpatterns: list = [
    # The thread first: the most requested URL (config/urls.py).
    path("posts/<int:pk>/comments/", views.PostThreadView.as_view(), name="post-thread"),
    path("blogs/", views.BlogListView.as_view(), name="blog-list"),
    path("blogs/<slug:slug>/", views.BlogDetailView.as_view(), name="blog-detail"),
    path("posts/", views.PostListView.as_view(), name="post-list"),
    path("posts/<int:pk>/", views.PostDetailView.as_view(), name="post-detail"),
    path("comments/", views.CommentListView.as_view(), name="comment-list"),
    path("comments/<int:pk>/", views.CommentDetailView.as_view(), name="comment-detail"),
    path("comments/<int:pk>/flag/", views.CommentFlagView.as_view(), name="comment-flag"),
    path("comments/<int:pk>/vote/", views.CommentVoteView.as_view(), name="comment-vote"),
    path("comments/<int:pk>/context/", views.CommentContextView.as_view(), name="comment-context"),
    path("posts/<int:pk>/my-votes/", views.PostMyVotesView.as_view(), name="post-my-votes"),
    path("guest-posts/", views.GuestPostCreateView.as_view(), name="guest-post-create"),
    path("guest-posts/<int:pk>/", views.GuestPostDetailView.as_view(), name="guest-post-detail"),
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    # No OPTIONS metadata for the HTML page (its renderer has no template for it: 405).
    path(
        "docs/",
        SpectacularSwaggerView.as_view(url_name="schema", metadata_class=None),
        name="docs",
    ),
]
