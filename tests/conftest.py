import pytest
from django.contrib.auth.models import Group

from forum.permissions import MODERATORS_GROUP
from tests.factories import BlogFactory, PostFactory, UserFactory
from tests.openapi import SchemaCheckingAPIClient as APIClient


@pytest.fixture(autouse=True)
def _test_settings(settings):
    # Production serves hashed files from a collected manifest; tests run without
    # collectstatic, so they use the plain storage (templates still resolve URLs).
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }

    # The test client speaks plain HTTP; production redirects that to HTTPS.
    settings.SECURE_SSL_REDIRECT = False
    # Hashing strength is not under test; PBKDF2's iterations would dominate the run.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def api_client() -> APIClient:
    return APIClient()


@pytest.fixture
def user(db):
    return UserFactory()


@pytest.fixture
def moderator(db):
    user = UserFactory(username="mod", display_name="The Moderator")
    group, _ = Group.objects.get_or_create(name=MODERATORS_GROUP)
    user.groups.add(group)
    return user


@pytest.fixture
def blog(db):
    return BlogFactory(slug="probation", name="Probation Blog")


@pytest.fixture
def post(blog):
    return PostFactory(blog=blog)


@pytest.fixture
def user_client(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


@pytest.fixture
def moderator_client(moderator) -> APIClient:
    client = APIClient()
    client.force_authenticate(moderator)
    return client
