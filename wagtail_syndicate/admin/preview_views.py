"""The views that render the preview cards from the page editor's form as the editor types.

Apart from ``preview_cards`` because Wagtail's preview views load models when imported: page
models import the panels (and so ``preview_cards``) while models load.
"""

from django.template.response import TemplateResponse

try:
    from wagtail.admin.views.pages.preview import PreviewOnCreateView, PreviewOnEditView
except ImportError:  # Wagtail 7 names them PreviewOnCreate and PreviewOnEdit
    from wagtail.admin.views.pages.preview import PreviewOnCreate as PreviewOnCreateView
    from wagtail.admin.views.pages.preview import PreviewOnEdit as PreviewOnEditView


from wagtail_syndicate.admin.preview_cards import TEMPLATE, cards_context


class CardsFromForm:
    """POST the page editor's form: the cards for the page as the form has it, not saved.

    Like Wagtail's own preview views (whose permission checks and form it reuses): only those
    who may edit the page (or add it there), and the form's values are read, never stored."""

    http_method_names = ["post"]

    def post(self, request, *args, **kwargs):
        form = self.get_form(request.POST)
        self.validate_form(form)  # puts the valid values on form.instance
        if hasattr(form, "cleaned_data"):
            form.save_cluster_m2m()  # the accounts chosen, in memory only
        return TemplateResponse(request, TEMPLATE, cards_context(form.instance, from_form=True))


class SyndicationPreviewView(CardsFromForm, PreviewOnEditView):
    """The cards of a page being edited."""


class SyndicationPreviewOnCreateView(CardsFromForm, PreviewOnCreateView):
    """The cards of a page being added, before it is first saved."""
