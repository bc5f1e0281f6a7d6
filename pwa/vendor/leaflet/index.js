// An ES-module face for Leaflet's UMD build (which sets globalThis.L when it runs).
import './leaflet.js';

export default globalThis.L;
