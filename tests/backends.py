"""The tests' task backend: Django's Dummy backend, with an idle worker for fan-outs."""

from django_tasks.backends.dummy import DummyBackend


class FanOutAtOnceBackend(DummyBackend):
    """Collects the tasks like the Dummy backend (``tests.utils.run_tasks`` runs them), except
    a publish's fan-out, which runs when it is enqueued (once the publish commits), as an idle
    worker would take it: the page's records exist when the test looks. Tests of the publish
    alone use the plain Dummy backend (``pending_fan_out`` in tests/conftest.py)."""

    def enqueue(self, task, args, kwargs):
        from wagtail_syndicate.pipeline.outbox import fan_out_task as fan_out

        if task.func is not fan_out.func:
            return super().enqueue(task, args, kwargs)
        self.validate_task(task)
        task.call(*args, **kwargs)
        return None
