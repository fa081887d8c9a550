import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from forum.models import Comment, Post, PostStatus
from tests.factories import BlogFactory, PostFactory, make_comment, make_thread

pytestmark = pytest.mark.django_db


def count_queries(client, url) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200
    return len(queries)


@pytest.mark.parametrize("name", ["blog", "post", "comment"])
def test_changelists_answer(admin_client, tree, name):
    response = admin_client.get(reverse(f"admin:forum_{name}_changelist"))
    assert response.status_code == 200


@pytest.mark.parametrize("name", ["blog", "post", "comment"])
def test_changelist_search_answers(admin_client, tree, name):
    response = admin_client.get(reverse(f"admin:forum_{name}_changelist"), {"q": "a1"})
    assert response.status_code == 200


def test_comment_changelist_query_count_does_not_grow_with_the_page(admin_client, blog):
    url = reverse("admin:forum_comment_changelist")
    post = PostFactory(blog=blog)
    make_thread(post, top_level=3, replies_per_comment=1)
    few = count_queries(admin_client, url)
    for _ in range(3):
        make_thread(PostFactory(blog=BlogFactory()), top_level=5, replies_per_comment=2)
    make_thread(post, top_level=1, replies_per_comment=0)
    assert Comment.objects.count() == 6 + 45 + 1
    assert count_queries(admin_client, url) == few


def test_comment_changelist_filters_answer(admin_client, tree, blog, remove):
    remove(tree.b)
    url = reverse("admin:forum_comment_changelist")
    for query in (
        {"status__exact": "approved"},
        {"removed": "yes"},
        {"removed": "no"},
        {"removed": "author"},
        {"post__blog__id__exact": blog.pk},
    ):
        assert admin_client.get(url, query).status_code == 200
    response = admin_client.get(url, {"removed": "yes"})
    assert response.context["cl"].result_count == 1


def test_post_changelist_query_count_does_not_grow_with_the_page(admin_client):
    url = reverse("admin:forum_post_changelist")
    for _ in range(5):
        PostFactory(blog=BlogFactory())
    few = count_queries(admin_client, url)
    for _ in range(45):
        PostFactory(blog=BlogFactory(), is_guest=True)
    assert count_queries(admin_client, url) == few


def test_blog_changelist_query_count_does_not_grow_with_the_page(admin_client):
    url = reverse("admin:forum_blog_changelist")
    for _ in range(5):
        PostFactory(blog=BlogFactory())
    few = count_queries(admin_client, url)
    for _ in range(45):
        PostFactory(blog=BlogFactory())
    assert count_queries(admin_client, url) == few


def test_comment_changelist_escapes_user_html(admin_client, post):
    parent = make_comment(post, body="<b>parent</b> " + "x" * 100)
    make_comment(post, body='<script>alert("x")</script>', parent=parent, author_name="<i>me</i>")
    response = admin_client.get(reverse("admin:forum_comment_changelist"))
    html = response.content.decode()
    assert "<script>alert" not in html
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in html
    assert "&lt;b&gt;parent&lt;/b&gt;" in html
    assert "<b>parent</b>" not in html
    assert "&lt;i&gt;me&lt;/i&gt;" in html
    assert "x" * 100 not in html  # the excerpt is cut


def test_comment_changelist_names_anonymous_comments(admin_client, post):
    make_comment(post, body="who am I")
    response = admin_client.get(reverse("admin:forum_comment_changelist"))
    assert "Anonymous" in response.content.decode()


def test_comment_change_page_shows_the_comment_read_only(admin_client, tree):
    response = admin_client.get(reverse("admin:forum_comment_change", args=[tree.a1x.pk]))
    assert response.status_code == 200
    html = response.content.decode()
    for field in ("path", "depth", "parent", "post", "reply_count", "child_seq", "status", "body"):
        assert f'name="{field}"' not in html
    assert tree.a1x.path in html


def test_comment_cannot_be_moved_or_edited_through_the_admin(admin_client, tree, post):
    other = make_comment(post, body="other")
    url = reverse("admin:forum_comment_change", args=[tree.a1x.pk])
    response = admin_client.post(
        url, {"parent": other.pk, "path": "000009", "depth": 1, "body": "changed"}
    )
    assert response.status_code == 403
    tree.a1x.refresh_from_db()
    assert (tree.a1x.parent_id, tree.a1x.path, tree.a1x.body) == (
        tree.a1.pk,
        "000001000001000001",
        "a1x",
    )


def test_comments_cannot_be_added_or_deleted_through_the_admin(admin_client, tree):
    assert admin_client.get(reverse("admin:forum_comment_add")).status_code == 403
    url = reverse("admin:forum_comment_delete", args=[tree.b.pk])
    assert admin_client.post(url, {"post": "yes"}).status_code == 403
    assert Comment.objects.filter(pk=tree.b.pk).exists()


def test_post_change_page_shows_guest_fields(admin_client, blog):
    post = PostFactory(blog=blog, is_guest=True, guest_number=7)
    response = admin_client.get(reverse("admin:forum_post_change", args=[post.pk]))
    assert response.status_code == 200
    html = response.content.decode()
    assert 'name="is_guest"' in html
    assert 'name="guest_number"' in html
    assert 'name="comment_count"' not in html  # kept by the services


def test_post_edited_in_the_admin_gets_its_html_rendered_again(admin_client, post):
    url = reverse("admin:forum_post_change", args=[post.pk])
    data = {
        "blog": post.blog_id,
        "title": post.title,
        "slug": post.slug,
        "body": "New <b>body</b>",
        "status": PostStatus.PUBLISHED,
        "published_at_0": "2025-03-01",
        "published_at_1": "12:00:00",
        "author": "",
        "author_name": "",
        "guest_number": "",
        "submitter_email": "",
    }
    response = admin_client.post(url, data)
    assert response.status_code == 302, response.context["adminform"].form.errors
    post.refresh_from_db()
    assert post.body == "New <b>body</b>"
    assert "&lt;b&gt;" in post.body_html


def test_post_admin_refuses_a_guest_number_on_a_non_guest_post(admin_client, post):
    url = reverse("admin:forum_post_change", args=[post.pk])
    response = admin_client.post(
        url,
        {
            "blog": post.blog_id,
            "title": post.title,
            "slug": post.slug,
            "body": post.body,
            "status": PostStatus.PUBLISHED,
            "published_at_0": "2025-03-01",
            "published_at_1": "12:00:00",
            "guest_number": "3",
        },
    )
    assert response.status_code == 200  # the form again, with the error
    assert Post.objects.get(pk=post.pk).guest_number is None


def test_post_edit_in_the_admin_rerenders_and_refuses_control_characters(admin_client, post):
    form = {
        "blog": post.blog_id,
        "title": post.title,
        "slug": post.slug,
        "body": "New body with www.example.org",
        "status": "published",
        "published_at_0": "2025-01-01",
        "published_at_1": "12:00:00",
        "author": "",
        "author_name": "",
        "guest_number": "",
        "submitter_email": "",
    }
    assert admin_client.post(f"/admin/forum/post/{post.pk}/change/", form).status_code == 302
    post.refresh_from_db()
    assert 'href="http://www.example.org"' in post.body_html
    bad = admin_client.post(f"/admin/forum/post/{post.pk}/change/", {**form, "body": "a\x07b"})
    assert bad.status_code == 200 and "control characters" in bad.content.decode()
    post.refresh_from_db()
    assert post.body == "New body with www.example.org"


@pytest.mark.thread_cache
@pytest.mark.parametrize("how", ["delete_post", "delete_selected_posts", "unpublish"])
def test_admin_changes_to_a_post_retire_its_cached_thread_pages(
    admin_client, api_client, post, how, django_capture_on_commit_callbacks
):
    # (The admin deletes no comments: a post with comments cannot be deleted here.)
    url = reverse("post-thread", args=[post.pk])
    assert api_client.get(url).status_code == 200  # now cached
    with django_capture_on_commit_callbacks(execute=True):
        if how == "delete_post":
            response = admin_client.post(
                reverse("admin:forum_post_delete", args=[post.pk]), {"post": "yes"}
            )
        elif how == "delete_selected_posts":
            response = admin_client.post(
                reverse("admin:forum_post_changelist"),
                {"action": "delete_selected", "_selected_action": [post.pk], "post": "yes"},
            )
        else:
            response = admin_client.post(
                reverse("admin:forum_post_change", args=[post.pk]),
                {
                    "blog": post.blog_id,
                    "title": post.title,
                    "slug": post.slug,
                    "body": post.body,
                    "status": PostStatus.DRAFT,
                    "author_name": post.author_name,
                    "submitter_email": "",
                },
            )
    assert response.status_code == 302
    assert api_client.get(url).status_code == 404


def view_on_site_href(page) -> str:
    """The href of the change form's "View on site" button."""
    html = page.content.decode()
    link = html[: html.index('class="viewsitelink"')]
    return link[link.rindex('href="') + len('href="') :].split('"', 1)[0]


def test_a_posts_admin_page_links_its_api_thread_and_view_on_site_follows_it(admin_client, post):
    page = admin_client.get(reverse("admin:forum_post_change", args=[post.pk]))
    thread = f"/api/posts/{post.pk}/comments/"
    assert f'<a href="{thread}">'.encode() in page.content
    assert view_on_site_href(page) == thread
    followed = admin_client.get(thread)
    assert followed.status_code == 200
    assert followed["Content-Type"] == "application/json"


def test_a_comments_admin_page_links_its_thread_and_itself_in_the_api(admin_client, post):
    comment = make_comment(post=post, body="hello")
    page = admin_client.get(reverse("admin:forum_comment_change", args=[comment.pk]))
    assert f'<a href="/api/posts/{post.pk}/comments/">'.encode() in page.content
    assert f'<a href="/api/comments/{comment.pk}/">'.encode() in page.content
    assert view_on_site_href(page) == f"/api/posts/{post.pk}/comments/"
