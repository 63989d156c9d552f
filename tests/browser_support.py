"""What the browser tests need besides the test site: its media files served (the storage is in
memory, so nothing else serves them) and a task queue shared with the live server's thread."""

from django.core.files.storage import default_storage
from django.http import FileResponse, Http404
from django.urls import path

from tests.backends import FanOutAtOnceBackend
from tests.urls import urlpatterns as site_urlpatterns


def media(request, name):
    if not default_storage.exists(name):
        raise Http404(name)
    return FileResponse(default_storage.open(name))


urlpatterns = [path("media/<path:name>", media), *site_urlpatterns]


class SharedDummyBackend(FanOutAtOnceBackend):
    """The Dummy backend keeps its tasks per thread; this one keeps them for the whole process,
    so tasks enqueued by the live server can be run by the test (``tests.utils.run_tasks``).
    A publish's fan-out runs at once, as in the other tests (``tests.backends``)."""

    shared_results: list = []

    def __init__(self, alias: str, params: dict) -> None:
        super().__init__(alias, params)
        self.results = self.shared_results
