// live.js - the live room page: follows GET /rooms/{room}/events (Server-
// Sent Events) and keeps a replica of the room's public state, shown as a
// tree that highlights what the last change touched, beside a bounded feed
// of changes. The browser's EventSource reconnects by itself and sends
// Last-Event-ID, so the server resumes from its ring or sends a snapshot;
// the page only reopens the stream itself when the browser gives up (an
// HTTP error) or when it sees a gap. Once a frame it checks the replica's
// checksum (canon.js) against the server's `sum` of the newest change; on a
// divergence it reopens the stream without a seq, which brings a fresh
// snapshot. It sends no credential (EventSource cannot), so it always
// shows the public view.
import { checksum } from './canon.js';
import { applyChange, el, roomParam, short, StateTree, touchedPaths } from './common.js';

const FEED_MAX = 200;
const room = roomParam();
const $ = (id) => document.getElementById(id);
const tree = new StateTree($('state'));

// The replica and what the page shows of it.
let doc = null; // {phase, data}
let seq = -1;
let sum = null; // the server's sum at seq
let checkedSeq = -1;
let resyncedAt = -Infinity; // when a divergence last forced a snapshot
let touched = [];
let conn = 'connecting';
let beatAt = performance.now();
let beatEvery = 1000;
let es = null;
let retryTimer = 0;
let dirty = false;
const arrived = []; // changes applied since the last render, for latency
// Measurements for tests and the curious: ms from a change's time to the
// frame that showed it.
window.pcLive = { latencies: [], divergences: 0, sumState: 'unknown', get seq() { return seq; }, get state() { return doc; } };

// Compare the replica's checksum with the server's; on a divergence take a
// fresh snapshot, at most once every 5 s (so a page whose checksum code
// disagreed with the server's would not reconnect in a loop).
function checkSum() {
  if (doc === null || sum === null || checkedSeq === seq) return;
  checkedSeq = seq;
  const mine = checksum(doc);
  const b = $('sum-state');
  const ok = mine === sum;
  window.pcLive.sumState = ok ? 'ok' : 'diverged';
  b.textContent = ok ? 'sum ok' : `diverged at ${seq}`;
  b.className = `conn ${ok ? 'live' : 'stale'}`;
  b.title = ok ? `the replica's checksum equals the server's at seq ${seq}` : `replica ${mine}, server ${sum}`;
  if (!ok) {
    window.pcLive.divergences++;
    if (performance.now() - resyncedAt > 5000) {
      resyncedAt = performance.now();
      if (es) es.close();
      clearTimeout(retryTimer);
      setConn('resyncing', `checksum diverged at seq ${seq}`);
      open(-1);
    }
  }
}

function setConn(s, note = '') {
  conn = s;
  const c = $('conn-state');
  c.textContent = s;
  c.className = `conn ${s}`;
  $('note').textContent = note;
}

function feedItem(node) {
  const feed = $('feed');
  feed.prepend(node);
  while (feed.childElementCount > FEED_MAX) feed.lastElementChild.remove();
}

function changeItem(c) {
  const li = el('li', c.kind === 'event' ? 'event' : null, null,
    el('span', 'seq', String(c.seq)), el('span', `kind ${c.kind}`, c.kind),
    el('span', 'phase', c.phase), el('span', 'reason', c.reason ?? (c.private ? '(private)' : '')),
    el('span', 'where', c.file ? `${c.file}:${c.line}` : ''));
  if (c.kind === 'event' && c.event) {
    li.append(el('span', 'patch', `event ${c.event.name} ${short(c.event.data, 300)}`));
  } else {
    li.append(el('span', 'patch', short(c.patch, 400)));
  }
  li.dataset.seq = c.seq;
  return li;
}

function scheduleRender() {
  if (dirty) return;
  dirty = true;
  requestAnimationFrame(() => {
    dirty = false;
    $('seq').textContent = String(seq);
    $('phase').textContent = doc ? doc.phase : '-';
    if (doc) tree.render(doc, touched);
    checkSum();
    const now = Date.now();
    for (const c of arrived) window.pcLive.latencies.push(now - c.time);
    arrived.length = 0;
  });
}

function onSnapshot(m) {
  doc = m.state;
  seq = m.seq;
  sum = m.sum ?? null;
  touched = [];
  beatAt = performance.now();
  feedItem(el('li', 'marker', `snapshot at seq ${m.seq}`));
  setConn('live');
  scheduleRender();
}

function onChanges(m) {
  for (const c of m.changes) {
    if (c.seq <= seq) continue; // already applied (a resumed stream)
    if (doc === null || c.seq !== seq + 1) {
      reopen(`gap: have seq ${seq}, got ${c.seq}`);
      return;
    }
    touched = touchedPaths(c, doc.phase);
    applyChange(doc, c);
    seq = c.seq;
    sum = c.sum ?? null;
    arrived.push(c);
    feedItem(changeItem(c));
  }
  beatAt = performance.now(); // the stream is evidently alive
  setConn('live');
  scheduleRender();
}

function onHeartbeat(m) {
  beatAt = performance.now();
  beatEvery = m.interval_ms > 0 ? m.interval_ms : beatEvery;
  if (m.seq > seq) {
    // Every change up to m.seq was sent before the beat: one was lost.
    reopen(`heartbeat at seq ${m.seq}, replica at ${seq}`);
  } else if (conn !== 'live' && doc !== null) {
    setConn('live'); // resumed with nothing missed
  }
}

function parse(e, fn) {
  let m;
  try {
    m = JSON.parse(e.data);
  } catch {
    return;
  }
  fn(m);
}

function open(since) {
  const q = since >= 0 ? `?since=${since}` : '';
  es = new EventSource(`/rooms/${encodeURIComponent(room)}/events${q}`);
  es.addEventListener('snapshot', (e) => parse(e, onSnapshot));
  es.addEventListener('changes', (e) => parse(e, onChanges));
  es.addEventListener('heartbeat', (e) => parse(e, onHeartbeat));
  es.addEventListener('error', () => {
    setConn('resyncing', es.readyState === EventSource.CLOSED ? 'reconnecting' : 'connection lost');
    if (es.readyState === EventSource.CLOSED) {
      // The browser gave up (an HTTP error such as 404 while the server
      // restarts without the room): try again ourselves.
      clearTimeout(retryTimer);
      retryTimer = setTimeout(() => open(doc ? seq : -1), 1000);
    }
  });
}

// Drop the stream and open a new one from our seq.
function reopen(why) {
  setConn('resyncing', why);
  if (es) es.close();
  clearTimeout(retryTimer);
  open(doc ? seq : -1);
}

if (!room) {
  setConn('stale', 'no ?room= in the address');
} else {
  $('room').textContent = room;
  $('travel-link').href = `travel.html?room=${encodeURIComponent(room)}`;
  document.title = `${room} · phasecast live`;
  open(-1);
  setInterval(() => {
    if (conn === 'live' && performance.now() - beatAt > 3 * beatEvery) {
      setConn('stale', `no heartbeat for ${Math.round((performance.now() - beatAt) / 1000)} s`);
    }
  }, 250);
}
