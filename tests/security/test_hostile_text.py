"""Hostile text through every write path, checked in every output: nothing
executable comes out (API body_html, admin pages, imported seeds)."""

import html
from html.parser import HTMLParser
from urllib.parse import urlsplit

import pytest
from django.core.management import call_command

from forum.models import Comment
from tests.factories import make_comment
from tests.security.payloads import PAYLOADS

pytestmark = pytest.mark.django_db

SAFE_SCHEMES = {"http", "https", "mailto"}


class _Collector(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.elements: list[tuple[str, list[tuple[str, str | None]]]] = []

    def handle_starttag(self, tag, attrs):
        self.elements.append((tag, attrs))


PLAIN_TAGS = {"p", "br", "a"}
MARKDOWN_TAGS = PLAIN_TAGS | {"em", "strong", "blockquote", "ul", "ol", "li", "code", "pre"}
# Markdown-shaped attacks, on top of the corpus: links and autolinks to scripts, images,
# titles and reference links trying to smuggle attributes.
MARKDOWN_PAYLOADS = [
    "[x](javascript:alert(1))",
    "[x](JaVaScRiPt:alert(1))",
    "[x](  javascript:alert(1)  )",
    "[x](java&#115;cript:alert(1))",
    "[x](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
    "[x](vbscript:msgbox(1))",
    "<javascript:alert(1)>",
    "![x](javascript:alert(1))",
    '![x](http://example.org/a.png "t" onerror=alert(1))',
    '[x](http://example.org "a" onclick="alert(1)")',
    "[x][r]\n\n[r]: javascript:alert(1)",
    "**<script>alert(1)</script>**",
    "`<img src=x onerror=alert(1)>`",
    "> <iframe src=javascript:alert(1)>",
    "- <a href=javascript:alert(1)>x</a>",
    "```\n</code></pre><script>alert(1)</script>\n```",
    "[<img src=x onerror=alert(1)>](http://example.org)",
    '1. [x](http://example.org/"onmouseover=alert(1))',
]


def assert_safe_html(fragment: str, tags: set[str] = PLAIN_TAGS) -> None:
    """Only the allowed tags (<p>, <br> and <a href rel> for plain text, and the
    markdown subset's); links only to http(s)/mailto; no other attributes."""
    parser = _Collector()
    parser.feed(fragment)
    parser.close()
    for tag, attrs in parser.elements:
        assert tag in tags, (tag, fragment)
        names = {name for name, _ in attrs}
        allowed = {"href", "rel"} if tag == "a" else {"start"} if tag == "ol" else set()
        assert names <= allowed, (tag, attrs)
        for name, value in attrs:
            if name == "href":
                assert urlsplit((value or "").strip()).scheme.lower() in SAFE_SCHEMES, value
            if name == "rel":
                assert value == "nofollow ugc noopener"


@pytest.mark.parametrize("payload", PAYLOADS)
def test_comment_create_edit_and_thread_output_are_safe(api_client, post, payload):
    created = api_client.post(
        f"/api/posts/{post.pk}/comments/", {"body": f"x {payload}"}, format="json"
    )
    assert created.status_code == 201, created.content
    data = created.json()
    assert data["body"] == f"x {payload}"  # stored and returned as written (JSON text)
    assert_safe_html(data["body_html"])
    edited = api_client.patch(
        f"/api/comments/{data['id']}/",
        {"body": f"{payload} edited"},
        format="json",
        HTTP_X_EDIT_TOKEN=data["edit_token"],
    )
    assert edited.status_code == 200
    assert_safe_html(edited.json()["body_html"])
    [top] = api_client.get(f"/api/posts/{post.pk}/comments/").json()["results"]
    assert_safe_html(top["body_html"])
    assert api_client.get(f"/api/posts/{post.pk}/comments/")["Content-Type"].startswith(
        "application/json"
    )


@pytest.mark.parametrize("payload", PAYLOADS + MARKDOWN_PAYLOADS)
def test_markdown_comments_create_edit_and_thread_output_are_safe(api_client, post, payload):
    created = api_client.post(
        f"/api/posts/{post.pk}/comments/",
        {"body": f"x {payload}", "format": "markdown"},
        format="json",
    )
    assert created.status_code == 201, created.content
    data = created.json()
    assert data["body"] == f"x {payload}"
    assert data["format"] == "markdown"
    assert_safe_html(data["body_html"], MARKDOWN_TAGS)
    edited = api_client.patch(
        f"/api/comments/{data['id']}/",
        {"body": f"{payload}\n\n*edited*"},
        format="json",
        HTTP_X_EDIT_TOKEN=data["edit_token"],
    )
    assert edited.status_code == 200
    assert_safe_html(edited.json()["body_html"], MARKDOWN_TAGS)
    [top] = api_client.get(f"/api/posts/{post.pk}/comments/").json()["results"]
    assert_safe_html(top["body_html"], MARKDOWN_TAGS)
    assert top["format"] == "markdown"


@pytest.mark.parametrize("payload", PAYLOADS + MARKDOWN_PAYLOADS)
def test_markdown_guest_post_output_is_safe(api_client, blog, payload):
    response = api_client.post(
        "/api/guest-posts/",
        {
            "blog": blog.slug,
            "title": payload[:300],
            "body": payload,
            "author_name": "N",
            "format": "markdown",
        },
        format="json",
    )
    assert response.status_code == 201, response.content
    assert response.json()["format"] == "markdown"
    assert_safe_html(response.json()["body_html"], MARKDOWN_TAGS)


@pytest.mark.parametrize("payload", PAYLOADS)
def test_guest_post_output_is_safe(api_client, blog, payload):
    response = api_client.post(
        "/api/guest-posts/",
        {"blog": blog.slug, "title": payload[:300], "body": payload, "author_name": "N"},
        format="json",
    )
    assert response.status_code == 201, response.content
    assert_safe_html(response.json()["body_html"])


def test_imported_seed_text_is_safe(tmp_path):
    lines = ["Monday 6 January 2025", "", "A title", "", "A body <script>alert(1)</script>", ""]
    lines.append(f"{len(PAYLOADS)} comments:")
    lines.append("")
    for number, payload in enumerate(PAYLOADS, start=1):
        lines += [f"  {number}. {payload}", "", "    ReplyDelete"]
    seed = tmp_path / "hostile.txt"
    seed.write_text("\n".join(lines) + "\n", encoding="utf-8")
    call_command("import_seeds", str(seed), stdout=open("/dev/null", "w"))  # noqa: SIM115
    assert Comment.objects.count() == len(PAYLOADS)
    for body_html in Comment.objects.values_list("body_html", flat=True):
        assert_safe_html(body_html)


def test_admin_pages_escape_every_payload(admin_client, post):
    comments = [make_comment(post, body=payload) for payload in PAYLOADS]
    pages = [
        admin_client.get("/admin/forum/comment/", {"p": page}).content.decode()
        for page in range(0, len(PAYLOADS) // 100 + 1)
    ]
    pages += [
        admin_client.get(f"/admin/forum/comment/{comment.pk}/change/").content.decode()
        for comment in comments[:: max(1, len(comments) // 20)]
    ]
    hostile = [payload for payload in PAYLOADS if "<" in payload and len(payload) > 8]
    for page in pages:
        for payload in hostile:
            assert payload not in page
    assert any(html.escape(hostile[0])[:20] in page for page in pages)


def test_admin_post_edits_render_safe_html(admin_client, post):
    for payload in PAYLOADS:
        form = {
            "blog": post.blog_id,
            "title": payload[:300],
            "slug": post.slug,
            "body": payload,
            "status": "published",
            "published_at_0": "2025-01-01",
            "published_at_1": "12:00:00",
            "author": "",
            "author_name": payload[:80],
            "guest_number": "",
            "submitter_email": "",
        }
        response = admin_client.post(f"/admin/forum/post/{post.pk}/change/", form)
        assert response.status_code == 302, response.content[:2000]
        post.refresh_from_db()
        assert post.body == payload.strip()  # Django forms trim what they save
        assert_safe_html(post.body_html)
        page = admin_client.get(f"/admin/forum/post/{post.pk}/change/").content.decode()
        if "<" in payload and len(payload) > 8:
            assert payload not in page
        assert_safe_html(admin_client.get(f"/api/posts/{post.pk}/").json()["body_html"])
