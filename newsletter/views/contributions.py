"""The public form through which colleagues suggest an item for the next issue."""

from django.conf import settings
from django.shortcuts import get_object_or_404, render
from django.views.decorators.http import require_http_methods

from newsletter.contributions import ContributionForm
from newsletter.models import Newsletter
from newsletter.ratelimit import allow, client_ip, retry_after

WINDOW = 3600


@require_http_methods(["GET", "POST"])
def contribute(request, slug):
    newsletter = get_object_or_404(Newsletter, slug=slug)
    form = ContributionForm(request.POST or None)
    if request.method == "POST":
        limit = getattr(settings, "CONTRIBUTIONS_PER_HOUR", 5)
        if not allow(f"contribute:ip:{client_ip(request)}", limit, WINDOW):
            response = render(request, "contributions/limited.html", {"newsletter": newsletter}, status=429)
            response["Retry-After"] = str(retry_after(WINDOW))
            return response
        if form.is_valid():
            if not form.is_bot():  # a bot is thanked like anyone else, and nothing is stored
                contribution = form.save(commit=False)
                contribution.newsletter = newsletter
                contribution.save()
            return render(request, "contributions/thanks.html", {"newsletter": newsletter})
    return render(request, "contributions/form.html", {"newsletter": newsletter, "form": form})
