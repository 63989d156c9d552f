import os

from django.core.files.storage import InMemoryStorage
from django.utils._os import safe_join


class NoPathStorage(InMemoryStorage):
    """Like a remote storage (S3 and the like): files can be opened, but have no local path."""

    def path(self, name):
        raise NotImplementedError("This storage has no filesystem paths: open the file instead.")

    def _relative_path(self, name):
        # InMemoryStorage keys its files by path internally; keep that working.
        return os.path.relpath(safe_join(self.location, name), self.location)
