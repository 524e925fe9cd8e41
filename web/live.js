// live.js - the live room page (live.html?room=R): follows the room's
// Server-Sent Events (GET /rooms/R/events, docs/web.md), keeps a replica
// of the public view, draws it as a tree that highlights what each change
// touched, keeps a bounded feed of the changes, checks the replica's
// checksum against the server's, and shows the connection state.
//
// Connection states:
//   connecting    no replica yet, the stream is opening
//   resyncing     the stream is open but the replica is behind the seq the
//                 server is known to have (backlog arriving, or a gap being
//                 repaired by reconnecting with ?since=)
//   live          open and caught up
//   stale         open, but no heartbeat for 3 heartbeat intervals
//   disconnected  the stream failed; EventSource (or, once it gives up,
//                 this page, with backoff) reconnects, sending the last seq
//
// It is not a player's client: EventSource cannot send a token, so the
// page always shows the public view.

import { clock, el, getJSON, roomParam, where } from './api.js';
import { checksum } from './canon.js';
import { applyChange, compact, diff, get, parsePointer, patchPaths, pointer } from './json.js';
import { bindTree, pruneMarks, renderTree, toggle } from './tree.js';

const FEED_MAX = 200;
const LATENCY_MAX = 10000;
const room = roomParam();

// Everything the page knows; window.pcLive exposes it to the console and
// to the browser tests.
const S = {
  room,
  doc: null, // the replica: {"phase", "data"}
  seq: null, // its seq
  sum: null, // the server's sum at seq
  target: null, // the newest seq the server is known to have (this connection)
  conn: 'connecting',
  open: false,
  es: null,
  interval: null, // heartbeat interval in ms, once one arrived
  lastBeat: 0,
  retries: 0,
  retryTimer: null,
  received: 0, // changes applied
  snapshots: 0,
  reconnects: 0,
  gaps: 0,
  divergences: 0,
  divergedAt: null,
  checkedSeq: null,
  sumState: 'unknown',
  latencies: [], // {seq, ms}: from a change's commit (its time) to its render
  collapsed: new Set(),
  marks: new Map(),
  feedQueue: [],
  dirty: false,
};
window.pcLive = S;

const $ = (id) => document.getElementById(id);

function setConn(state) {
  if (S.conn === state) {
    return;
  }
  S.conn = state;
  const b = $('conn-state');
  b.dataset.state = state;
  b.textContent = state;
}

// Recompute the state from what is known (see the table above).
function updateConn() {
  if (!S.open) {
    return;
  }
  if (S.doc === null || S.target === null || S.seq < S.target) {
    setConn('resyncing');
  } else if (S.interval !== null && Date.now() - S.lastBeat > 3 * S.interval) {
    setConn('stale');
  } else {
    setConn('live');
  }
}

function eventsURL(fresh) {
  const base = `/rooms/${encodeURIComponent(room)}/events`;
  return !fresh && S.seq !== null ? `${base}?since=${S.seq}` : base;
}

// connect(fresh) - (re)open the stream: from the replica's seq, or with a
// snapshot first when fresh or when there is no replica.
function connect(fresh = false) {
  clearTimeout(S.retryTimer);
  if (S.es) {
    S.es.close();
    S.reconnects++;
  }
  const es = new EventSource(eventsURL(fresh));
  S.es = es;
  S.open = false;
  S.target = null;
  setConn(S.doc === null ? 'connecting' : 'resyncing');
  es.onopen = () => {
    if (es !== S.es) {
      return;
    }
    S.open = true;
    S.retries = 0;
    S.lastBeat = Date.now();
    S.target = null;
    updateConn();
    probe(es);
  };
  es.addEventListener('snapshot', (ev) => es === S.es && onSnapshot(JSON.parse(ev.data)));
  es.addEventListener('changes', (ev) => es === S.es && onChanges(JSON.parse(ev.data)));
  es.addEventListener('heartbeat', (ev) => es === S.es && onHeartbeat(JSON.parse(ev.data)));
  es.onerror = () => {
    if (es !== S.es) {
      return;
    }
    S.open = false;
    setConn('disconnected');
    if (es.readyState === EventSource.CLOSED) {
      // The browser gave up (an HTTP error, say): retry ourselves.
      const delay = Math.min(10000, 1000 * 2 ** S.retries++);
      S.retryTimer = setTimeout(() => connect(), delay);
    }
  };
}

// Ask the room's seq once the stream is open, so a quiet room (or one
// without heartbeats) is known to be caught up without waiting.
async function probe(es) {
  try {
    const r = await getJSON(`/rooms/${encodeURIComponent(room)}`);
    if (es === S.es && S.open) {
      S.target = Math.max(S.target ?? 0, r.seq);
      updateConn();
    }
  } catch {
    // The stream's own errors tell the story.
  }
}

function mark(path, now) {
  // A removed member has no row: mark the member that held it.
  const tokens = parsePointer(path);
  while (tokens.length > 0 && get(S.doc, tokens) === undefined) {
    tokens.pop();
  }
  S.marks.set(pointer(tokens), now);
}

function onSnapshot(m) {
  const now = Date.now();
  const old = S.doc;
  S.doc = m.state;
  S.seq = m.seq;
  S.sum = m.sum;
  S.snapshots++;
  S.target = Math.max(S.target ?? 0, m.seq);
  const changed = old === null ? null : diff(old, m.state);
  if (changed) {
    changed.forEach((d) => mark(d.path, now));
  }
  S.feedQueue.push({ snapshot: true, seq: m.seq, changed: changed ? changed.length : null, at: now });
  updateConn();
  schedule();
}

function onChanges(m) {
  const now = Date.now();
  const wasLive = S.conn === 'live';
  for (const c of m.changes) {
    if (S.doc === null) {
      connect(true);
      return;
    }
    if (c.seq <= S.seq) {
      continue; // a repeat
    }
    if (c.seq !== S.seq + 1) {
      S.gaps++;
      connect();
      return;
    }
    const phaseBefore = S.doc.phase;
    applyChange(S.doc, c);
    S.seq = c.seq;
    S.sum = c.sum;
    S.received++;
    // A change says nothing about what follows it: only a probe, a
    // heartbeat or a snapshot tells the server's seq after a (re)connect.
    if (S.target !== null) {
      S.target = Math.max(S.target, c.seq);
    }
    patchPaths(c.patch).forEach((p) => mark(p, now));
    if (S.doc.phase !== phaseBefore) {
      S.marks.set('/phase', now);
    }
    S.feedQueue.push({ change: c, at: now, measure: wasLive });
  }
  updateConn();
  schedule();
}

function onHeartbeat(h) {
  S.interval = h.interval_ms || null;
  S.lastBeat = Date.now();
  S.target = Math.max(S.target ?? 0, h.seq);
  if (S.doc !== null && h.seq > S.seq) {
    // Every change up to h.seq was sent before this heartbeat: one was
    // lost. Resume from the replica's seq.
    S.gaps++;
    connect();
    return;
  }
  updateConn();
}

function schedule() {
  if (!S.dirty) {
    S.dirty = true;
    requestAnimationFrame(render);
  }
}

function feedItem(x) {
  if (x.snapshot) {
    const what =
      x.changed === null ? 'the replica starts from this snapshot' : `the replica was replaced; ${x.changed} field(s) differed`;
    return el(
      'li',
      { class: 'snapshot fresh', data: { seq: x.seq, kind: 'snapshot' } },
      el('span', { class: 'seq', textContent: `#${x.seq}` }),
      el('span', { class: 'kind', textContent: 'snapshot' }),
      el('span', { class: 'reason', textContent: what }),
      el('span', { class: 'meta', textContent: clock(x.at) }),
    );
  }
  const c = x.change;
  const meta = [clock(c.time), c.phase];
  const loc = where(c);
  if (loc) {
    meta.push(c.func ? `${loc} ${c.func}` : loc);
  }
  if (c.private) {
    meta.push('private data changed');
  }
  if (c.event) {
    meta.push(`event ${c.event.name}`);
  }
  const patch = c.kind === 'event' && c.event ? { event: c.event.data } : c.patch;
  return el(
    'li',
    { class: 'fresh', data: { seq: c.seq, kind: c.kind } },
    el('span', { class: 'seq', textContent: `#${c.seq}` }),
    el('span', { class: `kind kind-${c.kind}`, textContent: c.kind }),
    el('span', { class: 'reason', textContent: c.reason ?? '(not public)' }),
    el('span', { class: 'meta', textContent: meta.join(' \u00b7 ') }),
    el('code', { class: 'patch', textContent: compact(patch, 400), title: JSON.stringify(patch) }),
  );
}

function checkSum() {
  if (S.doc === null || S.sum === null || S.checkedSeq === S.seq) {
    return;
  }
  S.checkedSeq = S.seq;
  const mine = checksum(S.doc);
  const b = $('sum-state');
  if (mine === S.sum) {
    S.sumState = 'ok';
    b.dataset.state = 'ok';
    b.textContent = 'sum ok';
    b.title = `the replica's checksum ${mine} equals the server's at seq ${S.seq}`;
  } else {
    S.sumState = 'diverged';
    S.divergences++;
    S.divergedAt = S.seq;
    b.dataset.state = 'diverged';
    b.textContent = `diverged at #${S.seq}`;
    b.title = `the replica's checksum ${mine} differs from the server's ${S.sum}: taking a snapshot`;
    connect(true);
  }
}

function render() {
  S.dirty = false;
  const now = Date.now();
  pruneMarks(S.marks, now);
  if (S.doc !== null) {
    renderTree($('state'), S.doc, { collapsed: S.collapsed, marks: S.marks, now, label: `state of ${room}` });
    $('seq').textContent = String(S.seq);
    $('phase').textContent = S.doc.phase;
  }
  const feed = $('feed');
  const items = S.feedQueue.splice(0);
  // Newest first; when a burst brings more than the feed holds, only
  // the newest are drawn.
  const shown = items.slice(-FEED_MAX);
  const frag = document.createDocumentFragment();
  for (let i = shown.length - 1; i >= 0; i--) {
    frag.append(feedItem(shown[i]));
  }
  feed.prepend(frag);
  while (feed.childElementCount > FEED_MAX) {
    feed.lastElementChild.remove();
  }
  $('feed-count').textContent =
    `${S.received} change(s), ${S.snapshots} snapshot(s) received; ` + `the newest ${feed.childElementCount} entries shown`;
  checkSum();
  const drawn = Date.now();
  for (const x of items) {
    if (x.change && x.measure && typeof x.change.time === 'number') {
      S.latencies.push({ seq: x.change.seq, ms: drawn - x.change.time });
    }
  }
  if (S.latencies.length > LATENCY_MAX) {
    S.latencies.splice(0, S.latencies.length - LATENCY_MAX);
  }
}

function start() {
  if (room === null) {
    $('state').replaceChildren(el('p', { class: 'notice error', textContent: 'Give a room: live.html?room=ROOM' }));
    setConn('disconnected');
    return;
  }
  document.title = `${room} \u00b7 phasecast live`;
  $('room-name').textContent = room;
  $('travel-link').href = `travel.html?room=${encodeURIComponent(room)}`;
  bindTree($('state'), {
    onToggle: (p) => {
      toggle(S.collapsed, p);
      schedule();
    },
  });
  connect();
  // The stale watch, and a reconnect when a stream stays stale (a
  // connection that died without an error).
  setInterval(() => {
    updateConn();
    if (S.open && S.interval !== null && Date.now() - S.lastBeat > 6 * S.interval) {
      connect();
    }
  }, 500);
}

start();
