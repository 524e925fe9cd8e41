// travel.js - the time-travel page: reads a room's whole retained history
// from GET /rooms/{room}/history (the inspect op's result: a base state and
// the change records after it, paged with `since` while `more`), and
// answers everything in the browser: the state at any seq (replaying the
// records' merge patches from the base, with a copy kept every 100 seqs),
// the diff between two seqs, and the blame of a field (the latest change
// at or before the cursor that changed its value). It works the same over
// a live server and over `phasecast-inspect --log FILE --http`. The
// credential is sent only as a bearer token to /history and kept only in
// sessionStorage; the page never writes anything to the server.
import {
  applyChange, clone, el, getJSON, jsonDiff, jsonEqual, pathsMeet, roomParam,
  short, StateTree, touchedPaths, valueAt,
} from './common.js';

const CACHE_EVERY = 100;
const KEY = 'phasecast.inspector-credential';
const room = roomParam();
const $ = (id) => document.getElementById(id);

// The history: base is the state document at seq `first`; records[i] is
// the change to seq first + 1 + i.
let first = 0;
let base = null;
let records = [];
let cache = new Map();
let cursor = 0;
let picked = null;
let polling = false;
let followTimer = 0;
const tree = new StateTree($('state'), (path) => {
  picked = path;
  showBlame();
  markPicked();
});

const head = () => first + records.length;
const record = (s) => records[s - first - 1];

function status(text, cls = 'muted') {
  $('status').textContent = text;
  $('status').className = cls;
}

// The state document at seq s, a fresh copy the caller may keep.
function stateAt(s) {
  let k = first + Math.floor((s - first) / CACHE_EVERY) * CACHE_EVERY;
  while (!cache.has(k)) k -= CACHE_EVERY;
  const d = clone(cache.get(k));
  for (let q = k + 1; q <= s; q++) {
    applyChange(d, record(q));
    if ((q - first) % CACHE_EVERY === 0 && !cache.has(q)) cache.set(q, clone(d));
  }
  return d;
}

// The latest change at or before seq `at` that changed the value at path
// (its patch wrote the path, a parent or a child, and the value differs),
// or null when the value is the base's.
function blame(path, at) {
  const d = clone(base);
  let found = null;
  for (let q = first + 1; q <= at; q++) {
    const r = record(q);
    if (touchedPaths(r, d.phase).some((w) => pathsMeet(w, path))) {
      const before = clone(valueAt(d, path));
      applyChange(d, r);
      const after = valueAt(d, path);
      if (!jsonEqual(before, after)) found = { r, old: before, new: clone(after) };
    } else {
      applyChange(d, r);
    }
  }
  return found;
}

function row(cls, ...kids) {
  return el('div', `row ${cls || ''}`, null, ...kids);
}

function showBlame() {
  const box = $('blame');
  if (!picked) return;
  const b = blame(picked, cursor);
  box.className = '';
  if (!b) {
    box.dataset.seq = String(first);
    box.replaceChildren(row('', el('b', null, picked)),
      row('muted', `unchanged since the base state (seq ${first}) at seq ${cursor}`));
    return;
  }
  const r = b.r;
  box.dataset.seq = String(r.seq);
  box.replaceChildren(
    row('', el('b', null, picked)),
    row('', el('span', 'seq', `seq ${r.seq}`), el('span', `kind ${r.kind}`, r.kind), el('span', 'phase', r.phase)),
    row('', `reason: ${r.reason ?? ''}`),
    row('', `at ${r.file ?? '?'}:${r.line ?? '?'} in ${r.func ?? '?'}()`),
    row('', `cause: ${short(r.cause, 400)}`),
    row('', `${short(b.old, 200)} -> ${short(b.new, 200)}`));
}

function showDiff(now) {
  const want = $('diff-against').value.trim();
  let against = cursor > first ? cursor - 1 : cursor;
  const box = $('diff');
  if (want !== '') {
    const n = Number(want);
    if (!Number.isInteger(n) || n < first || n > head()) {
      box.replaceChildren(row('error', `seq ${want} is not in the history (${first}..${head()})`));
      return;
    }
    against = n;
  }
  const diff = jsonDiff(stateAt(against), now);
  box.dataset.from = String(against);
  box.dataset.to = String(cursor);
  const rows = diff.map((d) => {
    const r = row('', el('span', null, `${d.path}: `), el('span', 'old', short(d.old, 200)), ' -> ',
      el('span', 'new', short(d.new, 200)));
    r.dataset.path = d.path;
    if (d.old !== undefined) r.dataset.old = JSON.stringify(d.old);
    if (d.new !== undefined) r.dataset.new = JSON.stringify(d.new);
    return r;
  });
  box.replaceChildren(row('muted', `seq ${against} -> ${cursor}: ${diff.length} field(s)`), ...rows);
}

function markPicked() {
  for (const n of document.querySelectorAll('#state .picked')) n.classList.remove('picked');
  if (!picked) return;
  const n = [...document.querySelectorAll('#state [data-path]')].find((x) => x.dataset.path === picked);
  if (n) n.classList.add('picked');
}

function setCursor(s) {
  if (base === null) return;
  cursor = Math.max(first, Math.min(head(), s));
  $('cursor').textContent = String(cursor);
  $('slider').value = String(cursor);
  const now = stateAt(cursor);
  const r = cursor > first ? record(cursor) : null;
  tree.render(now, r ? touchedPaths(r) : []);
  $('state').dataset.seq = String(cursor);
  markPicked();
  showDiff(now);
  showBlame();
  for (const li of $('changes').children) {
    const q = Number(li.dataset.seq);
    li.classList.toggle('current', q === cursor);
    li.classList.toggle('after', q > cursor);
  }
  const cur = $('changes').querySelector('li.current');
  if (cur) cur.scrollIntoView({ block: 'nearest' });
}

function changeItem(r) {
  const li = el('li', r.kind === 'event' ? 'event' : null, null,
    el('span', 'seq', String(r.seq)), el('span', `kind ${r.kind}`, r.kind),
    el('span', 'phase', r.phase), el('span', 'reason', r.kind === 'event' && r.event
      ? `${r.event.name}: ${r.reason ?? ''}` : r.reason ?? ''),
    el('span', 'where', r.file ? `${r.file}:${r.line}` : ''));
  li.dataset.seq = String(r.seq);
  return li;
}

function showRange() {
  const s = $('slider');
  s.min = String(first);
  s.max = String(head());
  s.disabled = false;
  $('range').textContent = `${first}..${head()}`;
}

const historyPath = (since) =>
  `/rooms/${encodeURIComponent(room)}/history${since == null ? '' : `?since=${since}`}`;

// Fetch records after `since` while the server says more; throws with the
// error envelope's code on failure.
async function fetchAfter(since, secret) {
  const out = [];
  for (;;) {
    const b = await getJSON(historyPath(since), secret);
    if (!b.ok) throw Object.assign(new Error(b.error.message), { code: b.error.code, status: b.status });
    out.push(...b.result.records);
    if (!b.result.more || b.result.records.length === 0) return out;
    since = b.result.records[b.result.records.length - 1].seq;
  }
}

function append(more) {
  for (const r of more) {
    if (r.seq !== head() + 1) throw new Error(`history not contiguous: seq ${r.seq} after ${head()}`);
    records.push(r);
    $('changes').append(changeItem(r));
  }
}

async function load() {
  const secret = $('credential').value;
  status('loading…');
  let b = await getJSON(historyPath(null), secret);
  if (!b.ok) {
    const need = b.status === 401 || b.status === 403;
    status(need ? 'this history needs the inspector credential' : `${b.error.code}: ${b.error.message}`, 'error');
    if (need) $('credential').focus();
    return;
  }
  if (secret) sessionStorage.setItem(KEY, secret);
  const r = b.result;
  first = r.first;
  base = r.base.state;
  records = [];
  cache = new Map([[first, clone(base)]]);
  $('changes').replaceChildren(el('li', 'marker', `${first}: base state`));
  $('changes').firstChild.dataset.seq = String(first);
  append(r.records);
  if (r.more && r.records.length > 0) append(await fetchAfter(head(), secret));
  showRange();
  status(`${records.length} change(s) after seq ${first}${secret ? '' : ', no credential needed'}`);
  setCursor(head());
}

async function poll() {
  if (polling || base === null) return;
  polling = true;
  try {
    const atHead = cursor === head();
    append(await fetchAfter(head(), $('credential').value));
    showRange();
    if ($('follow').checked || atHead) setCursor(head());
  } catch (e) {
    if (e.code === 'too_old') await load(); // the history moved past us
    else status(`follow: ${e.code || ''} ${e.message}`, 'error');
  } finally {
    polling = false;
  }
}

function onKey(e) {
  const t = e.target;
  if (t.tagName === 'INPUT' && t.type !== 'checkbox') return; // the slider steps itself
  if (e.key === 'ArrowLeft' || e.key === 'ArrowRight') {
    e.preventDefault();
    setCursor(cursor + (e.key === 'ArrowLeft' ? -1 : 1));
  }
}

window.pcTravel = { get cursor() { return cursor; }, stateAt, blame };

if (!room) {
  status('no ?room= in the address', 'error');
} else {
  $('room').textContent = room;
  $('live-link').href = `live.html?room=${encodeURIComponent(room)}`;
  document.title = `${room} · phasecast time travel`;
  $('credential').value = sessionStorage.getItem(KEY) || '';
  $('auth').addEventListener('submit', (e) => {
    e.preventDefault();
    load().catch((err) => status(err.message, 'error'));
  });
  $('slider').addEventListener('input', () => setCursor(Number($('slider').value)));
  $('diff-against').addEventListener('input', () => setCursor(cursor));
  $('changes').addEventListener('click', (e) => {
    const li = e.target.closest('li[data-seq]');
    if (li) setCursor(Number(li.dataset.seq));
  });
  document.addEventListener('keydown', onKey);
  $('follow').addEventListener('change', () => {
    clearInterval(followTimer);
    if ($('follow').checked) {
      followTimer = setInterval(poll, 1000);
      poll();
    }
  });
  load().catch((err) => status(err.message, 'error'));
}
