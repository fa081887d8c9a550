from django.urls import path

from notifications import views

urlpatterns = [
    path("confirm/<str:token>/", views.confirm, name="notifications-confirm"),
    path("unsubscribe/<str:token>/", views.unsubscribe, name="notifications-unsubscribe"),
    path("moderate/<str:token>/", views.moderate, name="notifications-moderate"),
]
