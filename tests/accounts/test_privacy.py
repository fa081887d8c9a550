"""Privacy: no raw IP address is stored; users can export and erase their data."""

import pytest
from django.core.cache import cache
from django.db import connection

from accounts.models import User
from forum.models import Comment, Flag
from tests.factories import make_comment

pytestmark = pytest.mark.django_db

IP = "198.51.100.77"


def database_dump() -> str:
    """Every row of every table, as text."""
    chunks = []
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names():
            cursor.execute(f"SELECT * FROM {connection.ops.quote_name(table)}")  # noqa: S608
            chunks.extend(repr(row) for row in cursor.fetchall())
    return "\n".join(chunks)


def test_no_raw_ip_address_is_stored_anywhere(api_client, post, blog):
    cache.clear()
    headers = {"REMOTE_ADDR": IP}
    created = api_client.post(
        f"/api/posts/{post.pk}/comments/", {"body": "From an IP"}, format="json", **headers
    )
    assert created.status_code == 201
    api_client.post(
        f"/api/comments/{make_comment(post).pk}/flag/", {"reason": "spam"}, format="json", **headers
    )
    api_client.post(
        "/api/guest-posts/",
        {"blog": blog.slug, "title": "T", "body": "B", "author_name": "N"},
        format="json",
        **headers,
    )
    assert Comment.objects.get(pk=created.json()["id"]).ip_hash
    assert Flag.objects.exists()
    dump = database_dump()
    assert IP not in dump
    assert IP.replace(".", "") not in dump


def test_export_contains_the_callers_comments_and_nothing_of_others(user_client, user, post):
    mine = make_comment(post, body="Mine", author=user)
    make_comment(post, body="Not mine", author_name="Other")
    data = user_client.get("/api/accounts/me/export/").json()
    assert data["account"]["username"] == user.username
    assert [c["id"] for c in data["comments"]] == [mine.pk]


def erase(client, **data):
    return client.delete("/api/accounts/me/", data, format="json")


def test_erasing_anonymizes_comments_and_keeps_threads_whole(user_client, user, post, api_client):
    parent = make_comment(post, body="Mine", author=user)
    reply = make_comment(post, body="A reply", parent=parent, author_name="Other")
    assert erase(user_client, password="correct horse battery").status_code == 204
    assert not User.objects.filter(pk=user.pk).exists()
    [top] = api_client.get(f"/api/posts/{post.pk}/comments/").json()["results"]
    assert top["id"] == parent.pk and top["is_anonymous"] and top["body"] == "Mine"
    assert [r["id"] for r in top["replies"]] == [reply.pk]


def test_erasing_with_remove_leaves_tombstones_where_replies_hang(
    user_client, user, post, api_client
):
    parent = make_comment(post, body="Mine", author=user)
    make_comment(post, body="Alone", author=user)
    make_comment(post, body="A reply", parent=parent)
    response = erase(user_client, password="correct horse battery", comments="remove")
    assert response.status_code == 204
    results = api_client.get(f"/api/posts/{post.pk}/comments/").json()["results"]
    assert [(c["id"], c["removed"], c["body"]) for c in results] == [(parent.pk, True, None)]
    assert len(results[0]["replies"]) == 1
    assert not Comment.objects.filter(body="Mine").exclude(author=None).exists()


def test_erasing_needs_the_password_and_changes_nothing_without_it(user_client, user, post):
    make_comment(post, author=user)
    response = erase(user_client, password="wrong")
    assert response.status_code == 400 and "password" in response.json()
    assert User.objects.filter(pk=user.pk).exists()
    assert Comment.objects.filter(author=user).count() == 1


def test_erasing_needs_authentication(api_client):
    assert erase(api_client, password="x").status_code in (401, 403)
