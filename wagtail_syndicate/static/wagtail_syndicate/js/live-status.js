/* Live status of shared posts: while a record shown is queued, posting or retrying, ask the
 * server again for the same fragment (panel, report results, inspect fields), swap it in, and
 * tell screen readers what changed. Stops as soon as nothing is in flight.
 *
 * <div data-controller="syndication-live"
 *      data-syndication-live-url-value="…"            the fragment's URL (same template)
 *      data-syndication-live-in-flight-value="true"   keep polling?
 *      data-syndication-live-intervals-value="[2000, 4000, 8000]"  waits, in ms; the last repeats
 *      data-syndication-live-header-value="#region">  optional: a header region to keep as answered
 *   <div data-syndication-live-target="content">…
 *     <template data-syndication-live-target="headerItems">…</template>  optional
 *   </div>
 *   <div aria-live="polite" data-syndication-live-target="announcer"></div>
 * </div>
 *
 * Each record in the content carries data-record-key and data-record-announce (its sentence for
 * screen readers); a changed sentence is announced.
 *
 * The page header is Wagtail's, outside the wrapper, so it follows in one of two ways:
 * - headerItems: the plugin's own items of the header's Actions menu
 *   ([data-syndication-header-item], e.g. "View post"), replaced there when the answer's differ.
 *   The menu's content lives in its tippy popper (w-dropdown's `tippy`), out of the document
 *   while the menu is closed.
 * - header: a region of the page (the answer is a whole page) that replaces the document's when
 *   its data-syndication-live-key differs, e.g. the inspect view's actions with Retry; the
 *   w-dropdown it holds is connected afresh, as when Wagtail's listings teleport their buttons.
 */
(() => {
  const register = () => {
    const { Controller } = window.StimulusModule;

    class LiveStatusController extends Controller {
      static targets = ['content', 'announcer', 'headerItems'];

      static values = {
        url: String,
        inFlight: Boolean,
        intervals: { type: Array, default: [2000, 4000, 8000, 16000, 32000, 60000] },
        header: String,
      };

      connect() {
        this.step = 0;
        this.schedule();
      }

      disconnect() {
        this.stop();
      }

      inFlightValueChanged() {
        if (this.element.isConnected) this.schedule();
      }

      intervalsValueChanged() {
        if (this.element.isConnected) this.schedule();
      }

      stop() {
        clearTimeout(this.timer);
        this.timer = null;
      }

      schedule() {
        this.stop();
        if (!this.inFlightValue || !this.urlValue || !this.intervalsValue.length) return;
        const waits = this.intervalsValue;
        const wait = waits[Math.min(this.step, waits.length - 1)];
        this.step += 1;
        this.timer = setTimeout(() => this.poll(), wait);
      }

      async poll() {
        let html;
        try {
          const response = await fetch(this.urlValue, {
            headers: { 'X-Requested-With': 'XMLHttpRequest' },
            credentials: 'same-origin',
          });
          if (!response.ok) throw new Error(response.statusText);
          html = await response.text();
        } catch (error) {
          this.schedule(); // a passing failure: try again, later each time
          return;
        }
        // The same wrapper in the answer: by its id (a whole page may hold several), else the first.
        const selector = this.element.id
          ? `#${CSS.escape(this.element.id)}`
          : `[data-controller~="${this.identifier}"]`;
        const answer = new DOMParser().parseFromString(html, 'text/html');
        const fresh = answer.querySelector(selector);
        const content = fresh?.querySelector(`[data-${this.identifier}-target~="content"]`);
        if (!content || !this.hasContentTarget) return;
        const before = this.sentences(this.contentTarget);
        const itemsBefore = this.hasHeaderItemsTarget ? this.headerItemsTarget.innerHTML : null;
        this.contentTarget.replaceChildren(
          ...Array.from(content.childNodes, (node) => document.importNode(node, true)),
        );
        this.announce(before, this.sentences(this.contentTarget));
        if (this.hasHeaderItemsTarget && this.headerItemsTarget.innerHTML !== itemsBefore) {
          this.replaceHeaderItems(this.headerItemsTarget.content);
        }
        this.replaceHeaderRegion(answer);
        this.element.dispatchEvent(
          new CustomEvent(`${this.identifier}:updated`, { bubbles: true, detail: { fresh } }),
        );
        const inFlight = fresh.getAttribute(`data-${this.identifier}-in-flight-value`) === 'true';
        if (inFlight === this.inFlightValue) {
          this.schedule();
        } else {
          this.inFlightValue = inFlight; // inFlightValueChanged schedules (or not)
        }
      }

      replaceHeaderItems(items) {
        const header = document.getElementById('w-slim-header-buttons');
        const menu = header?.querySelector('[data-controller~="w-dropdown"]');
        const dropdown =
          menu && this.application.getControllerForElementAndIdentifier(menu, 'w-dropdown');
        const list = dropdown?.tippy?.props.content;
        if (!(list instanceof Element)) return; // no Actions menu on this page
        const old = list.querySelectorAll('[data-syndication-header-item]');
        const fresh = items.cloneNode(true);
        if (old.length) {
          old[0].before(fresh);
        } else {
          list.append(fresh); // the plugin's items come last (priority 90)
        }
        old.forEach((item) => item.remove());
        dropdown.tippy.popperInstance?.update(); // an open menu keeps its place
      }

      replaceHeaderRegion(answer) {
        if (!this.headerValue) return;
        const current = document.querySelector(this.headerValue);
        const fresh = answer.querySelector(this.headerValue);
        const key = `data-${this.identifier}-key`;
        if (!current || !fresh || current.getAttribute(key) === fresh.getAttribute(key)) return;
        current.replaceWith(document.importNode(fresh, true));
      }

      sentences(root) {
        const found = new Map();
        root.querySelectorAll('[data-record-key]').forEach((el) => {
          found.set(el.dataset.recordKey, el.dataset.recordAnnounce || '');
        });
        return found;
      }

      announce(before, after) {
        if (!this.hasAnnouncerTarget) return;
        const changed = [];
        after.forEach((sentence, key) => {
          if (sentence && before.get(key) !== sentence) changed.push(sentence);
        });
        if (changed.length) this.announcerTarget.textContent = changed.join(' ');
      }
    }

    window.wagtail.app.register('syndication-live', LiveStatusController);
  };

  if (window.wagtail?.app && window.StimulusModule) {
    register();
  } else {
    document.addEventListener('DOMContentLoaded', register, { once: true });
  }
})();
