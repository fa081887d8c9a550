import io

import pytest
from django.core.management import call_command
from rest_framework.test import APIClient

from forum.permissions import is_moderator

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
