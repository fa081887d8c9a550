import datetime
import io

import pytest
from django.core.management import call_command
from django.utils import timezone
from rest_framework.test import APIClient

from forum.models import Comment, Post, PostStatus
from forum.permissions import is_moderator
from tests.factories import BlogFactory, PostFactory

pytestmark = pytest.mark.django_db


def test_demo_setup_creates_a_moderator_whose_printed_login_works():
    out = io.StringIO()
    call_command("demo_setup", stdout=out)
    lines = dict(
        line.strip().split(": ", 1) for line in out.getvalue().splitlines() if ": " in line
    )
    client = APIClient()
    response = client.post(
        "/api/auth/token/",
        {"username": lines["username"], "password": lines["password"]},
        format="json",
    )
    assert response.status_code == 200
    client.credentials(HTTP_AUTHORIZATION=f"Token {response.json()['token']}")
    assert client.get("/api/accounts/me/").json()["is_moderator"] is True


def test_demo_setup_can_run_twice_and_resets_the_password(django_user_model):
    call_command("demo_setup", password="first pass phrase 1", stdout=io.StringIO())
    call_command("demo_setup", password="second pass phrase 2", stdout=io.StringIO())
    user = django_user_model.objects.get(username="moderator")
    assert user.check_password("second pass phrase 2")
    assert is_moderator(user) and user.is_staff
    assert django_user_model.objects.count() == 1


def test_demo_setup_opens_the_admin_to_the_moderator(client):
    call_command("demo_setup", password="desk pass phrase 3", stdout=io.StringIO())
    assert client.login(username="moderator", password="desk pass phrase 3")
    assert client.get("/admin/").status_code == 200


@pytest.mark.moderation_policy
def test_demo_setup_leaves_items_in_the_queue_once(moderator_client):
    blog = BlogFactory(slug="on-probation")
    PostFactory(blog=blog, published_at=timezone.now() - datetime.timedelta(days=3))
    newest = PostFactory(blog=blog)
    for _ in range(2):
        call_command("demo_setup", password="queue pass phrase 4", stdout=io.StringIO())

    queue = moderator_client.get("/api/moderation/queue/").json()["results"]
    comments = [item for item in queue if item["kind"] == "comment"]
    assert {item["post"]["id"] for item in comments} == {newest.pk}
    assert sorted(tuple(item["reasons"]) for item in comments) == [
        ("anonymous", "links"),
        ("first_post", "watched_word:guaranteed"),
        ("flagged",),
    ]
    [flagged] = [item for item in comments if item["reasons"] == ["flagged"]]
    assert flagged["flag_count"] == 3
    [guest] = [item for item in queue if item["kind"] == "post"]
    assert Post.objects.get(pk=guest["id"]).status == PostStatus.PENDING


def test_demo_setup_without_the_seed_blog_says_so():
    out = io.StringIO()
    call_command("demo_setup", password="lonely pass phrase 5", stdout=out)
    assert "run import_seeds first" in out.getvalue()
    assert not Comment.objects.exists()
