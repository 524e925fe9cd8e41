// common.js - what the pages share: the reply envelope, RFC 7386 merge
// patches, JSON pointers, the paths a patch touches, structural equality and
// diff, and the collapsible state tree. It is not a client library: it keeps
// no connection and no state of its own, and it does not check checksums.

// The query parameter `room` of this page, or null.
export function roomParam() {
  const room = new URLSearchParams(location.search).get('room');
  return room && /^[A-Za-z0-9._-]{1,64}$/.test(room) ? room : null;
}

// Create an element with a class, text and children.
export function el(tag, cls, text, ...kids) {
  const e = document.createElement(tag);
  if (cls) e.className = cls;
  if (text != null) e.textContent = text;
  for (const k of kids) if (k != null) e.append(k);
  return e;
}

// GET path with an optional bearer secret; resolves to the reply envelope
// with the HTTP status added, or rejects on a network error.
export async function getJSON(path, secret) {
  const headers = { Accept: 'application/json' };
  if (secret) headers.Authorization = `Bearer ${secret}`;
  const res = await fetch(path, { headers, cache: 'no-store' });
  let body;
  try {
    body = await res.json();
  } catch {
    body = { ok: false, error: { code: 'internal', message: `HTTP ${res.status}` } };
  }
  body.status = res.status;
  return body;
}

export function isObject(v) {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

export function clone(v) {
  return v === undefined ? undefined : structuredClone(v);
}

// Apply merge patch p to target and return the result (RFC 7386). Objects
// of target are changed in place; values taken from p are copied.
export function mergePatch(target, p) {
  if (!isObject(p)) return clone(p);
  if (!isObject(target)) target = {};
  for (const [k, v] of Object.entries(p)) {
    if (v === null) delete target[k];
    else target[k] = mergePatch(target[k], v);
  }
  return target;
}

// Apply one change (a broadcast CHANGE or a history record) to a state
// document {phase, data}.
export function applyChange(doc, c) {
  doc.data = mergePatch(doc.data, c.patch || {});
  doc.phase = c.phase;
  return doc;
}

export function escapeToken(k) {
  return String(k).replace(/~/g, '~0').replace(/\//g, '~1');
}

export function pointer(parts) {
  return parts.map((p) => '/' + escapeToken(p)).join('');
}

// The JSON pointers (in the state document) a change wrote: every member
// its patch sets or removes, under /data, and /phase when the phase moved.
export function touchedPaths(c, prevPhase) {
  const out = [];
  const walk = (p, base) => {
    for (const [k, v] of Object.entries(p)) {
      const path = `${base}/${escapeToken(k)}`;
      out.push(path);
      if (isObject(v)) walk(v, path);
    }
  };
  if (isObject(c.patch)) walk(c.patch, '/data');
  const before = c.prev !== undefined ? c.prev : prevPhase;
  if (before !== undefined && before !== c.phase) out.push('/phase');
  return out;
}

// True when a write at w affects the value at path p: w is p, a parent of
// p or a child of p.
export function pathsMeet(w, p) {
  return w === p || p.startsWith(w + '/') || w.startsWith(p + '/');
}

// The value at pointer p in doc, or undefined.
export function valueAt(doc, p) {
  if (p === '') return doc;
  let v = doc;
  for (const raw of p.slice(1).split('/')) {
    const k = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    if (v === null || typeof v !== 'object' || !(k in v)) return undefined;
    v = v[k];
  }
  return v;
}

// Structural equality of two JSON values; member order does not matter.
export function jsonEqual(a, b) {
  if (a === b) return true;
  if (typeof a !== typeof b || a === null || b === null || typeof a !== 'object') return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  if (Array.isArray(a)) return a.length === b.length && a.every((x, i) => jsonEqual(x, b[i]));
  const ka = Object.keys(a);
  if (ka.length !== Object.keys(b).length) return false;
  return ka.every((k) => Object.prototype.hasOwnProperty.call(b, k) && jsonEqual(a[k], b[k]));
}

// The fields that differ between two JSON values, as [{path, old, new}]
// (old or new undefined when the field is absent), sorted by path. Objects
// are compared member by member, anything else as a whole.
export function jsonDiff(a, b, base = '', out = []) {
  // The walk of pc_json_diff (framework/diff.c), so the page lists what
  // `phasecast-inspect diff` lists, in the same order: object members by
  // key in sorted order, array elements paired by index, a path wherever
  // the pairing stops (one side missing, another type, another scalar).
  if (isObject(a) && isObject(b)) {
    const keys = [...new Set([...Object.keys(a), ...Object.keys(b)])].sort();
    for (const k of keys) jsonDiff(a[k], b[k], `${base}/${escapeToken(k)}`, out);
  } else if (Array.isArray(a) && Array.isArray(b)) {
    const n = Math.max(a.length, b.length);
    for (let i = 0; i < n; i++) {
      jsonDiff(i < a.length ? a[i] : undefined, i < b.length ? b[i] : undefined,
        `${base}/${i}`, out);
    }
  } else if (!(a === undefined && b === undefined) && !jsonEqual(a, b)) {
    out.push({ path: base, old: a, new: b });
  }
  return out;
}

export function short(v, max = 120) {
  const s = v === undefined ? '(absent)' : JSON.stringify(v);
  return s.length > max ? s.slice(0, max - 1) + '…' : s;
}

// A collapsible tree of a JSON document in container. Every node carries
// its JSON pointer in data-path; leaves (scalars, empty objects and arrays)
// carry their value as JSON in data-json. Nodes whose path is in `touched`
// or lies above a touched path are marked. Folding survives re-rendering.
export class StateTree {
  constructor(container, onPick) {
    this.container = container;
    this.onPick = onPick;
    this.closed = new Set();
    // A click on a key (or a leaf's value) picks that field; a click on
    // a branch's marker or size folds it, as <details> does.
    container.addEventListener('click', (e) => {
      if (!this.onPick) return;
      const hit = e.target.closest('.key, .val');
      const at = hit && hit.closest('[data-path]');
      if (!at) return;
      if (hit.closest('summary')) e.preventDefault();
      this.onPick(at.dataset.path);
    });
  }

  render(doc, touched = []) {
    const hot = new Set();
    for (const p of touched) {
      hot.add(p);
      let i = p.lastIndexOf('/');
      while (i > 0) {
        hot.add(p.slice(0, i));
        i = p.lastIndexOf('/', i - 1);
      }
    }
    this.touchedLeaf = new Set(touched);
    const root = el('div', 'tree');
    for (const k of Object.keys(doc).sort()) root.append(this.node(k, doc[k], `/${escapeToken(k)}`, hot));
    this.container.replaceChildren(root);
  }

  node(key, v, path, hot) {
    const mark = hot.has(path) ? (this.touchedLeaf.has(path) ? ' touched' : ' touched-under') : '';
    const composite = v !== null && typeof v === 'object' && Object.keys(v).length > 0;
    if (!composite) {
      const row = el('div', 'leaf' + mark, null, el('span', 'key', key), el('span', 'val', JSON.stringify(v)));
      row.dataset.path = path;
      row.dataset.json = JSON.stringify(v);
      return row;
    }
    const d = el('details', 'branch' + mark);
    d.dataset.path = path;
    d.open = !this.closed.has(path);
    d.addEventListener('toggle', () => {
      if (d.open) this.closed.delete(path);
      else this.closed.add(path);
    });
    const n = Object.keys(v).length;
    d.append(el('summary', null, null, el('span', 'key', key),
      el('span', 'meta', Array.isArray(v) ? ` [${n}]` : ` {${n}}`)));
    const kids = el('div', 'kids');
    const keys = Array.isArray(v) ? v.map((_, i) => i) : Object.keys(v);
    for (const k of keys) kids.append(this.node(String(k), v[k], `${path}/${escapeToken(k)}`, hot));
    d.append(kids);
    return d;
  }
}
