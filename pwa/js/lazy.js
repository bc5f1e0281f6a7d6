/**
 * Modules the first screen does not need, loaded on first use. The service worker
 * precaches them with the rest, so they load offline too (bench/README.md: app shell).
 */
let pushBound = false;

/** The sync engine (sync.js, tus, signing). */
export const syncEngine = () => import('./sync.js');

/** Notifications as the user sees them; its buttons are wired on first load. */
export const pushScreen = () =>
  import('./screens/push.js').then((m) => {
    if (!pushBound) {
      pushBound = true;
      m.bindPush();
    }
    return m;
  });

/** Call `name` of a lazily loaded module once it is there (errors go to the console). */
export const later = (load, name, ...args) =>
  load()
    .then((m) => m[name](...args))
    .catch((err) => console.error(`${name} failed`, err));
