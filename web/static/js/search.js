// The top bar's search (a case ID or a grid code) and the locate popover
// (a typed coordinate, in WGS84, GCJ-02 or BD-09), with the page's
// keyboard shortcuts: "/" to search, Escape to close what is open.

import {get, APIError} from './api.js';
import {$} from './dom.js';
import {parseSearch, cleanCoordinate} from './lookup.js';

/**
 * setupSearch wires the search form, the locate popover and the keys.
 * data is the reference data (district); panels the Panels (openCase,
 * openGrid, openLocate); panel the Panel; view the MapView (fitGeometry);
 * draw the Draw tool (Escape is its while it draws); sidebar {isOpen(),
 * toggle(open)}.
 */
export function setupSearch({data, panels, panel, view, draw, sidebar}) {
  const form = $('#search-form');
  const input = $('#search-input');
  const msg = $('#search-msg');
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    search(input.value);
  });
  input.addEventListener('input', () => { msg.textContent = ''; });

  async function search(typed) {
    msg.textContent = '';
    const q = parseSearch(typed, data.district ? data.district.code : '');
    if (q.kind === 'none') return;
    if (q.kind === 'invalid') {
      msg.textContent = q.message;
      return;
    }
    msg.textContent = 'Searching…';
    try {
      if (q.kind === 'case') {
        const f = await get(`/v1/cases/${q.id}`);
        msg.textContent = '';
        panels.openCase(f.properties.id, {fly: true});
      } else {
        const f = await get(`/v1/grids/${encodeURIComponent(q.code)}`);
        msg.textContent = '';
        view.fitGeometry(f.geometry);
        panels.openGrid(f.properties.code, null);
      }
    } catch (err) {
      msg.textContent = err instanceof APIError && err.status === 404
        ? `No ${q.kind === 'case' ? `case #${q.id}` : `grid “${q.code}”`}.`
        : `Search failed: ${err.message}`;
    }
  }

  const pop = $('#locate-pop');
  const toggleBtn = $('#locate-toggle');
  const toggleLocate = (open) => {
    pop.hidden = !open;
    toggleBtn.setAttribute('aria-expanded', String(open));
    if (open) $('#locate-lng').focus();
    else toggleBtn.focus();
  };
  toggleBtn.addEventListener('click', () => toggleLocate(pop.hidden));
  $('#locate-cancel').addEventListener('click', () => toggleLocate(false));
  pop.addEventListener('submit', (e) => {
    e.preventDefault();
    const lng = cleanCoordinate($('#locate-lng').value);
    const lat = cleanCoordinate($('#locate-lat').value);
    const crs = $('#locate-crs').value;
    const category = $('#locate-category').value.trim();
    pop.hidden = true;
    toggleBtn.setAttribute('aria-expanded', 'false');
    panels.openLocate({lng, lat, crs, category});
  });

  window.addEventListener('keydown', (e) => {
    if (e.key === '/' && !/INPUT|TEXTAREA|SELECT/.test(document.activeElement.tagName)) {
      e.preventDefault();
      input.focus();
      input.select();
    } else if (e.key === 'Escape' && !draw.isActive()) {
      if (!pop.hidden) toggleLocate(false);
      else if (!panel.el.hidden) panel.close();
      else if (sidebar.isOpen()) sidebar.toggle(false);
    }
  });
}
