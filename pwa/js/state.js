/**
 * The page's shared, changing state, in one object. The screens, the router and the
 * sync triggers read and write these fields; none of them keeps a mutable module-level
 * variable of its own.
 */
export const state = {
  /** The capture form (a CaptureForm), created at start. */
  capture: null,
  /** Violation code -> catalogue entry, for the violation names in the lists. */
  catalogueNames: new Map(),
  /** The signed-in patrol officer's credentials, or null. */
  officer: null,
  /** The service worker registration, once registered (null without one). */
  swReady: Promise.resolve(null),
  /** The last sync pass's result: {pending, nextAttemptAt}. */
  lastSync: { pending: 0, nextAttemptAt: 0 },
  /** The timer of the next sync pass. */
  syncTimer: null,
  /** Report id -> time of the last "active" message from another tab or the worker. */
  remoteActive: new Map(),
  /** A re-render of the visible screen is queued for the next frame. */
  renderQueued: false,
  /** The notifications offer was shown in this page (it is shown once). */
  pushOffered: false,
  /** The push subscription was sent to the server since this page started. */
  pushRefreshed: false,
  /** The browser's deferred install prompt (beforeinstallprompt), or null. */
  installPrompt: null,
};
