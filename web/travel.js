// travel.js - the time-travel page (travel.html?room=R[&seq=N]): reads a
// room's history (GET /rooms/R/history with the inspector credential,
// paged with since while more), then computes in the browser, from the
// base state and the records' merge patches, the state at any seq, the
// diff between two seqs and the blame of a field. "Follow live" polls
// /history?since=<last> every second. It works the same against a
// server's bridge and against `phasecast-inspect --http` (docs/web.md).
//
// It holds the whole retained history in memory, with a keyframe (a copy
// of the state) every KEYFRAME_EVERY seqs so that any state costs at most
// that many patches. It never changes the room.

import { ApiError, causeText, clock, el, getJSON, param, roomParam, where } from './api.js';
import { checksum } from './canon.js';
import { applyChange, clone, compact, deepEqual, diff, get, parsePointer, patchTouches } from './json.js';
import { bindTree, renderTree, toggle } from './tree.js';

const KEY = 'phasecast.inspector.credential';
const KEYFRAME_EVERY = 64;
const FOLLOW_MS = 1000;
const room = roomParam();

const H = {
  room,
  cred: '',
  first: null, // the seq of the base state
  base: null, // {seq, sum, state}
  records: [], // records first+1 .. head, in order
  cursor: null,
  againstSeq: null, // null: diff against the previous seq
  selected: null, // the pointer whose blame is shown
  collapsed: new Set(),
  keyframes: new Map(), // index -> state at first + index * KEYFRAME_EVERY
  cache: new Map(), // a few recent states by seq
  follow: false,
  followTimer: null,
  polling: false,
};
window.pcTravel = H;

const $ = (id) => document.getElementById(id);

function head() {
  return H.records.length > 0 ? H.records[H.records.length - 1].seq : H.first;
}

function recordAt(seq) {
  return H.records[seq - H.first - 1];
}

function setLoad(state, text = state) {
  const b = $('load-state');
  b.dataset.state = state;
  b.textContent = text;
}

function historyURL(since) {
  const q = since === null ? '' : `?since=${since}`;
  return `/rooms/${encodeURIComponent(room)}/history${q}`;
}

// Append records after the current head; refuses a hole.
function append(records) {
  for (const r of records) {
    const want = head() + 1;
    if (r.seq < want) {
      continue;
    }
    if (r.seq !== want) {
      throw new ApiError(0, 'gap', `the history skips from seq ${want - 1} to ${r.seq}`);
    }
    H.records.push(r);
  }
}

async function loadAll() {
  setLoad('loading');
  let r = await getJSON(historyURL(null), H.cred);
  H.first = r.first;
  H.base = r.base;
  H.records = [];
  H.keyframes = new Map([[0, clone(r.base.state)]]);
  H.cache = new Map();
  append(r.records);
  while (r.more && H.records.length > 0) {
    r = await getJSON(historyURL(head()), H.cred);
    append(r.records);
    setLoad('loading', `loading ${H.records.length}`);
  }
}

// stateAt(seq) -> the whole state document right after seq (a copy the
// caller may keep; do not modify it).
function stateAt(seq) {
  if (H.cache.has(seq)) {
    return H.cache.get(seq);
  }
  let k = Math.floor((seq - H.first) / KEYFRAME_EVERY);
  while (!H.keyframes.has(k)) {
    k--;
  }
  const doc = clone(H.keyframes.get(k));
  for (let s = H.first + k * KEYFRAME_EVERY + 1; s <= seq; s++) {
    applyChange(doc, recordAt(s));
    const idx = (s - H.first) / KEYFRAME_EVERY;
    if (Number.isInteger(idx) && !H.keyframes.has(idx)) {
      H.keyframes.set(idx, clone(doc));
    }
  }
  H.cache.set(seq, doc);
  if (H.cache.size > 8) {
    H.cache.delete(H.cache.keys().next().value);
  }
  return doc;
}

// blame(path, upto) -> {record, old, new} of the latest change at or
// before upto that changed the value at path (a pointer into the whole
// document), or null when none of the retained ones did. As
// `phasecast-inspect blame`: a patch that writes an equal value did not
// change it.
function blame(path, upto) {
  const tokens = parsePointer(path);
  const doc = clone(H.keyframes.get(0));
  let found = null;
  for (let s = H.first + 1; s <= upto; s++) {
    const r = recordAt(s);
    const touches = tokens[0] === 'phase' ? r.phase !== doc.phase : patchTouches(r.patch, tokens, doc);
    if (!touches) {
      applyChange(doc, r);
      continue;
    }
    const before = clone(get(doc, tokens));
    applyChange(doc, r);
    const after = get(doc, tokens);
    if (!deepEqual(before, after)) {
      found = { record: r, old: before, new: clone(after) };
    }
  }
  return found;
}

// ---- drawing ----

function changeItem(r) {
  const loc = where(r);
  return el(
    'li',
    { data: { seq: r.seq }, id: `change-${r.seq}` },
    el('span', { class: 'seq', textContent: `#${r.seq}` }),
    el('span', { class: `kind kind-${r.kind}`, textContent: r.kind }),
    el('span', { class: 'phase', textContent: r.phase, title: r.prev && r.prev !== r.phase ? `${r.prev} \u2192 ${r.phase}` : r.phase }),
    el('span', { class: 'reason', textContent: r.reason ?? '' }),
    el('span', { class: 'where', textContent: loc ? `${loc}  ${r.func ?? ''}` : '' }),
  );
}

function drawList() {
  const list = $('changes');
  const have = list.childElementCount;
  if (have === 0) {
    list.append(
      el(
        'li',
        { class: 'base', data: { seq: H.first }, id: `change-${H.first}` },
        el('span', { class: 'seq', textContent: `#${H.first}` }),
        el('span', { class: 'kind', textContent: 'base' }),
        el('span', { class: 'phase', textContent: H.base.state.phase }),
        el('span', { class: 'reason', textContent: 'the oldest state this history holds' }),
      ),
    );
  }
  const frag = document.createDocumentFragment();
  for (let i = Math.max(0, list.childElementCount - 1); i < H.records.length; i++) {
    frag.append(changeItem(H.records[i]));
  }
  list.append(frag);
  $('changes-count').textContent = `${H.records.length} change(s)`;
  $('span').textContent = `${H.first}..${head()}`;
  const slider = $('slider');
  slider.min = String(H.first);
  slider.max = String(head());
}

function fact(name, value, cls) {
  return [el('dt', { textContent: name }), el('dd', { textContent: value, class: cls })];
}

function drawChange(seq) {
  const dl = $('change');
  if (seq === H.first) {
    dl.replaceChildren(...fact('seq', String(seq)), ...fact('what', 'the base state: the oldest this history holds'));
    return;
  }
  const r = recordAt(seq);
  const parts = [
    ...fact('seq', `${r.seq} (${r.kind})`),
    ...fact('time', `${clock(r.time)}  ${new Date(r.time).toISOString()}`),
    ...fact('phase', r.prev && r.prev !== r.phase ? `${r.prev} \u2192 ${r.phase}` : r.phase),
    ...fact('reason', r.reason ?? ''),
    ...fact('source', where(r) ? `${where(r)} ${r.func ?? ''}` : '(none)'),
  ];
  if (r.cause) {
    parts.push(...fact('cause', causeText(r.cause)));
  }
  if (r.event) {
    parts.push(...fact('event', `${r.event.name} ${compact(r.event.data, 300)}`));
  }
  parts.push(...fact('patch', compact(r.patch, 600)));
  dl.replaceChildren(...parts);
}

function diffTarget() {
  if (H.againstSeq !== null) {
    return Math.min(Math.max(H.againstSeq, H.first), head());
  }
  return H.cursor > H.first ? H.cursor - 1 : null;
}

function drawDiff() {
  const box = $('diff');
  const from = diffTarget();
  if (from === null) {
    box.replaceChildren(el('p', { class: 'notice', textContent: 'The base state: no earlier seq in this history.' }));
    return [];
  }
  const entries = diff(stateAt(from), stateAt(H.cursor));
  const rows = entries.map((d) => {
    const op = !('old' in d) ? 'added' : !('new' in d) ? 'removed' : 'changed';
    return el(
      'tr',
      { class: op, data: { path: d.path } },
      el('td', { class: 'op', textContent: { added: '+', removed: '-', changed: '~' }[op] }),
      el('td', { class: 'path', textContent: d.path }),
      el('td', { class: 'old', textContent: 'old' in d ? compact(d.old, 120) : '' }),
      el('td', { class: 'arrow', textContent: '\u2192' }),
      el('td', { class: 'new', textContent: 'new' in d ? compact(d.new, 120) : '' }),
    );
  });
  box.replaceChildren(
    el('p', { class: 'notice', id: 'diff-summary', textContent: `seq ${from} \u2192 ${H.cursor}: ${entries.length} field(s)` }),
    el('table', { class: 'diff', 'aria-label': 'differences' }, el('tbody', {}, ...rows)),
  );
  return entries;
}

function drawBlame() {
  const box = $('blame');
  if (H.selected === null) {
    box.replaceChildren(el('p', { class: 'notice', textContent: 'Click a field in the state.' }));
    return;
  }
  const value = get(stateAt(H.cursor), parsePointer(H.selected));
  const b = blame(H.selected, H.cursor);
  const parts = [...fact('path', H.selected), ...fact('value', compact(value, 300))];
  if (b === null) {
    parts.push(...fact('set', `before seq ${H.first + 1}: no retained change up to ${H.cursor} changed it`));
    box.replaceChildren(el('dl', { class: 'facts', id: 'blame-facts' }, ...parts));
    box.dataset.seq = '';
    return;
  }
  const r = b.record;
  parts.push(
    ...fact('seq', String(r.seq)),
    ...fact('reason', r.reason ?? ''),
    ...fact('source', where(r) ? `${where(r)} ${r.func ?? ''}` : '(none)'),
    ...fact('time', clock(r.time)),
  );
  if (r.cause) {
    parts.push(...fact('cause', causeText(r.cause)));
  }
  parts.push(...fact('change', `${compact(b.old, 120)} \u2192 ${compact(b.new, 120)}`));
  const jump = el('button', { type: 'button', id: 'blame-jump', textContent: `go to seq ${r.seq}` });
  jump.addEventListener('click', () => moveTo(r.seq));
  box.replaceChildren(el('dl', { class: 'facts', id: 'blame-facts' }, ...parts), el('p', { class: 'notice' }, jump));
  box.dataset.seq = String(r.seq);
}

function drawSum(doc) {
  const want = H.cursor === H.first ? H.base.sum : recordAt(H.cursor).sum;
  const b = $('sum-check');
  if (!want) {
    b.dataset.state = 'unknown';
    b.textContent = 'sum \u2013';
    return;
  }
  const mine = checksum(doc);
  b.dataset.state = mine === want ? 'ok' : 'diverged';
  b.textContent = mine === want ? 'sum ok' : 'sum mismatch';
  b.title = `computed ${mine}, recorded ${want} at seq ${H.cursor}`;
}

function draw() {
  const seq = H.cursor;
  const doc = stateAt(seq);
  $('slider').value = String(seq);
  const r = seq === H.first ? null : recordAt(seq);
  $('cursor').textContent = `seq ${seq} \u00b7 ${doc.phase}${r ? ' \u00b7 ' + clock(r.time) : ''}`;
  for (const li of document.querySelectorAll('#changes li.current')) {
    li.classList.remove('current');
    li.removeAttribute('aria-current');
  }
  const cur = $(`change-${seq}`);
  if (cur) {
    cur.classList.add('current');
    cur.setAttribute('aria-current', 'true');
    cur.scrollIntoView({ block: 'nearest' });
  }
  drawChange(seq);
  const entries = drawDiff();
  // A removed member has no row: mark the member that held it.
  const marks = new Map(entries.map((d) => [('new' in d ? d.path : d.path.slice(0, d.path.lastIndexOf('/'))), 0]));
  renderTree($('state'), doc, {
    collapsed: H.collapsed,
    marks,
    markClass: 'changed',
    selected: H.selected,
    label: `state at seq ${seq}`,
  });
  $('state').firstChild?.classList.add('clickable');
  drawBlame();
  drawSum(doc);
  const u = new URL(location.href);
  u.searchParams.set('seq', String(seq));
  history.replaceState(null, '', u);
}

function moveTo(seq, fromUser = true) {
  if (H.first === null) {
    return;
  }
  seq = Math.min(Math.max(seq, H.first), head());
  if (fromUser && H.follow && seq !== head()) {
    setFollow(false);
  }
  H.cursor = seq;
  draw();
}

// ---- follow live ----

async function poll() {
  if (H.polling) {
    return;
  }
  H.polling = true;
  try {
    let r;
    do {
      r = await getJSON(historyURL(head()), H.cred);
      append(r.records);
    } while (r.more && r.records.length > 0);
    drawList();
    setLoad('following', 'following');
    if (H.follow) {
      moveTo(head(), false);
    }
  } catch (e) {
    if (e.code === 'too_old') {
      // The room's history moved past our head: read it again.
      await reload();
    } else {
      setLoad('error', `follow: ${e.code}`);
    }
  } finally {
    H.polling = false;
  }
}

function setFollow(on) {
  H.follow = on;
  $('follow').checked = on;
  clearInterval(H.followTimer);
  H.followTimer = null;
  if (on) {
    H.followTimer = setInterval(poll, FOLLOW_MS);
    poll();
  } else if (H.first !== null) {
    setLoad('ok', 'loaded');
  }
}

// ---- loading and the credential ----

function showError(text) {
  const p = $('error');
  p.textContent = text;
  p.hidden = !text;
}

async function reload() {
  showError('');
  try {
    await loadAll();
  } catch (e) {
    setLoad('error', e.code || 'error');
    if (e.status === 401 || e.status === 403) {
      $('cred-form').hidden = false;
      $('main').hidden = true;
      $('cred-note').textContent = H.cred
        ? `The server refused this credential (${e.code}). Type the inspector credential again.`
        : 'This history needs the inspector credential. It is kept in this tab only (sessionStorage).';
      $('credential').focus();
    } else {
      showError(`Cannot read the history of ${room}: ${e.message}`);
    }
    return false;
  }
  $('cred-form').hidden = true;
  $('main').hidden = false;
  $('forget').hidden = !H.cred;
  $('changes').replaceChildren();
  drawList();
  setLoad(H.follow ? 'following' : 'ok', H.follow ? 'following' : 'loaded');
  const want = Number(param('seq'));
  moveTo(H.cursor ?? (Number.isInteger(want) && param('seq') !== null ? want : head()), false);
  return true;
}

function bind() {
  $('cred-form').addEventListener('submit', (e) => {
    e.preventDefault();
    H.cred = $('credential').value.trim();
    $('credential').value = '';
    sessionStorage.setItem(KEY, H.cred);
    reload();
  });
  $('forget').addEventListener('click', (e) => {
    e.preventDefault();
    sessionStorage.removeItem(KEY);
    H.cred = '';
    setFollow(false);
    location.reload();
  });
  $('slider').addEventListener('input', (e) => moveTo(Number(e.target.value)));
  $('prev').addEventListener('click', () => moveTo(H.cursor - 1));
  $('next').addEventListener('click', () => moveTo(H.cursor + 1));
  $('follow').addEventListener('change', (e) => setFollow(e.target.checked));
  $('changes').addEventListener('click', (e) => {
    const li = e.target.closest('li[data-seq]');
    if (li) {
      moveTo(Number(li.dataset.seq));
    }
  });
  $('diff-mode').addEventListener('change', (e) => {
    const bySeq = e.target.value === 'seq';
    const input = $('diff-against');
    input.hidden = !bySeq;
    if (bySeq) {
      input.min = String(H.first);
      input.max = String(head());
      input.value = input.value || String(H.first);
      H.againstSeq = Number(input.value);
      input.focus();
    } else {
      H.againstSeq = null;
    }
    draw();
  });
  $('diff-against').addEventListener('input', (e) => {
    const v = Number(e.target.value);
    if (e.target.value !== '' && Number.isInteger(v)) {
      H.againstSeq = v;
      draw();
    }
  });
  bindTree($('state'), {
    onToggle: (p) => {
      toggle(H.collapsed, p);
      draw();
    },
    onSelect: (p) => {
      H.selected = p;
      draw();
    },
  });
  document.addEventListener('keydown', (e) => {
    const t = e.target;
    const typing = t instanceof HTMLInputElement && t.type !== 'checkbox' && t.type !== 'range';
    if (typing || t instanceof HTMLSelectElement || t === $('slider') || e.altKey || e.ctrlKey || e.metaKey) {
      return;
    }
    const to = { ArrowLeft: H.cursor - 1, ArrowRight: H.cursor + 1, Home: H.first, End: head() }[e.key];
    if (to !== undefined && H.cursor !== null) {
      e.preventDefault();
      moveTo(to);
    }
  });
}

function start() {
  if (room === null) {
    showError('Give a room: travel.html?room=ROOM');
    setLoad('error', 'no room');
    return;
  }
  document.title = `${room} \u00b7 phasecast time travel`;
  $('room-name').textContent = room;
  $('live-link').href = `live.html?room=${encodeURIComponent(room)}`;
  H.cred = sessionStorage.getItem(KEY) || '';
  bind();
  reload();
}

// For the console and the browser tests.
H.stateAt = stateAt;
H.blame = blame;
H.moveTo = moveTo;
start();
