/**
 * HTTP for the sync engine: one fetch wrapper with a timeout, problem+json parsing,
 * and the protocol's classification of every answer (PROTOCOL §5 and §7).
 */

export const API = '/api/v1';

/** Why a request did not succeed, and what the caller should do about it. */
export class SyncError extends Error {
  /**
   * @param {'retry'|'attention'|'reregister'|'reput'|'recreate'} action
   * @param {string} code  a problem code of the API, or one of ours (network, portal...)
   */
  constructor(action, code, { status = 0, retryAfter = 0, message = null } = {}) {
    super(`${action}: ${code}`);
    this.action = action;
    this.code = code;
    this.status = status;
    this.retryAfter = retryAfter;
    this.serverMessage = message;
  }
}

// Codes that a retry cannot fix: the user must look (PROTOCOL §7).
const ATTENTION_STATUSES = new Set([400, 403, 405, 409, 411, 412, 413, 415, 422]);

/** Seconds to wait from a Retry-After header (seconds or an HTTP date), else 0. */
function retryAfter(headers) {
  const value = headers.get('Retry-After');
  if (!value) return 0;
  const secs = Number(value);
  if (Number.isFinite(secs)) return Math.max(0, secs);
  const at = Date.parse(value);
  return Number.isFinite(at) ? Math.max(0, (at - Date.now()) / 1000) : 0;
}

/**
 * fetch() with a deadline. A network failure, a timeout or an abort becomes a
 * SyncError('retry', 'network').
 */
export async function request(method, url, { headers = {}, body, timeoutMs = 30_000 } = {}) {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), timeoutMs);
  try {
    return await fetch(url, {
      method,
      headers,
      body,
      signal: controller.signal,
      cache: 'no-store',
      credentials: 'omit',
      redirect: 'error', // a captive portal's redirect is not our server
    });
  } catch {
    throw new SyncError('retry', 'network');
  } finally {
    clearTimeout(timer);
  }
}

/** The problem+json body of an error answer, or null. */
export async function problemOf(resp) {
  const type = resp.headers.get('Content-Type') || '';
  if (!type.includes('json')) return null;
  try {
    return await resp.json();
  } catch {
    return null;
  }
}

/** Turn a non-success answer into the SyncError the protocol prescribes. */
export async function failure(resp, { tus = false } = {}) {
  const problem = await problemOf(resp);
  const status = resp.status;
  const code = problem?.code || `http_${status}`;
  const opts = { status, retryAfter: retryAfter(resp.headers), message: problem?.message || null };
  if (status === 401) return new SyncError('reregister', code, opts);
  if (code === 'report_not_found') return new SyncError('reput', code, opts);
  // The report expired without evidence: no upload will ever be taken (not a tus 410).
  if (code === 'report_expired') return new SyncError('attention', code, opts);
  if (tus && (status === 404 || status === 410)) return new SyncError('recreate', code, opts);
  if (tus && status === 409) return new SyncError('retry', code, opts); // offset: HEAD again
  if (tus && status === 460) return new SyncError('retry', code, opts);
  if (code === 'upload_incomplete') return new SyncError('retry', code, opts);
  if ([408, 423, 429, 507].includes(status) || status >= 500) {
    return new SyncError('retry', code, opts);
  }
  if (ATTENTION_STATUSES.has(status) || status === 404) {
    return new SyncError('attention', code, opts);
  }
  // Anything else (a 200 HTML page from a captive portal, a 3xx...) is not an answer.
  return new SyncError('retry', 'not_our_server', opts);
}

/** JSON of a success answer that echoes `reportId`; anything else is not an ack. */
export async function reportAck(resp, reportId) {
  let body = null;
  try {
    body = await resp.json();
  } catch {
    body = null;
  }
  if (!body || body.report_id !== reportId || !Array.isArray(body.evidence)) {
    throw new SyncError('retry', 'not_our_server', { status: resp.status });
  }
  return body;
}

export const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** Full-jitter exponential backoff (PROTOCOL §5): random(0, min(900 s, 2 s x 2^n)). */
export function backoffMs(attempt, random = Math.random) {
  return random() * Math.min(900_000, 2000 * 2 ** attempt);
}
