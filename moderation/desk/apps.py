from django.apps import AppConfig


class DeskConfig(AppConfig):
    name = "moderation.desk"
    label = "moderation_desk"
    verbose_name = "Moderation desk"

    def ready(self) -> None:
        from django.contrib import admin

        # The admin index links the desk first, for moderators.
        admin.site.index_template = "moderation_desk/admin_index.html"
