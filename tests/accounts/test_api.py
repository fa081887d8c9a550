import pytest

from accounts.models import User
from tests.factories import UserFactory, make_comment
from tests.openapi import SchemaCheckingAPIClient as APIClient

pytestmark = pytest.mark.django_db

STRONG = "a sturdy passphrase 42"


def register(client, **data):
    return client.post("/api/accounts/register/", data, format="json")


def test_register_creates_an_account_and_hides_the_password(api_client):
    response = register(api_client, username="jim", password=STRONG, display_name="Jim")
    assert response.status_code == 201
    assert response.json()["username"] == "jim"
    assert "password" not in response.json()
    assert User.objects.get(username="jim").check_password(STRONG)


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"username": "jim", "password": "password"}, "password"),
        ({"username": "jim", "password": "12345678901"}, "password"),
        ({"username": "longusername", "password": "longusername1"}, "password"),
        ({"username": "bad name!", "password": STRONG}, "username"),
        ({"username": "", "password": STRONG}, "username"),
        ({"password": STRONG}, "username"),
        ({"username": "jim"}, "password"),
        ({"username": "jim", "password": STRONG, "email": "not-an-email"}, "email"),
        ({"username": "jim", "password": STRONG, "display_name": "a\x00b"}, "display_name"),
        ({"username": ["jim"], "password": STRONG}, "username"),
    ],
)
def test_register_refuses_bad_input_and_creates_nothing(api_client, data, field):
    response = register(api_client, **data)
    assert response.status_code == 400
    assert field in response.json()
    assert not User.objects.exists()


def test_register_refuses_a_taken_username_whatever_its_case(api_client, user):
    response = register(api_client, username=user.username.upper(), password=STRONG)
    assert response.status_code == 400
    assert "username" in response.json()


def test_register_refuses_malformed_json(api_client):
    response = api_client.post(
        "/api/accounts/register/", "{not json", content_type="application/json"
    )
    assert response.status_code == 400


def test_token_is_issued_for_good_credentials_and_authenticates(api_client):
    register(api_client, username="jim", password=STRONG)
    response = api_client.post(
        "/api/auth/token/", {"username": "jim", "password": STRONG}, format="json"
    )
    assert response.status_code == 200
    token = response.json()["token"]
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    me = client.get("/api/accounts/me/")
    assert me.status_code == 200
    assert me.json()["username"] == "jim"


def test_token_is_refused_for_a_wrong_password(api_client, user):
    response = api_client.post(
        "/api/auth/token/", {"username": user.username, "password": "wrong"}, format="json"
    )
    assert response.status_code == 400
    assert "token" not in response.json()


def test_me_needs_authentication(api_client):
    assert api_client.get("/api/accounts/me/").status_code in (401, 403)


def test_me_shows_whether_the_caller_moderates(moderator_client, user_client):
    assert moderator_client.get("/api/accounts/me/").json()["is_moderator"] is True
    assert user_client.get("/api/accounts/me/").json()["is_moderator"] is False


def test_patching_me_renames_the_author_of_existing_comments(user_client, user, post):
    comment = make_comment(post, author=user)
    response = user_client.patch("/api/accounts/me/", {"display_name": "  Jim  B "}, format="json")
    assert response.status_code == 200
    assert response.json()["display_name"] == "Jim B"
    comment.refresh_from_db()
    assert comment.author_name == "Jim B"


def test_patching_me_refuses_an_overlong_name(user_client, user):
    response = user_client.patch("/api/accounts/me/", {"display_name": "x" * 81}, format="json")
    assert response.status_code == 400
    user.refresh_from_db()
    assert user.display_name != "x" * 81


def test_session_writes_need_csrf(user):
    client = APIClient(enforce_csrf_checks=True)
    client.login(username=user.username, password="correct horse battery")
    response = client.patch("/api/accounts/me/", {"display_name": "X"}, format="json")
    assert response.status_code == 403
    assert "CSRF" in response.json()["detail"]


def test_password_attempts_are_limited_per_ip_even_when_logged_in(settings):
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "login": ["2/min"]}
    codes = []
    for user in (UserFactory(), UserFactory(), UserFactory()):  # three accounts, one IP
        client = APIClient()
        client.force_authenticate(user)
        response = client.post(
            "/api/auth/token/", {"username": user.username, "password": "wrong"}, format="json"
        )
        codes.append(response.status_code)
    assert codes == [400, 400, 429]


@pytest.mark.parametrize(
    ("taken", "look_alike"),
    [
        ("mallory", "\uff4d\uff41\uff4c\uff4c\uff4f\uff52\uff59"),  # fullwidth
        ("moderator", "\uff2d\uff2f\uff24\uff25\uff32\uff21\uff34\uff2f\uff32"),
        ("fish", "\ufb01sh"),  # the fi ligature
    ],
)
def test_register_refuses_a_compatibility_look_alike_of_a_taken_name(api_client, taken, look_alike):
    UserFactory(username=taken)
    response = register(api_client, username=look_alike, password=STRONG)
    assert response.status_code == 400
    assert "already exists" in response.json()["username"][0]
    assert User.objects.count() == 1


def test_register_stores_the_normal_form_of_a_name(api_client):
    response = register(api_client, username="\ufb01sh", password=STRONG)
    assert response.status_code == 201
    assert response.json()["username"] == "fish"
    assert User.objects.get().username == "fish"
