from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class WagtailSyndicateAppConfig(AppConfig):
    name = "wagtail_syndicate"
    label = "wagtail_syndicate"
    verbose_name = _("Syndication")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # Permission policies are registered in wagtail_hooks.py (see permissions.py): here is
        # too late on Wagtail 8 when this app comes after wagtail.snippets.
        from wagtail_syndicate import checks, signal_handlers  # noqa: F401  (checks register on import)

        signal_handlers.connect()
