"""Pages that lose the database or the broker answer 503 with one clear line, not a traceback."""

import logging

from django.shortcuts import render

from performance.common.failures import explain

log = logging.getLogger("performance.failures")


class FailureMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        line = explain(exception)
        if line is None:
            return None  # a bug: Django's 500 handling, with the traceback in the log
        log.error("%s %s: %s", request.method, request.path, line, exc_info=exception)
        return render(request, "503.html", {"line": line}, status=503)
