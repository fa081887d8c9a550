"""``format`` on comments and guest posts through the API (forum.rendering.render)."""

import pytest

from forum.models import Comment

pytestmark = pytest.mark.django_db


def test_a_markdown_comment_is_rendered_and_says_so(api_client, post):
    created = api_client.post(
        f"/api/posts/{post.pk}/comments/",
        {"body": "Some **bold** words.", "format": "markdown"},
        format="json",
    )
    assert created.status_code == 201
    data = created.json()
    assert data["format"] == "markdown"
    assert data["body_html"] == "<p>Some <strong>bold</strong> words.</p>"
    assert data["body"] == "Some **bold** words."


def test_plain_is_the_default_and_unchanged(api_client, post):
    data = api_client.post(
        f"/api/posts/{post.pk}/comments/", {"body": "Some **bold** words."}, format="json"
    ).json()
    assert data["format"] == "plain"
    assert data["body_html"] == "<p>Some **bold** words.</p>"


def test_an_edit_keeps_the_format_unless_told(api_client, post):
    data = api_client.post(
        f"/api/posts/{post.pk}/comments/", {"body": "*a*", "format": "markdown"}, format="json"
    ).json()
    token = {"HTTP_X_EDIT_TOKEN": data["edit_token"]}
    url = f"/api/comments/{data['id']}/"
    kept = api_client.patch(url, {"body": "*b*"}, format="json", **token).json()
    assert (kept["format"], kept["body_html"]) == ("markdown", "<p><em>b</em></p>")
    plain = api_client.patch(url, {"body": "*c*", "format": "plain"}, format="json", **token)
    assert (plain.json()["format"], plain.json()["body_html"]) == ("plain", "<p>*c*</p>")
    assert Comment.objects.get(pk=data["id"]).body_format == "plain"


@pytest.mark.parametrize("value", ["html", "", None, 1])
def test_an_unknown_format_is_a_400_and_writes_nothing(api_client, post, value):
    response = api_client.post(
        f"/api/posts/{post.pk}/comments/", {"body": "x", "format": value}, format="json"
    )
    assert response.status_code == 400
    assert "format" in response.json()
    assert not Comment.objects.exists()


def test_a_markdown_guest_post(api_client, blog):
    response = api_client.post(
        "/api/guest-posts/",
        {
            "blog": blog.slug,
            "title": "T",
            "body": "> quoted\n\nthen _this_",
            "author_name": "N",
            "format": "markdown",
        },
        format="json",
    )
    assert response.status_code == 201
    assert response.json()["body_html"] == (
        "<blockquote>\n<p>quoted</p>\n</blockquote>\n<p>then <em>this</em></p>"
    )
