// json.js - the JSON operations both pages need: RFC 7386 merge patches,
// JSON Pointers, deep equality, the leaf diff that `phasecast-inspect diff`
// prints, and the paths a patch touches. Pure functions over plain parsed
// JSON; nothing here talks to the network or the DOM. It is not a general
// JSON library: values are assumed to be what JSON.parse returns.

export function isObject(v) {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

export function clone(v) {
  return v === undefined ? undefined : structuredClone(v);
}

// mergePatch(target, patch) -> the patched value (RFC 7386). Objects of
// target are modified in place where the patch recurses into them, so
// pass a copy when the old value must survive.
export function mergePatch(target, patch) {
  if (!isObject(patch)) {
    return clone(patch);
  }
  if (!isObject(target)) {
    target = {};
  }
  for (const [k, v] of Object.entries(patch)) {
    if (v === null) {
      delete target[k];
    } else {
      target[k] = mergePatch(target[k], v);
    }
  }
  return target;
}

// applyChange(doc, change) - apply one change (a broadcast CHANGE or a
// history record) to a state document {"phase", "data"} in place.
export function applyChange(doc, change) {
  doc.data = mergePatch(doc.data, change.patch || {});
  doc.phase = change.phase;
  return doc;
}

export function deepEqual(a, b) {
  if (a === b) {
    return true;
  }
  if (typeof a !== typeof b || a === null || b === null || typeof a !== 'object') {
    return false;
  }
  if (Array.isArray(a) !== Array.isArray(b)) {
    return false;
  }
  if (Array.isArray(a)) {
    return a.length === b.length && a.every((x, i) => deepEqual(x, b[i]));
  }
  const ka = Object.keys(a);
  if (ka.length !== Object.keys(b).length) {
    return false;
  }
  return ka.every((k) => Object.prototype.hasOwnProperty.call(b, k) && deepEqual(a[k], b[k]));
}

// JSON Pointer (RFC 6901) tokens and text.
export function escapeToken(t) {
  return String(t).replace(/~/g, '~0').replace(/\//g, '~1');
}

export function pointer(tokens) {
  return tokens.map((t) => '/' + escapeToken(t)).join('');
}

export function parsePointer(p) {
  if (p === '') {
    return [];
  }
  return p
    .slice(1)
    .split('/')
    .map((t) => t.replace(/~1/g, '/').replace(/~0/g, '~'));
}

// get(doc, tokens) -> the value there, or undefined.
export function get(doc, tokens) {
  let cur = doc;
  for (const t of tokens) {
    if (Array.isArray(cur)) {
      if (!/^(0|[1-9][0-9]*)$/.test(t) || Number(t) >= cur.length) {
        return undefined;
      }
      cur = cur[Number(t)];
    } else if (isObject(cur) && Object.prototype.hasOwnProperty.call(cur, t)) {
      cur = cur[t];
    } else {
      return undefined;
    }
  }
  return cur;
}

// Keys in canonical order: bytewise UTF-8, which for the keys a room may
// hold is the order of code points.
function byCodePoint(a, b) {
  const x = Array.from(a);
  const y = Array.from(b);
  for (let i = 0; i < x.length && i < y.length; i++) {
    const d = x[i].codePointAt(0) - y[i].codePointAt(0);
    if (d !== 0) {
      return d;
    }
  }
  return x.length - y.length;
}

export function sortedKeys(o) {
  return Object.keys(o).sort(byCodePoint);
}

// diff(a, b) -> [{path, old?, new?}] in document order: object members
// paired by key, array elements by index, one entry wherever the pairing
// stops (a side missing, a change of type, two different scalars). The
// same walk as pc_json_diff (include/phasecast/diff.h), so the page and
// `phasecast-inspect diff` list the same paths.
export function diff(a, b, base = []) {
  const out = [];
  walk(a, b, base, out);
  return out;
}

function walk(a, b, path, out) {
  if (isObject(a) && isObject(b)) {
    const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
    for (const k of [...keys].sort(byCodePoint)) {
      member(a, b, k, path, out);
    }
    return;
  }
  if (Array.isArray(a) && Array.isArray(b)) {
    for (let i = 0; i < Math.max(a.length, b.length); i++) {
      const x = i < a.length ? a[i] : undefined;
      const y = i < b.length ? b[i] : undefined;
      step(x, y, [...path, String(i)], out);
    }
    return;
  }
  if (!deepEqual(a, b)) {
    out.push({ path: pointer(path), old: a, new: b });
  }
}

function member(a, b, k, path, out) {
  const has = (o) => Object.prototype.hasOwnProperty.call(o, k);
  step(has(a) ? a[k] : undefined, has(b) ? b[k] : undefined, [...path, k], out);
}

function step(x, y, path, out) {
  if (x !== undefined && y !== undefined) {
    walk(x, y, path, out);
  } else {
    const e = { path: pointer(path) };
    if (x !== undefined) {
      e.old = x;
    }
    if (y !== undefined) {
      e.new = y;
    }
    out.push(e);
  }
}

// patchPaths(patch, prefix) -> the pointers a merge patch writes: every
// member whose value is not an object (set, replaced or removed), under
// prefix. An object value is a merge into that member, so only its own
// members are listed (and the member itself when it is {}).
export function patchPaths(patch, prefix = ['data']) {
  const out = [];
  const rec = (p, path) => {
    const keys = Object.keys(p);
    if (keys.length === 0) {
      out.push(pointer(path));
    }
    for (const k of keys) {
      const v = p[k];
      if (isObject(v)) {
        rec(v, [...path, k]);
      } else {
        out.push(pointer([...path, k]));
      }
    }
  };
  if (isObject(patch) && Object.keys(patch).length > 0) {
    rec(patch, prefix);
  }
  return out;
}

// patchTouches(patch, tokens, doc) - whether the merge patch on "data"
// can change the value at tokens (a pointer into the whole document whose
// first token is "data") when applied to doc: it writes that path or a
// path inside it, or replaces one of its parents (a value that is not an
// object, or a merge into something that is not an object, such as an
// array). It may say yes for a patch that writes an equal value; never no
// for one that changes it.
export function patchTouches(patch, tokens, doc) {
  if (tokens.length === 0) {
    return isObject(patch) && Object.keys(patch).length > 0;
  }
  if (tokens[0] !== 'data' || !isObject(patch)) {
    return false;
  }
  const has = (o, k) => Object.prototype.hasOwnProperty.call(o, k);
  let cur = patch;
  let target = doc ? doc.data : undefined;
  for (const t of tokens.slice(1)) {
    if (!isObject(cur) || !isObject(target)) {
      return true; // a parent replaced or removed
    }
    if (!has(cur, t)) {
      return false;
    }
    cur = cur[t];
    target = has(target, t) ? target[t] : undefined;
  }
  return !(isObject(cur) && Object.keys(cur).length === 0 && isObject(target));
}

// compact(v, max) - one-line JSON, cut with an ellipsis past max chars.
export function compact(v, max = 200) {
  const s = v === undefined ? '(none)' : JSON.stringify(v);
  return s.length > max ? s.slice(0, max - 1) + '\u2026' : s;
}
