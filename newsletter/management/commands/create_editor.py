"""python manage.py create_editor [--username editor]: an admin login for editors, password printed once."""

import secrets

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission
from django.core.management.base import BaseCommand

EDITORS_GROUP = "Editors"


def editors_group():
    group, _ = Group.objects.get_or_create(name=EDITORS_GROUP)
    group.permissions.set(Permission.objects.filter(content_type__app_label="newsletter"))
    return group


class Command(BaseCommand):
    help = "Create the editor account (once) and print its password."

    def add_arguments(self, parser):
        parser.add_argument("--username", default="editor")
        parser.add_argument("--email", default="editor@example.org")

    def handle(self, *args, username, email, **options):
        group = editors_group()
        User = get_user_model()
        admin_url = f"{settings.SITE_URL}/admin/"
        if User.objects.filter(username=username).exists():
            self.stdout.write(
                f"Editor login: {admin_url}  user: {username}  (password shown when it was created; "
                f"reset it with: .venv/bin/python manage.py changepassword {username})"
            )
            return
        password = secrets.token_urlsafe(12)
        user = User.objects.create_user(username=username, email=email, password=password, is_staff=True)
        user.groups.add(group)
        self.stdout.write(self.style.SUCCESS(f"Editor login: {admin_url}  user: {username}  password: {password}"))
        self.stdout.write(
            "The password is shown this once and stored nowhere; keep it "
            f"(reset it with: .venv/bin/python manage.py changepassword {username})."
        )
