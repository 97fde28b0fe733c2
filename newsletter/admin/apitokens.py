"""API tokens in the admin: created (the token shown once, in the message after saving) and revoked.
An editor sees and makes their own tokens; a superuser sees everyone's."""

from django.contrib import admin, messages
from django.utils import timezone

from newsletter.models import ApiToken


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    list_display = ["name", "user", "scope", "hint", "created_at", "last_used_at", "revoked_at"]
    list_filter = ["scope", ("revoked_at", admin.EmptyFieldListFilter)]
    readonly_fields = ["hint", "created_at", "last_used_at", "revoked_at"]
    actions = ["revoke"]

    def get_queryset(self, request):
        tokens = super().get_queryset(request).select_related("user")
        return tokens if request.user.is_superuser else tokens.filter(user=request.user)

    def get_fields(self, request, obj=None):
        fields = ["name", "scope", *self.readonly_fields]
        return (["user"] if request.user.is_superuser else []) + fields

    def get_readonly_fields(self, request, obj=None):
        if obj is not None:  # a token's scope and owner never change: revoke it and make another
            return ["user", "name", "scope", *self.readonly_fields]
        return self.readonly_fields

    def save_model(self, request, obj, form, change):
        if change:
            return super().save_model(request, obj, form, change)
        if not request.user.is_superuser or not obj.user_id:
            obj.user = request.user
        raw = obj.generate()
        super().save_model(request, obj, form, change)
        messages.warning(
            request,
            f"The new token is {raw} — copy it now: it is stored only as a hash and will not be shown again.",
        )

    @admin.action(description="Revoke the selected tokens")
    def revoke(self, request, queryset):
        done = queryset.filter(revoked_at__isnull=True).update(revoked_at=timezone.now())
        self.message_user(request, f"{done} token(s) revoked.", messages.SUCCESS)
