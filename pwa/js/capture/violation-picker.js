/**
 * The capture form's violation step: a search in everyday words with a ranked, tappable
 * list of results (violation-search.js), the full list as a <select> (the form's field,
 * `select[name=violation]`), and the chosen violation in full with its fines in plain
 * words per vehicle class (fines.js).
 */
import { currentLang, t } from '../i18n.js';
import { el } from '../ui/dom.js';

let fines = null; // fines.js, once loaded
import { buildIndex, search } from '../violation-search.js';

const MAX_RESULTS = 8;
// The index is built when the browser is idle (tens of ms on a budget phone), or at the
// first search if that comes sooner. Safari has no requestIdleCallback.
const whenIdle = (fn) =>
  window.requestIdleCallback ? requestIdleCallback(fn, { timeout: 2000 }) : setTimeout(fn, 300);

const shortName = (v, lang) => (lang === 'en' ? v.short_en || v.name_en : v.short_vi || v.name_vi);
const fullName = (v, lang) => (lang === 'en' ? v.name_en : v.name_vi);

export class ViolationPicker {
  /**
   * @param {HTMLFormElement} form
   * @param {{vehicleClass(): string, onChosen(): void}} hooks
   */
  constructor(form, hooks) {
    this.form = form;
    this.hooks = hooks;
    this.catalogue = [];
    this.index = null; // built from the catalogue on demand: searchIndex()
    this.generation = 0; // a new catalogue redraws the results
    this.collapsed = false; // the results are folded away once one is tapped
    this.input = form.elements.violation_search;
    this.select = form.elements.violation;
    this.$ = (sel) => form.querySelector(sel);
    this.input.addEventListener('input', () => {
      this.collapsed = false;
      this.renderResults();
    });
    this.input.addEventListener('keydown', (e) => this.onKey(e));
    this.select.addEventListener('change', () => {
      this.renderResults(); // the tapped-looking result follows the list's choice
      this.renderChosen();
      this.hooks.onChosen();
    });
  }

  setCatalogue(list) {
    this.catalogue = list;
    this.index = null;
    this.generation++;
    this.render();
    whenIdle(() => this.searchIndex());
  }

  searchIndex() {
    if (!this.index) this.index = buildIndex(this.catalogue);
    return this.index;
  }

  render() {
    this.renderSelect();
    this.renderResults();
    this.renderChosen();
  }

  /** Enter in the search box picks the first result instead of submitting the form. */
  onKey(e) {
    if (e.key !== 'Enter') return;
    e.preventDefault();
    const first = this.$('#violation-results button');
    if (first) first.click();
  }

  /** Every violation, by its everyday name; those hard to show in a photo grouped last. */
  renderSelect() {
    const current = this.select.value;
    const lang = currentLang();
    const option = (v) => el('option', { value: v.code, text: shortName(v, lang) });
    const easy = this.catalogue.filter((v) => v.photographable);
    const hard = this.catalogue.filter((v) => !v.photographable);
    const text = this.catalogue.length ? t('violation_choose') : t('catalogue_missing');
    const children = [el('option', { value: '', text }), ...easy.map(option)];
    if (hard.length) children.push(el('optgroup', { label: t('group_hard') }, ...hard.map(option)));
    this.select.replaceChildren(...children);
    if (this.catalogue.some((v) => v.code === current)) this.select.value = current;
  }

  renderResults() {
    const list = this.$('#violation-results');
    const count = this.$('#violation-count');
    const query = this.input.value.trim();
    const found = query ? search(this.searchIndex(), query, MAX_RESULTS) : [];
    const lang = currentLang();
    // Typing often keeps the same results: then the list is left as it is (no layout).
    const key = [this.generation, lang, this.select.value, ...found.map(({ v }) => v.code)].join(' ');
    if (key !== list.dataset.key) {
      list.replaceChildren(...found.map(({ v }) => this.resultItem(v, lang)));
      list.dataset.key = key;
    }
    list.hidden = this.collapsed || !found.length;
    list.dataset.count = String(found.length);
    if (!query || this.collapsed) count.textContent = '';
    else if (!found.length) count.textContent = t('violation_none');
    else count.textContent = found.length === 1 ? t('violation_count_one') : t('violation_count', { n: found.length });
  }

  resultItem(v, lang) {
    const chosen = v.code === this.select.value;
    const button = el(
      'button',
      { type: 'button', class: 'result', 'data-code': v.code, 'aria-pressed': String(chosen) },
      el('span', { class: 'result-short', text: shortName(v, lang) }),
      el('span', { class: 'result-name', text: fullName(v, lang) }),
    );
    button.addEventListener('click', () => this.choose(v.code));
    return el('li', {}, button);
  }

  /** Tapping a result: it becomes the form's violation; the results fold away. */
  choose(code) {
    this.select.value = code;
    this.collapsed = true;
    this.renderResults();
    this.renderChosen();
    this.hooks.onChosen();
    this.$('#violation-chosen').scrollIntoView?.({ block: 'nearest' });
  }

  /** The chosen violation: everyday name, the decree's full wording, fines per vehicle. */
  renderChosen() {
    const box = this.$('#violation-chosen');
    const v = this.catalogue.find((x) => x.code === this.select.value);
    box.hidden = !v;
    if (!v) {
      box.replaceChildren();
      return;
    }
    const lang = currentLang();
    const vclass = this.hooks.vehicleClass();
    if (!fines) {
      // fines.js is loaded when a violation is first shown; draw again once it is here.
      import('../fines.js').then((m) => {
        fines = m;
        this.renderChosen();
      });
    }
    const lines = fines ? fines.fineLines(v, lang, vclass) : [];
    const children = [
      el('p', { class: 'chosen-short', text: shortName(v, lang) }),
      el('p', { class: 'chosen-name', text: fullName(v, lang) }),
    ];
    if (lines.length) {
      children.push(el('p', { class: 'chosen-title', text: t('fines_title') }));
      const items = lines.map((l) => el('li', { class: l.current ? 'current' : '', text: l.text }));
      children.push(el('ul', { class: 'fines' }, ...items));
    }
    if (vclass && v.vehicle_classes.length && !v.vehicle_classes.includes(vclass)) {
      children.push(el('p', { class: 'warn', text: `⚠ ${t('violation_mismatch')}` }));
    }
    box.replaceChildren(...children);
  }

  reset() {
    this.collapsed = false;
    this.render();
  }
}
