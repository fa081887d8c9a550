"""factory-boy factories. Comments are created through the service so that paths
and counters are exactly what production code writes."""

import factory
from django.utils import timezone

from accounts.models import User
from forum import services
from forum.models import Blog, Post, PostStatus
from forum.rendering import render_text


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    display_name = factory.Sequence(lambda n: f"User {n}")
    password = factory.PostGenerationMethodCall("set_password", "correct horse battery")

    @classmethod
    def _after_postgeneration(cls, instance, create, results=None):
        if create:
            instance.save()


class BlogFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Blog

    name = factory.Sequence(lambda n: f"Blog {n}")
    slug = factory.Sequence(lambda n: f"blog-{n}")
    description = "A blog."


class PostFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Post

    blog = factory.SubFactory(BlogFactory)
    title = factory.Sequence(lambda n: f"Post {n}")
    slug = factory.Sequence(lambda n: f"post-{n}")
    body = "The body of the post."
    body_html = factory.LazyAttribute(lambda post: render_text(post.body))
    status = PostStatus.PUBLISHED
    published_at = factory.LazyFunction(timezone.now)


def make_comment(post, body="A comment.", parent=None, **kwargs):
    return services.comment_create(post=post, body=body, parent=parent, **kwargs)


def make_thread(post, *, top_level: int, replies_per_comment: int = 0):
    """``top_level`` comments, each with ``replies_per_comment`` direct replies."""
    made = []
    for i in range(top_level):
        top = make_comment(post, body=f"Top {i}")
        made.append(top)
        for j in range(replies_per_comment):
            made.append(make_comment(post, body=f"Reply {i}.{j}", parent=top))
    return made
