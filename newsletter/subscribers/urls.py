from django.urls import path

from newsletter.subscribers import views as subscriptions

app_name = "subscriptions"

urlpatterns = [
    path("subscribe/", subscriptions.subscribe, name="subscribe"),
    path("subscribe/confirm/<str:token>/", subscriptions.confirm, name="confirm"),
    path("preferences/<str:token>/", subscriptions.preferences, name="preferences"),
    path("unsubscribe/<str:token>/", subscriptions.unsubscribe, name="unsubscribe"),
    path("api/subscribe/", subscriptions.subscribe_api, name="subscribe_api"),
]
