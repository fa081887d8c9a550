import pytest
from django.urls import reverse

from forum.models import Comment, CommentStatus, PostStatus
from tests.factories import BlogFactory, PostFactory, make_comment, make_thread
from tests.forum.conftest import at
from tests.forum.contract import COMMENT_FIELDS

pytestmark = pytest.mark.django_db


def thread_url(post_id: int) -> str:
    return reverse("post-thread", args=[post_id])


def bodies(nodes):
    return [(node["body"], bodies(node["replies"])) for node in nodes]


def find(nodes, comment_id):
    for node in nodes:
        if node["id"] == comment_id:
            return node
        found = find(node["replies"], comment_id)
        if found is not None:
            return found
    return None


# --- blogs --------------------------------------------------------------------


def test_blog_list_shows_published_post_count(api_client, blog, other_blog):
    PostFactory(blog=blog)
    PostFactory(blog=blog, status=PostStatus.DRAFT, published_at=None)
    response = api_client.get(reverse("blog-list"))
    assert response.status_code == 200
    assert response.json()["results"] == [
        {"slug": "other", "name": "Other Blog", "description": "A blog.", "post_count": 0},
        {"slug": "probation", "name": "Probation Blog", "description": "A blog.", "post_count": 1},
    ]


def test_blog_detail_by_slug_and_404_for_unknown_slug(api_client, blog):
    PostFactory(blog=blog)
    response = api_client.get(reverse("blog-detail", args=[blog.slug]))
    assert response.status_code == 200
    assert response.json()["post_count"] == 1
    assert api_client.get(reverse("blog-detail", args=["nope"])).status_code == 404


@pytest.mark.parametrize("blogs", [1, 12])
def test_blog_list_query_count_is_constant(api_client, django_assert_num_queries, blogs):
    for _ in range(blogs):
        PostFactory(blog=BlogFactory())
    with django_assert_num_queries(2):  # count, page
        response = api_client.get(reverse("blog-list"))
    assert len(response.json()["results"]) == blogs


# --- posts --------------------------------------------------------------------


def test_post_list_shows_published_posts_newest_first(api_client, posts_for_filters):
    response = api_client.get(reverse("post-list"))
    assert response.status_code == 200
    p = posts_for_filters
    assert [post["id"] for post in response.json()["results"]] == [p.new.pk, p.middle.pk, p.old.pk]


def test_post_detail_has_the_contract_fields(api_client, post):
    make_comment(post)
    response = api_client.get(reverse("post-detail", args=[post.pk]))
    assert response.status_code == 200
    assert response.json() == {
        "id": post.pk,
        "blog": "probation",
        "title": post.title,
        "slug": post.slug,
        "body": post.body,
        "body_html": "<p>The body of the post.</p>",
        "published_at": response.json()["published_at"],
        "author_name": "",
        "is_guest": False,
        "guest_number": None,
        "comment_count": 1,
    }
    assert response.json()["published_at"]


def test_post_detail_of_an_unpublished_post_is_404(api_client, posts_for_filters):
    for post in (posts_for_filters.draft, posts_for_filters.pending):
        assert api_client.get(reverse("post-detail", args=[post.pk])).status_code == 404


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({"blog": "probation"}, ["middle", "old"]),
        ({"blog": "other"}, ["new"]),
        ({"blog": "unknown"}, []),
        ({"is_guest": "true"}, ["middle"]),
        ({"is_guest": "false"}, ["new", "old"]),
        ({"published_after": "2025-03-01"}, ["new", "middle"]),
        ({"published_after": "2025-03-01T12:00:01Z"}, ["new"]),
        ({"published_before": "2025-03-01T12:00:00Z"}, ["old"]),
        ({"published_after": "2025-02-01", "published_before": "2025-03-02"}, ["middle"]),
        ({"search": "COMPOST"}, ["middle"]),
        ({"search": "gardening"}, ["old"]),
        ({"ordering": "published_at"}, ["old", "middle", "new"]),
        ({"ordering": "-published_at"}, ["new", "middle", "old"]),
    ],
)
def test_post_list_filters(api_client, posts_for_filters, query, expected):
    response = api_client.get(reverse("post-list"), query)
    assert response.status_code == 200, response.json()
    ids = {getattr(posts_for_filters, name).pk: name for name in ("old", "middle", "new")}
    assert [ids[post["id"]] for post in response.json()["results"]] == expected


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({"published_after": "notadate"}, "published_after"),
        ({"published_before": "2025-13-01"}, "published_before"),
        ({"published_after": "0001-01-01T00:00:00+05:00"}, "published_after"),
        ({"is_guest": "maybe"}, "is_guest"),
        ({"ordering": "title"}, "ordering"),
        ({"ordering": "bogus"}, "ordering"),
        ({"search": "nul\x00byte"}, "search"),
    ],
)
def test_post_list_bad_filter_values_are_400_naming_the_field(
    api_client, posts_for_filters, query, field
):
    response = api_client.get(reverse("post-list"), query)
    assert response.status_code == 400
    assert field in response.json()


@pytest.mark.parametrize("posts", [1, 15])
def test_post_list_query_count_is_constant(api_client, django_assert_num_queries, blog, posts):
    for _ in range(posts):
        PostFactory(blog=BlogFactory())
    with django_assert_num_queries(2):  # count, page (with the blogs joined)
        response = api_client.get(reverse("post-list"), {"search": "post"})
    assert len(response.json()["results"]) == posts


# --- the thread ---------------------------------------------------------------


def test_thread_nests_replies_oldest_first_three_levels_deep(api_client, tree):
    response = api_client.get(thread_url(tree.post.pk))
    assert response.status_code == 200
    assert bodies(response.json()["results"]) == [
        ("a", [("a1", [("a1x", []), ("a1y", [])]), ("a2", [])]),
        ("b", []),
        ("c", [("c1", [])]),
    ]
    a1x = response.json()["results"][0]["replies"][0]["replies"][0]
    assert set(a1x) == COMMENT_FIELDS | {"replies"}
    assert (a1x["depth"], a1x["parent"]) == (2, tree.a1.pk)


def test_thread_pagination_envelope_and_second_page(api_client, tree):
    url = thread_url(tree.post.pk)
    first = api_client.get(url, {"page_size": 2}).json()
    assert set(first) == {"count", "next", "previous", "results"}
    assert first["count"] == 3
    assert first["previous"] is None
    assert first["next"] == f"http://testserver{url}?page=2&page_size=2"
    assert [node["body"] for node in first["results"]] == ["a", "b"]

    second = api_client.get(first["next"]).json()
    assert second["count"] == 3
    assert second["next"] is None
    assert second["previous"] == f"http://testserver{url}?page_size=2"
    assert bodies(second["results"]) == [("c", [("c1", [])])]


def test_thread_previous_link_keeps_the_page_number_beyond_page_two(api_client, tree):
    url = thread_url(tree.post.pk)
    third = api_client.get(url, {"page": 3, "page_size": 1}).json()
    assert third["previous"] == f"http://testserver{url}?page=2&page_size=1"
    assert third["next"] is None


@pytest.mark.parametrize("page", ["4", "0", "-1", "abc", "1.5"])
def test_thread_invalid_page_is_404_like_drf(api_client, tree, page):
    response = api_client.get(thread_url(tree.post.pk), {"page": page, "page_size": 1})
    assert response.status_code == 404
    assert response.json() == {"detail": "Invalid page."}


def test_thread_page_last(api_client, tree):
    response = api_client.get(thread_url(tree.post.pk), {"page": "last", "page_size": 2})
    assert [node["body"] for node in response.json()["results"]] == ["c"]


@pytest.mark.parametrize(("page_size", "expected"), [("1", 1), ("200", 200), (None, 50)])
def test_thread_page_size_is_honoured(api_client, post, page_size, expected):
    make_thread(post, top_level=201)
    params = {"page_size": page_size} if page_size else {}
    response = api_client.get(thread_url(post.pk), params)
    assert response.status_code == 200
    assert len(response.json()["results"]) == expected


@pytest.mark.parametrize("page_size", ["-1", "0", "abc", "201", "500", "1.5", "", "\u0661"])
def test_thread_page_size_outside_the_documented_range_is_400(api_client, post, page_size):
    response = api_client.get(thread_url(post.pk), {"page_size": page_size})
    assert response.status_code == 400
    assert "page_size" in response.json()


def test_thread_empty_thread(api_client, post):
    response = api_client.get(thread_url(post.pk))
    assert response.json() == {"count": 0, "next": None, "previous": None, "results": []}


def test_thread_tombstone_keeps_its_visible_replies(api_client, tree, remove):
    remove(tree.c)
    c = api_client.get(thread_url(tree.post.pk)).json()["results"][2]
    assert (c["id"], c["removed"], c["body"], c["reply_count"]) == (tree.c.pk, True, None, 1)
    assert c["replies"][0]["body"] == "c1"
    assert c["replies"][0]["removed"] is False


def test_thread_removed_comment_without_visible_replies_is_hidden(api_client, tree, remove):
    remove(tree.a1y)
    remove(tree.b)
    results = api_client.get(thread_url(tree.post.pk)).json()["results"]
    assert bodies(results) == [
        ("a", [("a1", [("a1x", [])]), ("a2", [])]),
        ("c", [("c1", [])]),
    ]
    assert results[0]["replies"][0]["reply_count"] == 1


def test_thread_leaves_out_pending_comments(api_client, tree):
    make_comment(tree.post, body="held", status=CommentStatus.PENDING)
    make_comment(tree.post, body="held reply", parent=tree.b, status=CommentStatus.PENDING)
    response = api_client.get(thread_url(tree.post.pk)).json()
    assert response["count"] == 3
    assert "held" not in str(bodies(response["results"]))


def test_thread_of_unpublished_or_missing_post_is_404(api_client, draft_post):
    assert api_client.get(thread_url(draft_post.pk)).status_code == 404
    assert api_client.get(thread_url(draft_post.pk + 1000)).status_code == 404
    assert api_client.get(thread_url(2**70)).status_code == 404


@pytest.mark.parametrize("size", [10, 1000])
def test_thread_query_count_does_not_grow_with_the_thread(
    api_client, post, django_assert_num_queries, size
):
    make_thread(post, top_level=size // 10, replies_per_comment=9)
    with django_assert_num_queries(3):
        response = api_client.get(thread_url(post.pk), {"page_size": 200})
    results = response.json()["results"]
    assert len(results) == size // 10
    assert sum(1 + len(node["replies"]) for node in results) == size


# --- comments -----------------------------------------------------------------


def test_comment_list_shows_public_comments_in_thread_order(api_client, tree, draft_post, remove):
    make_comment(tree.post, body="held", status=CommentStatus.PENDING)
    remove(tree.a2)  # no replies: hidden
    remove(tree.c)  # has a reply: a tombstone
    Comment.objects.create(
        post=draft_post, path="000001", body="on a draft", status=CommentStatus.APPROVED
    )
    response = api_client.get(reverse("comment-list"))
    assert response.status_code == 200
    results = response.json()["results"]
    assert [c["id"] for c in results] == [
        tree.a.pk,
        tree.a1.pk,
        tree.a1x.pk,
        tree.a1y.pk,
        tree.b.pk,
        tree.c.pk,
        tree.c1.pk,
    ]
    assert set(results[0]) == COMMENT_FIELDS
    tombstone = results[5]
    assert (tombstone["removed"], tombstone["body"]) == (True, None)


def test_comment_list_orders_by_creation_time_on_request(api_client, tree):
    response = api_client.get(reverse("comment-list"), {"ordering": "-created_at"})
    assert [c["body"] for c in response.json()["results"]] == [
        "c1",
        "a1y",
        "a1x",
        "a2",
        "a1",
        "c",
        "b",
        "a",
    ]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({"parent": "a"}, ["a1", "a2"]),
        ({"parent": "a1"}, ["a1x", "a1y"]),
        ({"author_name": "alice"}, ["a"]),
        ({"author_name": "ALICE"}, ["a"]),
        ({"author_name": "ali"}, []),
        ({"created_after": "2025-03-01T12:06:00Z"}, ["a1y", "c1"]),
        ({"created_before": "2025-03-01T12:01:00Z"}, ["a"]),
        (
            {"created_after": "2025-03-01T12:02:00Z", "created_before": "2025-03-01T12:04Z"},
            ["a1", "c"],
        ),
        ({"search": "A1"}, ["a1", "a1x", "a1y"]),
    ],
)
def test_comment_list_filters(api_client, tree, query, expected):
    make_comment(PostFactory(blog=tree.post.blog), body="a1 elsewhere", author_name="Alice")
    query = {"post": tree.post.pk, **query}
    if "parent" in query:
        query["parent"] = getattr(tree, query["parent"]).pk
    response = api_client.get(reverse("comment-list"), query)
    assert response.status_code == 200, response.json()
    assert [c["body"] for c in response.json()["results"]] == expected


def test_comment_list_filter_by_post(api_client, tree):
    other = make_comment(PostFactory(blog=tree.post.blog), body="elsewhere")
    response = api_client.get(reverse("comment-list"), {"post": other.post_id})
    assert [c["id"] for c in response.json()["results"]] == [other.pk]


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({"post": "abc"}, "post"),
        ({"post": "1.5"}, "post"),
        ({"post": "0"}, "post"),
        ({"post": str(2**70)}, "post"),
        ({"parent": "-1"}, "parent"),
        ({"created_after": "notadate"}, "created_after"),
        ({"created_before": "yesterday"}, "created_before"),
        ({"status": "bogus"}, "status"),
        ({"ordering": "body"}, "ordering"),
    ],
)
def test_comment_list_bad_filter_values_are_400_naming_the_field(api_client, tree, query, field):
    response = api_client.get(reverse("comment-list"), query)
    assert response.status_code == 400
    assert field in response.json()


@pytest.mark.parametrize("page_size", ["-1", "abc", "0", "201"])
def test_list_bad_page_size_is_400(api_client, tree, page_size):
    response = api_client.get(reverse("comment-list"), {"page_size": page_size})
    assert response.status_code == 400
    assert "page_size" in response.json()


def test_comment_list_page_beyond_the_end_is_404(api_client, tree):
    assert api_client.get(reverse("comment-list"), {"page": 9}).status_code == 404


@pytest.fixture
def mixed_statuses(tree):
    held = make_comment(tree.post, body="held", status=CommentStatus.PENDING)
    spam = make_comment(tree.post, body="spam", status=CommentStatus.SPAM)
    return held, spam


def test_comment_list_public_may_filter_approved_only(api_client, mixed_statuses):
    response = api_client.get(reverse("comment-list"), {"status": "approved"})
    assert response.status_code == 200
    assert response.json()["count"] == 8
    for status in ("pending", "spam", "rejected"):
        response = api_client.get(reverse("comment-list"), {"status": status})
        assert response.status_code == 403
        assert "moderators" in response.json()["detail"]


def test_comment_list_moderators_see_and_filter_every_status(moderator_client, mixed_statuses):
    held, _spam = mixed_statuses
    assert moderator_client.get(reverse("comment-list")).json()["count"] == 10
    response = moderator_client.get(reverse("comment-list"), {"status": "pending"})
    assert [c["id"] for c in response.json()["results"]] == [held.pk]
    response = moderator_client.get(reverse("comment-list"), {"status": "spam"})
    assert [c["status"] for c in response.json()["results"]] == ["spam"]


def test_comment_list_ordinary_users_are_the_public(user_client, mixed_statuses):
    assert user_client.get(reverse("comment-list")).json()["count"] == 8
    assert user_client.get(reverse("comment-list"), {"status": "pending"}).status_code == 403


@pytest.mark.parametrize("comments", [1, 30])
def test_comment_list_query_count_is_constant(
    api_client, post, django_assert_num_queries, comments
):
    make_thread(post, top_level=comments)
    with django_assert_num_queries(2):  # count, page
        response = api_client.get(reverse("comment-list"), {"post": post.pk})
    assert len(response.json()["results"]) == comments


@pytest.mark.parametrize("comments", [1, 30])
def test_comment_list_query_count_is_constant_for_moderators(
    moderator_client, post, django_assert_num_queries, comments
):
    make_thread(post, top_level=comments)
    with django_assert_num_queries(3):  # the moderator check, count, page
        response = moderator_client.get(reverse("comment-list"), {"status": "approved"})
    assert len(response.json()["results"]) == comments


def test_comment_detail_shows_public_comments_only(api_client, moderator_client, tree):
    held = make_comment(tree.post, body="held", status=CommentStatus.PENDING)
    response = api_client.get(reverse("comment-detail", args=[tree.a1.pk]))
    assert response.status_code == 200
    assert set(response.json()) == COMMENT_FIELDS
    assert api_client.get(reverse("comment-detail", args=[held.pk])).status_code == 404
    assert moderator_client.get(reverse("comment-detail", args=[held.pk])).json()["body"] == "held"
    assert api_client.get(reverse("comment-detail", args=[held.pk + 100])).status_code == 404


def test_comment_detail_of_a_comment_on_an_unpublished_post_is_404(api_client, tree):
    tree.post.status = PostStatus.DRAFT
    tree.post.published_at = None
    tree.post.save()
    assert api_client.get(reverse("comment-detail", args=[tree.a.pk])).status_code == 404


def test_anonymous_comment_shows_as_anonymous(api_client, tree):
    comment = api_client.get(reverse("comment-detail", args=[tree.b.pk])).json()
    assert (comment["author_name"], comment["display_name"], comment["is_anonymous"]) == (
        None,
        "Anonymous",
        True,
    )
    named = api_client.get(reverse("comment-detail", args=[tree.a.pk])).json()
    assert (named["author_name"], named["display_name"], named["is_anonymous"]) == (
        "Alice",
        "Alice",
        False,
    )


def test_flat_and_thread_representations_agree(api_client, tree, remove):
    remove(tree.a1)  # a tombstone too
    Comment.objects.filter(pk=tree.a1x.pk).update(edited_at=at(30))
    thread = api_client.get(thread_url(tree.post.pk)).json()["results"]
    flat = api_client.get(reverse("comment-list"), {"post": tree.post.pk}).json()["results"]
    assert len(flat) == 8
    for comment in flat:
        node = find(thread, comment["id"])
        assert {k: v for k, v in node.items() if k != "replies"} == comment
        single = api_client.get(reverse("comment-detail", args=[comment["id"]])).json()
        assert single == comment
    assert find(thread, tree.a1x.pk)["edited_at"] == "2025-03-01T12:30:00Z"
    assert find(thread, tree.a.pk)["created_at"] == "2025-03-01T12:00:00Z"


# --- schema -------------------------------------------------------------------


def test_schema_and_docs_are_served(api_client):
    schema = api_client.get(reverse("schema"))
    assert schema.status_code == 200
    assert b"ThreadComment" in schema.content
    assert api_client.get(reverse("docs")).status_code == 200
