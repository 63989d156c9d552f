// The editor's "What will be posted" cards follow the form as the editor types: a short while
// after the last change, the form's current values are posted to the plugin's preview view
// (as Wagtail's own preview panel posts the form to its preview view), which renders the
// cards from them without saving anything and without asking any server.
(() => {
  class SyndicationPreviewController extends window.StimulusModule.Controller {
    static targets = ['cards'];

    static values = {
      url: String,
      delay: { type: Number, default: 500 },
    };

    connect() {
      this.form = this.element.closest('form');
      if (!this.form || !this.urlValue) return;
      this.sent = 0;
      this.schedule = this.schedule.bind(this);
      this.form.addEventListener('input', this.schedule);
      this.form.addEventListener('change', this.schedule);
      // A post that settles (the Shared posts panel is live) changes what publishing would do.
      this.settled = this.settled.bind(this);
      document.addEventListener('syndication-live:updated', this.settled);
    }

    disconnect() {
      clearTimeout(this.timer);
      if (!this.form) return;
      this.form.removeEventListener('input', this.schedule);
      this.form.removeEventListener('change', this.schedule);
      document.removeEventListener('syndication-live:updated', this.settled);
    }

    settled(event) {
      const fresh = event.detail?.fresh;
      if (fresh?.getAttribute('data-syndication-live-in-flight-value') === 'false') this.update();
    }

    schedule(event) {
      if (this.element.contains(event.target)) return; // the cards' own buttons
      clearTimeout(this.timer);
      this.timer = setTimeout(() => this.update(), this.delayValue);
    }

    async update() {
      this.sent += 1;
      const number = this.sent;
      this.element.setAttribute('aria-busy', 'true');
      try {
        const response = await fetch(this.urlValue, {
          method: 'POST',
          body: new FormData(this.form),
          headers: { 'X-Requested-With': 'XMLHttpRequest' },
          credentials: 'same-origin',
        });
        // An answer to an older version of the form is not shown over a newer one.
        if (!response.ok || number !== this.sent) return;
        this.cardsTarget.innerHTML = await response.text();
        this.dispatch('updated');
      } catch (error) {
        // Offline or the server down: the cards stay as they were until the next change.
      } finally {
        if (number === this.sent) this.element.removeAttribute('aria-busy');
      }
    }
  }

  window.wagtail.app.register('syndication-preview', SyndicationPreviewController);
})();
