from django.db import models


class Article(models.Model):
    title = models.CharField(max_length=200)

    def __str__(self) -> str:
        return self.title

    def get_absolute_url(self) -> str:
        return f"/articles/{self.pk}/"
