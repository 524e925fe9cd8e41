// tree.js - a JSON document as a collapsible tree, each row carrying its
// JSON Pointer (data-path) so a page can highlight what a change touched
// and find the field a person clicked. It renders the whole tree each
// time it is asked (the pages batch their renders to one per frame); it
// keeps no state itself: which nodes are collapsed, marked or selected is
// the caller's.

import { el } from './api.js';
import { isObject, pointer, sortedKeys } from './json.js';

// The fade of a highlight, in ms; style.css's tree-touched animation
// lasts as long.
export const FADE_MS = 2500;

function scalar(v) {
  if (v === null) {
    return el('span', { class: 'v-null', textContent: 'null' });
  }
  switch (typeof v) {
    case 'string':
      return el('span', { class: 'v-str', textContent: JSON.stringify(v) });
    case 'number':
      return el('span', { class: 'v-num', textContent: String(v) });
    case 'boolean':
      return el('span', { class: 'v-bool', textContent: String(v) });
    default:
      return el('span', { textContent: String(v) });
  }
}

// renderTree(container, doc, opts): opts.collapsed (Set of pointers),
// opts.marks (Map pointer -> time it was touched, Date.now() clock),
// opts.selected (a pointer or null), opts.now (for the fades),
// opts.markClass (a class for marked rows that stays instead of fading),
// opts.label (the tree's accessible name). Rows whose path is marked fade
// from the highlight colour; the rows above them
// carry a quieter mark so a collapsed branch still shows a change inside.
export function renderTree(container, doc, opts = {}) {
  const collapsed = opts.collapsed || new Set();
  const marks = opts.marks || new Map();
  const now = opts.now ?? Date.now();
  const inner = new Set();
  for (const p of marks.keys()) {
    let q = p;
    while (q.length > 0) {
      q = q.slice(0, q.lastIndexOf('/'));
      inner.add(q);
    }
  }

  const item = (key, value, tokens) => {
    const path = pointer(tokens);
    const container = Array.isArray(value) || isObject(value);
    const open = container && !collapsed.has(path);
    const row = el('div', { class: 'row', tabIndex: 0, data: { path } });
    if (container) {
      row.append(
        el('button', {
          class: 'tog',
          type: 'button',
          textContent: open ? '\u25be' : '\u25b8',
          'aria-label': `${open ? 'collapse' : 'expand'} ${path}`,
          data: { toggle: path },
        }),
      );
    } else {
      row.append(el('span', { class: 'tog-pad' }));
    }
    row.append(el('span', { class: 'key', textContent: key }), el('span', { class: 'colon', textContent: ': ' }));
    if (container) {
      const n = Array.isArray(value) ? value.length : Object.keys(value).length;
      const summary = Array.isArray(value) ? `[${n}]` : `{${n}}`;
      row.append(el('span', { class: 'v-sum', textContent: open ? summary : `${summary} ${preview(value)}` }));
    } else {
      row.append(scalar(value));
    }
    if (marks.has(path)) {
      if (opts.markClass) {
        row.classList.add(opts.markClass);
      } else {
        row.classList.add('touched');
        row.style.animationDelay = `-${Math.max(0, now - marks.get(path))}ms`;
      }
    } else if (inner.has(path)) {
      row.classList.add('touched-inside');
    }
    if (opts.selected === path) {
      row.classList.add('selected');
      row.setAttribute('aria-selected', 'true');
    }
    const li = el('li', { role: 'treeitem' }, row);
    if (container) {
      li.setAttribute('aria-expanded', String(open));
      if (open) {
        li.append(children(value, tokens, 'group'));
      }
    }
    return li;
  };

  const children = (value, tokens, role) => {
    const ul = el('ul', { role });
    if (Array.isArray(value)) {
      value.forEach((v, i) => ul.append(item(String(i), v, [...tokens, String(i)])));
    } else {
      for (const k of sortedKeys(value)) {
        ul.append(item(k, value[k], [...tokens, k]));
      }
    }
    return ul;
  };

  const root = isObject(doc) || Array.isArray(doc) ? children(doc, [], 'tree') : el('ul', { role: 'tree' });
  root.classList.add('tree');
  if (opts.label) {
    root.setAttribute('aria-label', opts.label);
  }
  // Keep the keyboard focus on the same row across renders.
  const focused = container.contains(document.activeElement) ? document.activeElement : null;
  const focusPath = focused?.closest('.row')?.dataset.path;
  container.replaceChildren(root);
  if (focusPath !== undefined) {
    root.querySelector(`.row[data-path="${CSS.escape(focusPath)}"]`)?.focus({ preventScroll: true });
  }
}

function preview(v) {
  const s = JSON.stringify(v);
  return s.length > 60 ? s.slice(0, 59) + '\u2026' : s;
}

// Marks that have faded are dropped, so the map stays small.
export function pruneMarks(marks, now = Date.now()) {
  for (const [p, t] of marks) {
    if (now - t > FADE_MS) {
      marks.delete(p);
    }
  }
}

// bindTree(container, {onToggle(path), onSelect(path)}) - clicks and keys
// on the rows of a tree that renderTree draws into container.
export function bindTree(container, handlers) {
  container.addEventListener('click', (e) => {
    const tog = e.target.closest('[data-toggle]');
    if (tog && container.contains(tog)) {
      handlers.onToggle?.(tog.dataset.toggle);
      return;
    }
    const row = e.target.closest('.row');
    if (row && container.contains(row)) {
      handlers.onSelect?.(row.dataset.path);
    }
  });
  container.addEventListener('keydown', (e) => {
    const row = e.target.closest('.row');
    if (!row || e.target !== row) {
      return;
    }
    if (e.key === 'Enter') {
      handlers.onSelect?.(row.dataset.path);
      e.preventDefault();
    } else if (e.key === ' ') {
      const tog = row.querySelector('[data-toggle]');
      if (tog) {
        handlers.onToggle?.(tog.dataset.toggle);
        e.preventDefault();
      }
    }
  });
}

// toggle(set, path) - flip a path in a collapsed set.
export function toggle(set, path) {
  if (set.has(path)) {
    set.delete(path);
  } else {
    set.add(path);
  }
}
