from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class WagtailSyndicateAppConfig(AppConfig):
    name = "wagtail_syndicate"
    label = "wagtail_syndicate"
    verbose_name = _("Syndication")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from . import checks, permissions, signal_handlers  # noqa: F401  (checks register on import)

        permissions.register_policies()
        signal_handlers.connect()
