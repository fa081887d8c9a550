"""``django.contrib.admin`` with the forum's site (``accounts.admin_site``) as
``admin.site``; a module of its own because INSTALLED_APPS imports it early."""

from django.contrib.admin.apps import AdminConfig


class ForumAdminConfig(AdminConfig):
    default_site = "accounts.admin_site.ForumAdminSite"
