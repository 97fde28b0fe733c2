"""Admin for subscribers and their subscriptions."""

from django.contrib import admin

from newsletter.models import Subscriber, Subscription


class SubscriptionInline(admin.TabularInline):
    model = Subscription
    extra = 0
    fields = ["newsletter", "status", "created_at", "confirmed_at", "unsubscribed_at"]
    readonly_fields = ["created_at", "confirmed_at", "unsubscribed_at"]


@admin.register(Subscriber)
class SubscriberAdmin(admin.ModelAdmin):
    list_display = ["email", "name", "created_at"]
    list_filter = ["subscriptions__newsletter", "subscriptions__status"]
    search_fields = ["email", "name"]
    inlines = [SubscriptionInline]


@admin.register(Subscription)
class SubscriptionAdmin(admin.ModelAdmin):
    list_display = ["subscriber", "newsletter", "status", "created_at", "confirmed_at"]
    list_filter = ["newsletter", "status"]
    search_fields = ["subscriber__email"]
    list_select_related = ["subscriber", "newsletter"]
    raw_id_fields = ["subscriber"]
