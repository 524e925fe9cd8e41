// index.js - the room list (GET /rooms) with links to each room's live
// and time-travel pages.
import { el, getJSON } from './api.js';

async function load() {
  const body = document.querySelector('#rooms tbody');
  const note = document.getElementById('rooms-note');
  try {
    const { rooms } = await getJSON('/rooms');
    body.replaceChildren(
      ...rooms.map((r) => {
        const q = `?room=${encodeURIComponent(r.room)}`;
        return el(
          'tr',
          { data: { room: r.room } },
          el('td', { class: 'mono' }, el('a', { href: `live.html${q}`, textContent: r.room })),
          el('td', { textContent: r.game ?? '' }),
          el('td', { class: 'mono', textContent: r.phase ?? '' }),
          el('td', { class: 'mono', textContent: String(r.seq) }),
          el(
            'td',
            {},
            el('a', { href: `live.html${q}`, textContent: 'live', class: 'live-link' }),
            ' \u00b7 ',
            el('a', { href: `travel.html${q}`, textContent: 'time travel', class: 'travel-link' }),
          ),
        );
      }),
    );
    note.textContent = rooms.length === 0 ? 'No rooms.' : '';
    note.hidden = rooms.length !== 0;
    document.getElementById('room-count').textContent = `${rooms.length} room(s)`;
  } catch (e) {
    note.hidden = false;
    note.className = 'notice error';
    note.textContent = `Cannot list the rooms: ${e.message}`;
  }
}

document.getElementById('refresh').addEventListener('click', load);
load();
