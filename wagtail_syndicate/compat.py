"""Differences between the versions of the libraries we support, in one place."""

try:  # django-tasks 0.8+ (Wagtail 7.1+)
    from django_tasks import task_backends
except ImportError:  # django-tasks 0.7 (Wagtail 7.0)
    from django_tasks import tasks as task_backends

__all__ = ["task_backends"]
