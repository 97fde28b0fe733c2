"""The JSON API under /api/v1/ (docs/api.md): editors' scripts and other systems read published issues, write
drafts and their sections, suggest contributions and read subscriber counts.

Owns: bearer-token authentication and scopes (`auth`, tokens are newsletter.models.ApiToken, created in the
admin), the JSON error shape (`errors`), the serializers with the admin's validation (`serializers`), the views
(`views`) and the URLs and OpenAPI schema (`urls`). A door, at the top layer: it reads the models and calls the
areas' functions; nothing imports it.
"""
