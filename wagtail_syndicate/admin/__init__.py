"""The admin room: screens, views, forms and panels.

What a page model names from here: ``SyndicatedPageForm`` (its ``base_form_class``) and
``syndication_panels()`` (the editor's panels).
"""

from wagtail_syndicate.admin.page_form import SyndicatedPageForm
from wagtail_syndicate.admin.panels import syndication_panels

__all__ = ["SyndicatedPageForm", "syndication_panels"]
