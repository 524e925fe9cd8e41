// api.js - what the pages share besides JSON: reading the bridge's JSON
// replies (docs/web.md), the page's query parameters, and small DOM and
// formatting helpers. It holds no state of its own.

// An error reply (or a failed request) as a thrown value: status is the
// HTTP status (0 when the request did not complete), code the reply's
// error code.
export class ApiError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

// getJSON(path, bearer) -> the reply's result; throws ApiError.
export async function getJSON(path, bearer) {
  const headers = { Accept: 'application/json' };
  if (bearer) {
    headers.Authorization = `Bearer ${bearer}`;
  }
  let res;
  try {
    res = await fetch(path, { headers, cache: 'no-store' });
  } catch (e) {
    throw new ApiError(0, 'network', `cannot reach the server (${e.message})`);
  }
  let body;
  try {
    body = await res.json();
  } catch {
    throw new ApiError(res.status, 'bad_reply', `HTTP ${res.status}: not a JSON reply`);
  }
  if (!body || body.ok !== true) {
    const err = (body && body.error) || {};
    throw new ApiError(res.status, err.code || 'error', err.message || `HTTP ${res.status}`);
  }
  return body.result;
}

export function param(name) {
  return new URLSearchParams(location.search).get(name);
}

// The room of ?room=, when it is a room id (docs/protocol.md).
export function roomParam() {
  const r = param('room');
  return r && /^[A-Za-z0-9._-]{1,64}$/.test(r) ? r : null;
}

// el(tag, props, ...children) - a small element builder. props.class sets
// the class, props.data sets data- attributes, other props are set as
// properties (textContent, href, title, ...). Strings become text nodes.
export function el(tag, props = {}, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(props)) {
    if (v === undefined || v === null) {
      continue;
    }
    if (k === 'class') {
      e.className = v;
    } else if (k === 'data') {
      Object.assign(e.dataset, v);
    } else if (k.startsWith('aria-') || k === 'role' || k === 'for') {
      e.setAttribute(k, v);
    } else {
      e[k] = v;
    }
  }
  for (const c of children) {
    if (c !== null && c !== undefined && c !== false) {
      e.append(c);
    }
  }
  return e;
}

export function clock(ms) {
  if (typeof ms !== 'number') {
    return '';
  }
  const d = new Date(ms);
  const p = (n, w = 2) => String(n).padStart(w, '0');
  return `${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}.${p(d.getMilliseconds(), 3)}`;
}

// where(c) -> "file:line func" of a record, or '' when it has none (the
// broadcast's CHANGE carries no source location).
export function where(c) {
  if (!c || !c.file) {
    return '';
  }
  return `${c.file}:${c.line ?? '?'}`;
}

// causeText(cause) -> a one-line account of a record's cause.
export function causeText(cause) {
  if (!cause) {
    return '';
  }
  let s = cause.kind;
  if (cause.kind === 'action') {
    s += ` ${cause.type ?? '?'} by ${cause.player ?? '?'}`;
    if (cause.payload !== undefined) {
      s += ` ${JSON.stringify(cause.payload)}`;
    }
  } else if (cause.kind === 'timeout' && cause.phase) {
    s += ` of ${cause.phase}`;
  }
  if (cause.first !== undefined) {
    s += ` (stimulus from seq ${cause.first})`;
  }
  return s;
}
