"""`manage.py check --deploy`: mail must not come from a local address (newsletter@localhost, *.local, …).

Registered from NewsletterConfig.ready(). Runs only with --deploy, reads the newsletters when the
database answers, and says nothing about them when it does not (not migrated yet, or unreachable).
"""

from django.conf import settings
from django.core import checks
from django.db import DatabaseError

from newsletter.mail.headers import domain_of, is_local_domain

HINT = "Receiving servers refuse or bin mail from a domain that only exists on this machine."


@checks.register("newsletter", deploy=True)
def check_senders(app_configs=None, **kwargs):
    from newsletter.models import Newsletter

    problems = []
    if is_local_domain(domain_of(settings.DEFAULT_FROM_EMAIL)):
        problems.append(
            checks.Warning(
                f"DEFAULT_FROM_EMAIL is {settings.DEFAULT_FROM_EMAIL!r}, on a local domain.",
                hint=f"{HINT} Set DEFAULT_FROM_EMAIL to an address on your own domain, e.g. news@example.org; "
                "newsletters without a sender of their own and confirmation mail for several newsletters use it.",
                id="newsletter.W001",
            )
        )
    try:
        senders = list(Newsletter.objects.exclude(sender_email="").values_list("name", "sender_email"))
    except DatabaseError:  # ProgrammingError, OperationalError: not migrated yet, or no database here
        return problems
    for name, address in senders:
        if is_local_domain(domain_of(address)):
            problems.append(
                checks.Warning(
                    f"The newsletter {name!r} sends from {address!r}, on a local domain.",
                    hint=f"{HINT} Change its sender's address in Admin → Newsletters → {name}.",
                    id="newsletter.W002",
                )
            )
    return problems
