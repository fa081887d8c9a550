"""GET /api/comments/{id}/context/ (forum.comment_context): the page, by number and by
cursor, that holds a comment's top-level ancestor under each sort."""

import pytest

from forum import services
from forum.models import Comment, CommentStatus
from tests.factories import make_comment

pytestmark = pytest.mark.django_db


def context(client, comment, **params):
    return client.get(f"/api/comments/{comment.pk}/context/", params)


@pytest.fixture
def thread(post):
    """Seven top-level comments t0..t6 (scores 0..6: t6 is top), with a reply chain
    under t2: t2 > r1 > r2."""
    tops = [make_comment(post, body=f"t{i}") for i in range(7)]
    for i, top in enumerate(tops):
        Comment.objects.filter(pk=top.pk).update(score=i, votes_up=i)
    r1 = make_comment(post, body="r1", parent=tops[2])
    r2 = make_comment(post, body="r2", parent=r1)
    return tops, r1, r2


def page_of(client, url) -> list[str]:
    return [node["body"] for node in client.get(url).json()["results"]]


@pytest.mark.parametrize(
    ("sort", "page", "cursor_page"),
    [
        ("oldest", 2, ["t2", "t3"]),  # t0 t1 | t2 t3 | t4 t5 | t6
        ("newest", 3, ["t2", "t1"]),  # t6 t5 | t4 t3 | t2 t1 | t0
        ("top", 3, ["t2", "t1"]),  # t6 t5 | t4 t3 | t2 t1 | t0
    ],
)
def test_a_deep_reply_points_at_its_ancestors_page(api_client, thread, sort, page, cursor_page):
    tops, _r1, r2 = thread
    data = context(api_client, r2, sort=sort, page_size=2)
    assert data.status_code == 200, data.content
    body = data.json()
    assert (body["comment"], body["top_level"], body["post"]) == (r2.pk, tops[2].pk, r2.post_id)
    assert (body["sort"], body["page"], body["page_size"], body["pinned"]) == (
        sort,
        page,
        2,
        False,
    )
    assert "t2" in page_of(api_client, body["url"])
    assert page_of(api_client, body["cursor_url"]) == cursor_page
    thread_url = f"/api/posts/{r2.post_id}/comments/"
    by_cursor = api_client.get(
        thread_url, {"sort": sort, "page_size": 2, "cursor": body["cursor"]}
    ).json()
    assert by_cursor["results"][0]["body"] == "t2"
    assert [r["body"] for r in by_cursor["results"][0]["replies"]] == ["r1"]


def test_the_first_comment_is_on_page_one_with_the_empty_cursor(api_client, thread):
    tops, *_ = thread
    body = context(api_client, tops[0], page_size=2).json()
    assert (body["page"], body["cursor"], body["top_level"]) == (1, "", tops[0].pk)


def test_a_pinned_ancestor_is_on_page_one_under_every_sort(api_client, thread):
    tops, r1, _r2 = thread
    services.comment_pin_set(comment=services.comment_lock(comment_id=tops[2].pk), pinned=True)
    for sort in ("oldest", "newest", "top"):
        body = context(api_client, r1, sort=sort, page_size=2).json()
        assert (body["page"], body["cursor"], body["pinned"]) == (1, "", True)
        assert page_of(api_client, body["url"])[0] == "t2"
    # Pinned comments are left out of the others' places.
    assert context(api_client, tops[3], page_size=2).json()["page"] == 2  # t0 t1 | t3 t4


def test_what_the_public_cannot_see_is_a_404(api_client, post, thread, moderator_client):
    tops, r1, r2 = thread
    held = make_comment(post, body="held", status=CommentStatus.PENDING)
    assert context(api_client, held).status_code == 404
    assert api_client.get("/api/comments/987654/context/").status_code == 404
    # A reply whose ancestor was taken down is not in the thread: 404 too.
    moderator_client.post(
        f"/api/moderation/comments/{r1.pk}/decision/", {"action": "spam"}, format="json"
    )
    assert context(api_client, r2).status_code == 404
    assert context(api_client, tops[0], sort="best").status_code == 400


def test_context_costs_a_constant_number_of_queries(api_client, thread, django_assert_num_queries):
    _tops, _r1, r2 = thread
    with django_assert_num_queries(4):
        assert context(api_client, r2, sort="top").status_code == 200
