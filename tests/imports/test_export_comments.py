"""``manage.py export_comments``: a blog leaves as a WordPress or Disqus file, and that
file imported into a fresh database gives the same public threads."""

from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from forum.models import Blog, Comment, ImportRecord, Post
from tests.imports.conftest import run_import, sample

pytestmark = pytest.mark.django_db

SAMPLES = ("blogger-classic.xml", "blogger-takeout.atom", "disqus.xml", "wordpress.xml")
THREAD_FIELDS = (
    "depth",
    "author_name",
    "display_name",
    "is_anonymous",
    "body",
    "body_html",
    "status",
    "removed",
    "created_at",
    "edited_at",
    "reply_count",
)
POST_FIELDS = ("title", "body", "body_html", "is_guest", "guest_number", "published_at")


def public_threads(api_client) -> dict[str, list]:
    """Every published post's public thread over the API, without ids."""

    def strip(nodes: list[dict]) -> list[dict]:
        return [
            {name: node[name] for name in THREAD_FIELDS} | {"replies": strip(node["replies"])}
            for node in nodes
        ]

    threads = {}
    for post in Post.objects.published():
        response = api_client.get(f"/api/posts/{post.pk}/comments/?page_size=200")
        assert response.status_code == 200
        threads[post.title] = strip(response.json()["results"])
    return threads


def posts() -> list[tuple]:
    return sorted(Post.objects.published().values_list(*POST_FIELDS))


def fresh_database() -> None:
    """Empty every forum table (a new site), without the deletion rules that keep a
    live forum's history."""
    ImportRecord.objects.all().delete()
    Comment.objects.all()._raw_delete(using="default")
    Post.objects.all()._raw_delete(using="default")
    Blog.objects.all().delete()


def export(blog: str, path, to: str) -> str:
    out = StringIO()
    call_command("export_comments", blog, str(path), "--to", to, stdout=out)
    return out.getvalue()


@pytest.mark.parametrize("to", ["wordpress", "disqus"])
def test_export_then_import_into_a_fresh_database_gives_the_same_public_threads(
    api_client, tmp_path, to
):
    run_import(*[sample(name) for name in SAMPLES])
    call_command("import_seeds", stdout=StringIO())
    blogs = list(Blog.objects.values_list("slug", flat=True))
    before = public_threads(api_client)
    before_posts = posts()
    assert sum(len(thread) for thread in before.values()) > 50  # top-level comments
    files = [tmp_path / f"{slug}.xml" for slug in blogs]
    for slug, path in zip(blogs, files, strict=True):
        export(slug, path, to)

    fresh_database()
    run_import(*files)

    assert public_threads(api_client) == before
    if to == "wordpress":
        assert posts() == before_posts
    else:  # Disqus threads carry no post text of their own: ours is the message
        assert [p[:1] + p[3:] for p in posts()] == [p[:1] + p[3:] for p in before_posts]


def test_export_writes_public_comments_only_and_tombstones_without_their_text(tmp_path):
    run_import(sample("disqus.xml"))
    path = tmp_path / "out.xml"
    assert export("probation-talk", path, "wordpress").startswith(
        f"{path}: 1 posts and 5 comments (1 removed, kept as deleted)"
    )
    text = path.read_text()
    assert "Deleted but replied to" not in text  # the tombstone's text stays here
    assert "Spam here" not in text
    assert "Waiting for approval" not in text
    assert "<wp:comment_approved>trash</wp:comment_approved>" in text
    assert "@" not in text.replace("xmlns", "")


def test_export_refuses_an_unknown_blog_and_leaves_no_file(tmp_path):
    path = tmp_path / "out.xml"
    with pytest.raises(CommandError) as caught:
        export("nope", path, "disqus")
    assert str(caught.value) == "No blog with the slug 'nope'."
    assert list(tmp_path.iterdir()) == []
