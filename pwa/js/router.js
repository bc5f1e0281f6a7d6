/**
 * Hash routing between the screens: #capture (the default), #reports, #report/<id>
 * (one report's details) and #settings. Screens register their render function; the
 * router shows the right section, marks the current tab and renders it.
 */
import { state } from './state.js';

// Route name -> the data-screen of its section.
const SECTIONS = { capture: 'capture', reports: 'reports', report: 'detail', settings: 'settings' };
const screens = new Map(); // route name -> {render(id), live}
const everyChange = []; // renderers run on every outbox change (the tab's badge)

/**
 * Register the screen of route `name`. A `live` screen is rendered again when the
 * outbox changes while it is shown.
 */
export function addScreen(name, render, { live = false } = {}) {
  screens.set(name, { render, live });
}

/** Run `render` on every outbox change, whatever screen is shown. */
export function onEveryChange(render) {
  everyChange.push(render);
}

/** The current route: {name, id}; an unknown hash is the capture screen. */
export function currentRoute() {
  const hash = location.hash.replace(/^#/, '') || 'capture';
  const [screen, id] = hash.split('/');
  return { name: Object.hasOwn(SECTIONS, screen) ? screen : 'capture', id };
}

/** Show the screen of the current hash (on start and on every `hashchange`). */
export function route() {
  const { name, id } = currentRoute();
  for (const section of document.querySelectorAll('.screen')) {
    section.hidden = section.dataset.screen !== SECTIONS[name];
  }
  for (const tab of document.querySelectorAll('.tabs a')) {
    const current = tab.dataset.tab === name || (name === 'report' && tab.dataset.tab === 'reports');
    if (current) tab.setAttribute('aria-current', 'page');
    else tab.removeAttribute('aria-current');
  }
  screens.get(name)?.render(id);
  window.scrollTo(0, 0);
}

/** Re-render soon what shows the outbox (coalesces bursts of progress messages). */
export function scheduleRender() {
  if (state.renderQueued) return;
  state.renderQueued = true;
  requestAnimationFrame(() => {
    state.renderQueued = false;
    for (const render of everyChange) render();
    const { name, id } = currentRoute();
    const screen = screens.get(name);
    const section = document.querySelector(`.screen[data-screen="${SECTIONS[name]}"]`);
    if (screen?.live && section && !section.hidden) screen.render(id);
  });
}
