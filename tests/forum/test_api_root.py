"""forum/api/root.py and config/urls.py: the API root, the site root, the admin's
"View site"."""

import pytest
from django.contrib import admin
from django.test import Client

from tests.openapi import served_schema

pytestmark = pytest.mark.django_db


def test_the_api_root_names_the_api_and_links_everything(api_client):
    response = api_client.get("/api/")
    assert response.status_code == 200
    body = response.json()
    assert body["name"] == "Forum API"
    assert body["version"] == served_schema()["info"]["version"]
    assert body["schema"] == "http://testserver/api/schema/"
    assert body["docs"] == "http://testserver/api/docs/"
    assert body["links"]["posts"] == "http://testserver/api/posts/"
    assert body["links"]["moderation/queue"] == "http://testserver/api/moderation/queue/"


def test_the_api_root_links_every_endpoint_without_a_path_parameter(api_client):
    links = api_client.get("/api/").json()["links"]
    fixed = {
        path.removeprefix("/api/").rstrip("/")
        for path in served_schema()["paths"]
        if "{" not in path and path != "/api/"
    }
    assert fixed <= set(links)
    for url in links.values():
        assert Client().options(url.removeprefix("http://testserver")).status_code != 404


@pytest.mark.parametrize("debug", [False, True])
def test_the_site_root_redirects_to_the_api_root(settings, debug):
    settings.DEBUG = debug
    response = Client().get("/", follow=True)
    assert response.redirect_chain == [("/api/", 302)]
    assert response.status_code == 200
    assert response.json()["name"] == "Forum API"


def test_the_admins_view_site_leads_to_the_api_root(admin_client):
    assert admin.site.site_url == "/api/"
    page = admin_client.get("/admin/")
    assert b'href="/api/"' in page.content
