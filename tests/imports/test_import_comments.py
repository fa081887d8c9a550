"""``manage.py import_comments``: the four formats, through the command a person runs,
checked through the public API (threads, statuses, authors), the moderation queue and
the rows themselves (what is kept of e-mails and IPs)."""

import datetime
import re

import pytest
from django.core.management import CommandError

from forum.identity import ip_hash
from forum.models import Blog, Comment, CommentStatus, ImportRecord, Post
from tests.hardening.integrity import expected_thread_ids, public_thread, tree_problems
from tests.imports.conftest import database_state, run_import, sample

pytestmark = pytest.mark.django_db

SAMPLES = ("blogger-classic.xml", "blogger-takeout.atom", "disqus.xml", "wordpress.xml")


def shape(post: Post) -> list[tuple]:
    """The public thread as (depth, name, body, removed), in display order."""
    return [
        (node["depth"], node["author_name"], node["body"], node["removed"])
        for node in public_thread(post.pk)
    ]


def by_key(suffix: str) -> Comment:
    return Comment.objects.get(import_key__endswith=suffix)


def test_blogger_classic_keeps_threads_tombstones_orphans_and_skips_the_rest():
    lines = run_import(sample("blogger-classic.xml"))
    assert lines[0].endswith("blogger-classic.xml: imported")
    assert "  comments: 7 created (6 approved, 1 removed), 0 already imported" in lines
    assert "  replies re-parented to the top level (parent missing): 1" in lines
    assert lines[-1] == (
        "  skipped: 1 comment on a post not imported, 1 draft post, 1 page, 1 settings, 1 template"
    )
    blog = Blog.objects.get()
    assert (blog.name, blog.slug, blog.import_key) == (
        "Probation Notes",
        "probation-notes",
        "blogger:1111",
    )
    post = Post.objects.get(import_key="blogger:1111:100")
    assert post.source_url.endswith("/2024/02/caseloads-in-winter.html")
    assert post.published_at == datetime.datetime(2024, 2, 1, 17, 0, tzinfo=datetime.UTC)
    assert post.body == "Caseloads grow in winter.\n\nSecond paragraph\nwith a break."
    # Time order, not file order (1003 comes before 1002 in the file); the removed
    # comment is a tombstone because a public reply hangs under it; the orphan is top-level.
    assert shape(post) == [
        (0, None, "First! click a page (http://example.com/page)", False),
        (0, "Jane", "Jane here.\nSecond line.", False),
        (1, "Sam", "A reply to Jane.", False),
        (0, "Pat", None, True),
        (1, "Lee", "Replying to a removed comment.", False),
        (0, None, "My parent was lost.", False),
    ]
    guest = Post.objects.get(import_key="blogger:1111:200")
    assert (guest.is_guest, guest.guest_number, guest.title) == (True, 7, "Guest Blog 7")
    assert tree_problems() == []


def test_blogger_takeout_maps_statuses_bare_parent_ids_and_the_bin():
    lines = run_import(sample("blogger-takeout.atom"))
    assert "  comments: 5 created (3 approved, 1 removed, 1 spam), 0 already imported" in lines
    post = Post.objects.get()
    assert (post.title, post.source_url, post.body) == (
        "Hello from Takeout",
        "/2023/05/hello-from-takeout.html",
        "Body of the post.",
    )
    assert shape(post) == [
        (0, None, "Top comment http://example.org/x", False),
        (1, "Kim", "A reply, parent as a bare number.", False),
        (2, "Lou", "A reply to the reply, parent in full.", False),
    ]
    assert by_key(":604").status == CommentStatus.SPAM
    binned = by_key(":605")
    assert binned.removed_at == datetime.datetime(2023, 6, 1, tzinfo=datetime.UTC)
    assert not binned.is_public
    assert Post.objects.filter(title="Unfinished").count() == 0
    assert tree_problems() == []


def test_disqus_keeps_names_statuses_and_hashes_ips():
    lines = run_import(sample("disqus.xml"))
    assert (
        "  comments: 7 created (4 approved, 1 pending, 1 removed, 1 spam), 0 already imported"
    ) in lines
    assert lines[-1] == (
        "  skipped: 1 category, 1 comment on a thread not imported, 1 thread without comments"
    )
    post = Post.objects.get()
    assert post.source_url == "https://talk.example.org/2022/01/first-thread/"
    assert shape(post) == [
        (0, "Robin", "Hello all\n\nSecond paragraph (https://example.net/)", False),
        (1, "Guest Gill", "A reply", False),
        (0, "Del", None, True),
        (1, "Una", "Under a deleted one", False),
        (0, "Orla", "Parent gone", False),
    ]
    assert by_key("post:8001").ip_hash == ip_hash("203.0.113.9")
    assert by_key("post:8002").ip_hash == ip_hash("2001:db8::1")
    assert by_key("post:8004").ip_hash == ""  # "not-an-ip"
    assert Blog.objects.get().import_key == "disqus:probation-talk"


def test_wordpress_maps_approval_skips_pings_and_keeps_newlines():
    lines = run_import(sample("wordpress.xml"))
    assert (
        "  comments: 7 created (4 approved, 1 pending, 1 removed, 1 spam), 0 already imported"
    ) in lines
    assert lines[-1] == "  skipped: 1 draft post, 1 page, 1 pingback, 1 trackback"
    post = Post.objects.get(title="Supervision, revisited")
    assert post.body == ("Supervision is changing.\n\nPlain second paragraph\nwith a line break.")
    assert shape(post) == [
        (
            0,
            "Alex",
            "Good post.\n\nSecond para with a link (http://example.com) & an ampersand.",
            False,
        ),
        (1, "Bea", "Replying to Alex.", False),
        (0, "Orphan", "My parent was deleted.", False),
    ]
    guest = Post.objects.get(title="A guest writes")
    assert (guest.is_guest, guest.guest_number, guest.body) == (True, 3, "The guest's text.")
    assert guest.published_at == datetime.datetime(2024, 1, 5, 9, 0, tzinfo=datetime.UTC)
    assert by_key(":c101").ip_hash == ip_hash("198.51.100.7")


@pytest.mark.parametrize("name", SAMPLES)
def test_public_thread_is_what_the_rows_say_and_every_counter_holds(name):
    run_import(sample(name))
    assert tree_problems() == []
    for post in Post.objects.all():
        assert {node["id"] for node in public_thread(post.pk)} == expected_thread_ids(post.pk)


@pytest.mark.parametrize("name", SAMPLES)
def test_hostile_html_comes_out_as_the_renderer_makes_it(name):
    run_import(sample(name))
    comments = Comment.objects.values_list("body_html", flat=True)
    for html in [*comments, *Post.objects.values_list("body_html", flat=True)]:
        assert not re.search(r"(?i)<(?!/?(p|br|a)\b)", html), html
        assert not re.search(r"(?i)on\w+=|javascript:|<script|<iframe|<style", html), html
        for anchor in re.findall(r"<a [^>]*>", html):
            assert 'rel="nofollow ugc noopener"' in anchor


def test_emails_uris_and_raw_ips_are_stored_nowhere():
    for name in SAMPLES:
        run_import(sample(name))
    dump = repr(database_state()) + repr(
        [list(model.objects.values_list()) for model in (Blog, Post, Comment, ImportRecord)]
    )
    for secret in (
        "robin@example.com",
        "alex@example.com",
        "sam@example.com",
        "blogger.com/profile",
        "alex.example.com",
        "203.0.113.9",
        "198.51.100.7",
        "2001:db8::1",
    ):
        assert secret not in dump


def test_pending_comments_wait_in_the_moderation_queue_with_the_import_reason(
    moderator_client,
):
    run_import(sample("wordpress.xml"))
    response = moderator_client.get("/api/moderation/queue/")
    assert response.status_code == 200
    held = [item for item in response.json()["results"] if item.get("kind") == "comment"]
    assert [(item["body"], item["reasons"]) for item in held] == [
        ("Held for moderation.", ["imported_pending"])
    ]


@pytest.mark.parametrize("name", SAMPLES)
def test_running_the_same_file_again_changes_nothing(name):
    run_import(sample(name))
    before = database_state()
    lines = run_import(sample(name))
    assert any(re.match(r"  comments: 0 created, \d+ already imported", line) for line in lines)
    assert database_state() == before


@pytest.mark.parametrize("name", SAMPLES)
def test_dry_run_reports_what_the_real_run_does_and_writes_nothing(name):
    before = database_state()
    dry = run_import(sample(name), "--dry-run")
    assert database_state() == before
    real = run_import(sample(name))
    assert dry[0].endswith("dry run, nothing written")
    assert dry[1:] == real[1:]


def test_one_import_record_per_file_that_wrote_something():
    run_import(*[sample(name) for name in SAMPLES])
    run_import(sample("disqus.xml"))
    records = list(
        ImportRecord.objects.order_by("id").values_list(
            "source_format", "posts_created", "comments_created"
        )
    )
    assert records == [
        ("blogger", 2, 7),
        ("blogger-takeout", 1, 5),
        ("disqus", 1, 7),
        ("wordpress", 2, 7),
    ]
    record = ImportRecord.objects.get(source_format="wordpress")
    assert record.report["skipped"] == {"draft post": 1, "page": 1, "pingback": 1, "trackback": 1}
    assert record.report["by_status"] == {"approved": 4, "pending": 1, "removed": 1, "spam": 1}
    assert len(record.source_sha256) == 64


def test_a_newer_export_adds_only_what_is_new_under_the_existing_threads(write_file):
    run_import(sample("wordpress.xml"))
    alex = by_key(":c101")
    newer = (
        sample("wordpress.xml")
        .read_text()
        .replace(
            "\t</item>\n\t<item>\n\t\t<title>About</title>",
            "\t\t<wp:comment><wp:comment_id>109</wp:comment_id>"
            "<wp:comment_author>Cy</wp:comment_author>"
            "<wp:comment_date_gmt>2024-01-03 09:00:00</wp:comment_date_gmt>"
            "<wp:comment_content>Late reply to Alex.</wp:comment_content>"
            "<wp:comment_approved>1</wp:comment_approved>"
            "<wp:comment_parent>101</wp:comment_parent></wp:comment>\n"
            "\t\t<wp:comment><wp:comment_id>110</wp:comment_id>"
            "<wp:comment_author>Di</wp:comment_author>"
            "<wp:comment_date_gmt>2024-01-03 10:00:00</wp:comment_date_gmt>"
            "<wp:comment_content>Under the binned one.</wp:comment_content>"
            "<wp:comment_approved>1</wp:comment_approved>"
            "<wp:comment_parent>105</wp:comment_parent></wp:comment>\n"
            "\t</item>\n\t<item>\n\t\t<title>About</title>",
        )
    )
    lines = run_import(write_file(newer))
    assert "  comments: 2 created (2 approved), 7 already imported" in lines
    assert "  posts: 0 created, 2 matched" in lines
    late = by_key(":c109")
    assert (late.parent_id, late.path) == (alex.pk, alex.path + "000002")
    # The binned comment now has a public reply: it shows as a tombstone.
    post = Post.objects.get(title="Supervision, revisited")
    assert shape(post)[-3:] == [
        (0, "Trashy", None, True),
        (1, "Di", "Under the binned one.", False),
        (0, "Orphan", "My parent was deleted.", False),
    ]
    assert tree_problems() == []


def test_posts_are_matched_by_their_address_whatever_the_format(write_file):
    run_import(sample("blogger-classic.xml"))
    post = Post.objects.get(import_key="blogger:1111:100")
    wxr = (
        sample("wordpress.xml")
        .read_text()
        .replace(
            "https://fieldnotes.example.com/2024/01/supervision-revisited/",
            "https://probation-notes.example.org/2024/02/caseloads-in-winter.html",
        )
    )
    lines = run_import(write_file(wxr), "--blog", "probation-notes")
    assert "  posts: 1 created, 1 matched" in lines
    assert Post.objects.filter(blog__slug="probation-notes").count() == 3
    assert post.comments.count() == 6 + 6


def test_without_blog_the_same_site_finds_its_blog_again():
    run_import(sample("disqus.xml"))
    run_import(sample("disqus.xml"))
    assert Blog.objects.count() == 1


def test_from_names_the_format_and_refuses_a_file_of_another():
    with pytest.raises(CommandError) as caught:
        run_import(sample("wordpress.xml"), "--from", "disqus")
    assert "wordpress.xml" in str(caught.value)


def test_a_missing_file_is_refused_before_anything_is_imported(tmp_path):
    with pytest.raises(CommandError) as caught:
        run_import(sample("disqus.xml"), tmp_path / "missing.xml")
    assert str(caught.value) == f"{tmp_path / 'missing.xml'}: no such file."
    assert Comment.objects.count() == 0


def test_the_admin_lists_each_imported_file_read_only(admin_client, django_assert_max_num_queries):
    run_import(*[sample(name) for name in SAMPLES])
    with django_assert_max_num_queries(8):
        response = admin_client.get("/admin/forum/importrecord/")
    assert response.status_code == 200
    assert response.content.count(b"samples/") == 4
    record = ImportRecord.objects.first()
    assert admin_client.post(f"/admin/forum/importrecord/{record.pk}/delete/").status_code == 403


def test_blog_names_a_slug_or_is_refused():
    with pytest.raises(CommandError) as caught:
        run_import(sample("disqus.xml"), "--blog", "not a slug!")
    assert str(caught.value) == "--blog 'not a slug!': not a slug (letters, digits, -, _)."
    assert Blog.objects.count() == 0
