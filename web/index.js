// index.js - the room list: GET /rooms, one row per room with links to the
// live page and the time-travel page. It does not refresh by itself.
import { el, getJSON } from './common.js';

const status = document.getElementById('status');
try {
  const body = await getJSON('/rooms');
  if (!body.ok) throw new Error(`${body.error.code}: ${body.error.message}`);
  const rows = body.result.rooms.map((r) => {
    const q = `?room=${encodeURIComponent(r.room)}`;
    const live = el('a', null, 'live');
    live.href = `live.html${q}`;
    const travel = el('a', null, 'time travel');
    travel.href = `travel.html${q}`;
    return el('tr', null, null, el('td', 'mono', r.room), el('td', null, r.game),
      el('td', null, r.phase), el('td', 'mono', String(r.seq)),
      el('td', null, null, live, ' · ', travel));
  });
  document.getElementById('rooms').replaceChildren(...rows);
  status.textContent = rows.length ? '' : 'no rooms';
} catch (e) {
  status.textContent = `cannot list the rooms: ${e.message}`;
  status.className = 'error';
}
