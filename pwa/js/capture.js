/**
 * The capture form: evidence files (camera or gallery), location (GPS, the photo's EXIF
 * or typed by hand), violation, vehicle, plate, and an optional named report. On
 * submit it hands the outbox the fields and the files and waits for "saved".
 */
import { cachedCatalogue, refreshCatalogue } from './catalogue.js';
import { MAX_FILES, acceptFile, mediaItemView } from './capture/files.js';
import { locationView } from './capture/location-view.js';
import { ViolationPicker } from './capture/violation-picker.js';
import { readExif } from './exif.js';
import { currentLang, formatTime, t } from './i18n.js';
import { Locator, parseLatLon } from './location.js';
import { placeOf, placeWords, placesNow } from './places.js';
import { CaptureError } from './outbox/queue.js';
import { isoLocal, reportFields } from './outbox/serialize.js';
import { normalizePlate } from './plate.js';

// Writing captures (hashing, sealing) is loaded when a file is first picked.
export const saver = () => import('./outbox/save.js');
// The evidence checklist, loaded when a violation is first chosen (kept offline by the
// service worker with the rest).
export const checklistView = () => import('./capture/checklist-view.js');

export class CaptureForm {
  /** @param {{onSaved(record, files): void}} hooks */
  constructor(form, hooks) {
    this.form = form;
    this.hooks = hooks;
    this.officerName = null;
    this.items = []; // {file, type, url, exif, kind}
    this.catalogue = [];
    this.locator = new Locator();
    this.chosen = null; // {lat, lon, accuracy, source} once the user picked exif/manual
    this.mode = 'gps'; // gps | exif | manual
    this.dirty = false;
    this.saving = false;
    this.checklist = null; // checklist-view.js, once loaded
    this.$ = (sel) => form.querySelector(sel);
    this.picker = new ViolationPicker(form, {
      vehicleClass: () => this.vehicleClass(),
      onChosen: () => {
        this.clearError('violation');
        this.renderChecklist();
      },
    });
    this.bind();
  }

  bind() {
    const { form } = this;
    for (const name of ['media', 'camera_photo', 'camera_video']) {
      form.elements[name].addEventListener('change', (e) => {
        this.addFiles([...e.target.files]);
        e.target.value = '';
      });
    }
    form.addEventListener('input', () => {
      this.dirty = true;
    });
    for (const radio of form.elements.vehicle_class) {
      radio.addEventListener('change', () => {
        this.renderPlate();
        this.picker.renderChosen();
        this.clearError('vehicle');
      });
    }
    form.elements.plate.addEventListener('input', () => this.renderPlate());
    this.$('#btn-locate').addEventListener('click', () => {
      this.mode = 'gps';
      this.chosen = null;
      this.locator.start();
      this.renderLocation();
    });
    this.$('#btn-map').addEventListener('click', () => this.pickOnMap());
    this.$('#btn-manual').addEventListener('click', () => {
      this.mode = 'manual';
      this.$('#manual-box').hidden = false;
      form.elements.manual_location.focus();
      this.renderLocation();
    });
    this.$('#btn-use-exif').addEventListener('click', () => {
      if (this.mode === 'exif') {
        this.mode = 'gps';
      } else {
        this.mode = 'exif';
      }
      this.renderLocation();
    });
    form.elements.manual_location.addEventListener('input', () => {
      this.pickedOnMap = false;
      this.renderLocation();
    });
    this.locator.addEventListener('change', () => {
      this.renderLocation();
      this.renderMedia();
    });
    form.addEventListener('submit', (e) => {
      e.preventDefault();
      this.submit();
    });
  }

  /** Show the stored catalogue at once, then refresh it when online. */
  async loadCatalogue() {
    const stored = await cachedCatalogue().catch(() => null);
    if (stored) this.setCatalogue(stored);
    try {
      this.setCatalogue(await refreshCatalogue());
    } catch {
      if (!stored) this.picker.render();
    }
  }

  setCatalogue(list) {
    this.catalogue = list;
    this.picker.setCatalogue(list);
    this.renderChecklist();
  }

  /** Start the GPS at once if allowed; otherwise when the first file is added. */
  async startLocation() {
    const state = await this.locator.permission();
    if (state === 'granted') this.locator.start();
    else if (state === 'denied') this.locator.set('denied');
    this.renderLocation();
  }

  // --- evidence files -------------------------------------------------------------

  async addFiles(files) {
    this.clearError('media');
    for (const file of files) {
      if (this.items.length >= MAX_FILES) {
        this.showError('media', t('err_too_many'));
        break;
      }
      const { file: typed, type, error } = await acceptFile(file);
      if (error) {
        this.showError('media', error);
        continue;
      }
      const item = { file: typed, type, url: URL.createObjectURL(typed), exif: null, kind: type.split('/')[0] };
      // Hash now, while the user fills in the form: the save then only writes and verifies.
      item.sha256 = saver().then((m) => m.hashFile(typed));
      item.sha256.catch(() => {});
      this.items.push(item);
      this.dirty = true;
      if (item.kind === 'image') {
        // What the photo shows: copies of one picture count once in the checklist.
        import('./capture/picture-hash.js')
          .then((m) => m.pictureHash(typed))
          .then((hash) => {
            item.picture = hash;
            this.renderMedia();
          })
          .catch(() => {});
      }
      readExif(typed).then((exif) => {
        item.exif = exif;
        // No GPS fix but the photo knows where it was taken: offer that (the user sees it).
        if (this.mode === 'gps' && this.locator.state !== 'fix' && exif.lat !== null) this.mode = 'exif';
        this.renderMedia();
        this.renderLocation();
      });
    }
    if (this.locator.state === 'off') this.locator.start();
    this.renderMedia();
  }

  removeItem(item) {
    URL.revokeObjectURL(item.url);
    this.items = this.items.filter((i) => i !== item);
    if (this.mode === 'exif' && !this.exifPosition()) this.mode = 'gps';
    this.renderMedia();
    this.renderLocation();
  }

  renderMedia() {
    const list = this.$('#media-list');
    const position = this.locator.fix;
    list.replaceChildren(...this.items.map((item) => mediaItemView(item, position, () => this.removeItem(item))));
    this.renderTime();
    this.renderChecklist();
  }

  // --- evidence checklist -------------------------------------------------------------

  /** The chosen violation's catalogue entry, or null. */
  violation() {
    const code = this.form.elements.violation.value;
    return this.catalogue.find((v) => v.code === code) || null;
  }

  /** What the chosen violation's evidence must show, against the files picked so far. */
  renderChecklist() {
    const box = this.$('#violation-checklist');
    const v = this.violation();
    if (!v?.evidence) {
      box.hidden = true;
      box.replaceChildren();
      return;
    }
    if (this.checklist) {
      this.checklist.renderChecklist(box, v, this.items);
      return;
    }
    checklistView()
      .then((m) => {
        this.checklist = m;
        this.renderChecklist();
      })
      .catch((err) => console.error('checklist not loaded', err));
  }

  /**
   * Before saving: when an item of the checklist is clearly missing (a photo where a
   * video is needed...), ask. True: go on and save (a report is never refused for it).
   */
  async confirmEvidence() {
    const v = this.violation();
    if (!v?.evidence) return true;
    const view = this.checklist || (this.checklist = await checklistView().catch(() => null));
    return view ? view.askBeforeSending(this.form, v, this.items) : true;
  }

  // --- location ---------------------------------------------------------------------

  /** The map picker (loaded on first use): the point chosen becomes the location. */
  async pickOnMap() {
    const { pickOnMap } = await import('./capture/map-picker.js');
    const chosen = await pickOnMap(this.location());
    if (!chosen) return;
    this.mode = 'manual';
    this.pickedOnMap = true;
    this.form.elements.manual_location.value = `${chosen.lat.toFixed(6)}, ${chosen.lon.toFixed(6)}`;
    this.renderLocation();
  }

  exifPosition() {
    const item = this.items.find((i) => i.exif && i.exif.lat !== null);
    return item ? { lat: item.exif.lat, lon: item.exif.lon, accuracy: null, source: 'exif' } : null;
  }

  /** The location that would be sent now, or null. */
  location() {
    if (this.mode === 'manual') {
      const p = parseLatLon(this.form.elements.manual_location.value);
      return p ? { ...p, accuracy: null, source: 'manual' } : null;
    }
    if (this.mode === 'exif') return this.exifPosition();
    const fix = this.locator.fix;
    return fix ? { lat: fix.lat, lon: fix.lon, accuracy: fix.accuracy, source: 'gps' } : null;
  }

  renderLocation() {
    const box = this.$('#loc-box');
    const main = this.$('#loc-main');
    const sub = this.$('#loc-sub');
    const loc = this.location();
    const gps = this.locator.state;
    const view = locationView(this.mode, loc, this.locator);
    main.textContent = view.main;
    sub.textContent = this.mode === 'manual' && this.pickedOnMap && loc ? t('src_map') : view.sub;
    const places = loc ? placesNow(() => this.renderLocation()) : null;
    this.$('#loc-place').textContent = loc && places ? placeWords(placeOf(places, loc.lat, loc.lon, () => this.renderLocation())) || t('place_unknown') : '';
    box.dataset.state = view.state;
    const locateBtn = this.$('#btn-locate');
    locateBtn.hidden = this.mode === 'gps' && (gps === 'fix' || gps === 'waiting' || gps === 'asking');
    locateBtn.textContent = this.mode === 'gps' ? t('btn_locate') : t('btn_use_gps');
    const exifBtn = this.$('#btn-use-exif');
    exifBtn.hidden = !this.exifPosition() || this.mode === 'exif';
    this.$('#manual-box').hidden = this.mode !== 'manual';
    this.$('#btn-manual').hidden = this.mode === 'manual';
    if (loc) this.clearError('location');
  }

  // --- violation, vehicle, plate --------------------------------------------------------

  vehicleClass() {
    return this.form.elements.vehicle_class.value || '';
  }

  renderPlate() {
    const out = this.$('#plate-norm');
    const raw = this.form.elements.plate.value;
    const plate = normalizePlate(raw, this.vehicleClass() || null);
    out.dataset.kind = plate.kind;
    if (plate.kind === 'empty') out.textContent = '';
    else if (plate.display) out.textContent = t('plate_norm', { plate: plate.display });
    else if (plate.kind === 'ambiguous') out.textContent = t('plate_ambiguous');
    else out.textContent = t('plate_unknown');
  }

  // --- time -------------------------------------------------------------------------------

  /** When it happened: the first photo's EXIF time if it has one, else the file's time. */
  capturedAt(now = new Date()) {
    const withTime = this.items.find((i) => i.exif?.takenAt);
    if (withTime && withTime.exif.takenAt <= now) return { date: withTime.exif.takenAt, fromPhoto: true };
    const first = this.items[0]?.file;
    const modified = first?.lastModified ? new Date(first.lastModified) : null;
    if (modified && modified <= now && now - modified < 7 * 86_400_000) return { date: modified, fromPhoto: false };
    return { date: now, fromPhoto: false };
  }

  renderTime() {
    const line = this.$('#time-line');
    if (!this.items.length) {
      line.hidden = true;
      return;
    }
    const { date, fromPhoto } = this.capturedAt();
    line.hidden = false;
    line.textContent = `${t('time_label')}: ${formatTime(date)} (${t(fromPhoto ? 'time_from_photo' : 'time_now')})`;
  }

  // --- validation and submit ------------------------------------------------------------------

  showError(key, text) {
    const node = this.$(`#err-${key}`);
    node.textContent = text;
    node.hidden = false;
    node.closest('.card')?.classList.add('invalid');
  }

  clearError(key) {
    const node = this.$(`#err-${key}`);
    if (!node) return;
    node.hidden = true;
    node.closest('.card')?.classList.remove('invalid');
  }

  validate() {
    const f = this.form.elements;
    const errors = [];
    const check = (ok, key, text) => {
      if (ok) this.clearError(key);
      else {
        this.showError(key, text);
        errors.push(key);
      }
    };
    check(this.items.length > 0, 'media', t('err_media'));
    check(this.location() !== null, 'location', this.mode === 'manual' ? t('manual_invalid') : t('err_location'));
    check(Boolean(f.violation.value), 'violation', t('err_violation'));
    check(Boolean(this.vehicleClass()), 'vehicle', t('err_vehicle'));
    const nid = f.national_id.value.trim();
    check(!nid || /^(\d{9}|\d{12})$/.test(nid), 'nid', t('nid_invalid'));
    const phone = f.phone.value.replace(/[\s.-]/g, '');
    check(!phone || /^(\+84|0)\d{9,10}$/.test(phone), 'phone', t('phone_invalid'));
    if (errors.includes('nid') || errors.includes('phone')) this.$('#sec-named').open = true;
    return errors;
  }

  /** Capture as this signed-in officer (their name comes from the account), or null. */
  setOfficer(name) {
    this.officerName = name || null;
    const line = this.$('#officer-line');
    line.hidden = !this.officerName;
    line.textContent = this.officerName ? t('officer_capturing', { name: this.officerName }) : '';
    // An officer reports under their own name: the informant's fields do not apply.
    this.$('#sec-named').hidden = Boolean(this.officerName);
  }

  fields(officer) {
    const f = this.form.elements;
    if (officer) {
      for (const n of ['reporter_name', 'national_id', 'phone']) f[n].value = '';
    }
    return reportFields({
      violation: f.violation.value,
      vehicleClass: this.vehicleClass(),
      plate: f.plate.value,
      vehicleDescription: f.vehicle_description.value,
      note: f.note.value,
      capturedAt: isoLocal(this.capturedAt().date),
      location: this.location(),
      reporterKind: officer ? 'officer' : 'citizen',
      reporter: {
        name: f.reporter_name.value,
        national_id: f.national_id.value,
        phone: f.phone.value.replace(/[\s.-]/g, ''),
      },
    });
  }

  async submit() {
    if (this.saving) return;
    performance.mark('rw-submit');
    const errors = this.validate();
    const formError = this.$('#err-form');
    if (errors.length) {
      formError.textContent = t('err_fix');
      formError.hidden = false;
      this.$(`#err-${errors[0]}`)?.closest('.card')?.scrollIntoView({ block: 'center' });
      return;
    }
    formError.hidden = true;
    this.saving = true;
    try {
      if (!(await this.confirmEvidence())) return;
    } finally {
      this.saving = false;
    }
    performance.mark('rw-submit'); // the save itself, after any question to the user
    this.saving = true;
    const button = this.$('#submit');
    button.disabled = true;
    button.firstElementChild.textContent = t('saving');
    try {
      const files = this.items.map((i) => i.file);
      const hashes = this.items.map((i) => i.sha256);
      const record = await (await saver()).saveCapture(this.fields(Boolean(this.officerName)), files, { hashes });
      performance.mark('rw-saved');
      performance.measure('rw-capture-save', 'rw-submit', 'rw-saved');
      this.reset();
      this.hooks.onSaved(record, files);
    } catch (err) {
      const code = err instanceof CaptureError ? err.code : 'write_failed';
      formError.textContent = code === 'storage_full' ? t('save_storage_full') : t('save_failed');
      formError.hidden = false;
      console.error('capture not saved', err);
    } finally {
      this.saving = false;
      button.disabled = false;
      button.firstElementChild.textContent = t('submit');
    }
  }

  /** Clear the form for the next capture; the location keeps running. */
  reset() {
    for (const item of this.items) URL.revokeObjectURL(item.url);
    this.items = [];
    const keepClass = this.vehicleClass();
    this.form.reset();
    // A patrol officer often reports several vehicles of one kind in a row.
    if (keepClass) this.form.querySelector(`input[name=vehicle_class][value=${keepClass}]`).checked = true;
    this.mode = 'gps';
    this.dirty = false;
    this.$('#sec-named').open = false;
    this.renderMedia();
    this.picker.reset();
    this.renderChecklist();
    this.renderPlate();
    this.renderLocation();
  }

  /** True while the form holds unsaved input (an update must not reload the page). */
  isDirty() {
    return this.saving || (this.dirty && (this.items.length > 0 || this.hasText()));
  }

  hasText() {
    const f = this.form.elements;
    return ['plate', 'vehicle_description', 'note', 'reporter_name', 'national_id', 'phone', 'manual_location'].some(
      (n) => f[n].value.trim() !== '',
    );
  }

  relabel() {
    if (this.officerName) this.setOfficer(this.officerName);
    this.renderMedia();
    this.picker.render();
    this.renderChecklist();
    this.renderPlate();
    this.renderLocation();
  }
}
