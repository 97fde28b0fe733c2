"""Subscribe, confirm, preferences and one-click unsubscribe: the reader's own pages. (Being built.)"""

from django.http import HttpResponse


def _not_yet(request, *args, **kwargs):
    return HttpResponse("Not built yet.", status=501)


subscribe = confirm = preferences = unsubscribe = _not_yet
