"""Failed passwords lock the account and the client's network, wherever a password
is checked: the admin login, the API token, the admin password change and erasing
one's account. Through HTTP, as an attacker would try it."""

import logging
import time

import pytest
from django.test import Client

from tests.factories import UserFactory
from tests.openapi import SchemaCheckingAPIClient as APIClient

pytestmark = pytest.mark.django_db

RIGHT = "correct horse battery"  # tests.factories.UserFactory's password
NET_A = "203.0.113.5"
NET_A_NEIGHBOUR = "203.0.113.77"  # the same /24
NET_B = "198.51.100.9"


@pytest.fixture(autouse=True)
def _limits(settings):
    # Attempts per minute are not under test here; the failure limits are the defaults.
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "login": []}


@pytest.fixture
def staff():
    return UserFactory(username="moderator", is_staff=True, is_superuser=True)


def admin_login(username: str, password: str, ip: str = NET_A):
    client = Client(REMOTE_ADDR=ip)
    response = client.post(
        "/admin/login/?next=/admin/", {"username": username, "password": password}
    )
    return client, response


def token(username: str, password: str, ip: str = NET_A):
    return APIClient(REMOTE_ADDR=ip).post(
        "/api/auth/token/", {"username": username, "password": password}, format="json"
    )


def test_admin_login_locks_the_account_even_for_the_right_password(staff, caplog):
    for _ in range(5):
        _, response = admin_login("moderator", "wrong", ip=NET_A)
        assert response.status_code in (200, 429)
    with caplog.at_level(logging.WARNING, logger="accounts.lockout"):
        client, response = admin_login("moderator", RIGHT, ip=NET_B)  # another network too
    assert response.status_code == 429
    assert int(response["Retry-After"]) > 0
    assert b"Too many failed sign-ins" in response.content
    assert "_auth_user_id" not in client.session
    assert client.get("/admin/").status_code == 302  # not logged in: sent to the login page
    assert "sign-in refused while locked: account='moderator'" in caplog.text


def test_the_failure_that_starts_a_lockout_is_logged(staff, caplog):
    with caplog.at_level(logging.WARNING, logger="accounts.lockout"):
        for _ in range(5):
            admin_login("moderator", "wrong")
    assert caplog.text.count("sign-in locked after repeated failures") == 1


def test_four_failures_do_not_lock_and_the_right_password_then_works(staff):
    for _ in range(4):
        _, response = admin_login("moderator", "wrong")
        assert response.status_code == 200
    client, response = admin_login("moderator", RIGHT)
    assert response.status_code == 302
    assert client.get("/admin/").status_code == 200


def test_the_lockout_ends_when_the_oldest_failure_leaves_the_span(staff, settings):
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "login_failures_account": ["2/1s"]}
    admin_login("moderator", "wrong")
    admin_login("moderator", "wrong")
    assert admin_login("moderator", RIGHT)[1].status_code == 429
    time.sleep(1.1)
    assert admin_login("moderator", RIGHT)[1].status_code == 302


def test_the_admin_and_the_token_endpoint_share_one_count(staff):
    for _ in range(3):
        admin_login("moderator", "wrong")
    assert token("moderator", "wrong").status_code == 400
    locked = token("moderator", "wrong")  # the fifth failure starts the lockout
    assert locked.status_code == 429
    response = token("moderator", RIGHT, ip=NET_B)
    assert response.status_code == 429
    assert "token" not in response.json()
    assert int(response["Retry-After"]) > 0
    assert admin_login("moderator", RIGHT, ip=NET_B)[1].status_code == 429


def test_account_names_are_counted_whatever_their_case(staff):
    for name in ("Moderator", "MODERATOR", "moderator ", "moderaTor", "moderator"):
        admin_login(name, "wrong")
    assert token("moderator", RIGHT).status_code == 429


def test_unknown_accounts_lock_like_real_ones(db):
    codes = [token("nobody-here", "wrong").status_code for _ in range(6)]
    assert codes == [400, 400, 400, 400, 429, 429]


def test_a_network_that_guesses_at_many_accounts_is_locked_for_all(settings):
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "login_failures_network": ["4/15min"]}
    users = UserFactory.create_batch(5)
    for user, ip in zip(users[:4], [NET_A, NET_A_NEIGHBOUR, NET_A, NET_A_NEIGHBOUR], strict=True):
        assert token(user.username, "wrong", ip=ip).status_code in (400, 429)
    assert token(users[4].username, RIGHT, ip="203.0.113.200").status_code == 429
    assert token(users[4].username, RIGHT, ip=NET_B).status_code == 200  # another network


def test_ipv6_clients_are_counted_by_their_64(settings):
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "login_failures_network": ["3/15min"]}
    users = UserFactory.create_batch(4)
    one_64 = ["2001:db8:1:2::1", "2001:db8:1:2::2", "2001:db8:1:2:ff::9"]
    for user, ip in zip(users[:3], one_64, strict=True):
        token(user.username, "wrong", ip=ip)
    assert token(users[3].username, RIGHT, ip="2001:db8:1:2:abcd::1").status_code == 429
    assert token(users[3].username, RIGHT, ip="2001:db8:1:3::1").status_code == 200


def test_erasing_the_account_counts_wrong_passwords_and_locks(user):
    client = APIClient(REMOTE_ADDR=NET_A)
    client.force_authenticate(user)
    codes = [
        client.delete("/api/accounts/me/", {"password": f"guess {i}"}, format="json").status_code
        for i in range(15)
    ]
    assert codes[:4] == [400] * 4
    assert set(codes[4:]) == {429}
    response = client.delete("/api/accounts/me/", {"password": RIGHT}, format="json")
    assert response.status_code == 429
    assert int(response["Retry-After"]) > 0
    user.refresh_from_db()  # still there
    assert token(user.username, RIGHT, ip=NET_B).status_code == 429  # and sign-in is locked too


def test_erasing_with_the_right_password_still_works(user):
    client = APIClient(REMOTE_ADDR=NET_A)
    client.force_authenticate(user)
    assert client.delete("/api/accounts/me/", {"password": RIGHT}, format="json").status_code == 204


def test_the_admin_password_change_counts_the_old_password(staff):
    client = Client(REMOTE_ADDR=NET_A)
    client.force_login(staff)
    url = "/admin/password_change/"
    new = {"new_password1": "a new sturdy phrase 7", "new_password2": "a new sturdy phrase 7"}
    codes = [client.post(url, {"old_password": "wrong", **new}).status_code for _ in range(6)]
    assert codes == [200] * 4 + [429] * 2
    assert client.post(url, {"old_password": RIGHT, **new}).status_code == 429
    staff.refresh_from_db()
    assert staff.check_password(RIGHT)


def test_failures_are_counted_in_the_shared_store(staff, shared_redis):
    for _ in range(5):
        admin_login("moderator", "wrong")
    assert shared_redis.keys("rl:login_failures_account:*")
    assert shared_redis.keys("rl:login_failures_network:*")
    assert token("moderator", RIGHT, ip=NET_B).status_code == 429
