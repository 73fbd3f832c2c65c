// Live updates from GET /v1/events, opened with the session cookie or, for
// a key, with a stream ticket: a "case"
// event names the tiles the change made stale (the server computes them
// as its own tile cache does); the map reloads those it is showing, the
// activity list gains a row, the open panel follows. A "bulk" event, or a
// reconnect after missed events, refreshes everything.

import {request, bySession} from './api.js';
import {readTicket, streamURL, streamSource, backoff} from './auth.js';
import {$, debounce} from './dom.js';
import {inArea} from './geometry.js';
import {levelsAt} from './rules.js';
import {viewWindows, staleTiles} from './stale.js';
import {toast} from './toast.js';

/** SOURCES are the page's tile sources that live changes can make stale. */
const SOURCES = ['grids', 'cases', 'hotspots'];

/** LIST_MAX is how many rows the activity list keeps. */
const LIST_MAX = 12;

/** HOTSPOT_DELAY_MS batches hotspot refreshes: Gi* of every cell depends on every count, so each change touches all. */
const HOTSPOT_DELAY_MS = 2000;

export class Live {
  /**
   * map is the MapLibre map; tiles {levelsByZoom, minZoom, maxZoom} come
   * from the catalogue and TileJSON; state is the page state (layers,
   * area); panel the Panel; panels the Panels (liveRow); view the MapView
   * (pulse); onResync() refreshes what is not tiles (analysis, lists) after
   * a bulk change or a reconnect; rerunArea() refreshes an open area list;
   * metrics gains liveMs and liveEvents.
   */
  constructor({map, tiles, state, panel, panels, view, onResync, rerunArea, metrics}) {
    Object.assign(this, {map, tiles, state, panel, panels, view, onResync, rerunArea, metrics});
    this.pending = [];
    this.hotspotTimer = null;
    this.hotspotStale = []; // 'all' or tiles, waiting for hotspotTimer
    this.flush = debounce(() => this.apply(this.pending.splice(0)), 250);
  }

  /**
   * connect opens the event stream. EventSource cannot send the key, so
   * each connection asks for a single-use ticket first (POST
   * /v1/events/ticket) and opens /v1/events with it; on an error the
   * stream is closed (its own retry would spend the ticket again) and
   * opened afresh with a new ticket, after a backoff.
   */
  connect() {
    this.closed = false;
    this.attempt = 0;
    this.connectedBefore = false;
    this.open();
  }

  /** close stops the stream for good (signed out). */
  close() {
    this.closed = true;
    clearTimeout(this.retryTimer);
    if (this.es) this.es.close();
    this.es = null;
    this.status('off', 'Signed out');
  }

  status(state, words) {
    $('#live').dataset.state = state;
    $('#live-text').textContent = words;
  }

  async open() {
    const how = streamSource(bySession());
    let url = how.url;
    if (how.ticket) {
      try {
        url = streamURL(readTicket((await request('/v1/events/ticket', {method: 'POST'})).body));
      } catch (err) {
        if (err.status === 401) return this.close(); // the sign-in form is up
        this.retry();
        return;
      }
    }
    if (this.closed) return;
    const es = new EventSource(url);
    this.es = es;
    es.addEventListener('hello', () => {
      this.attempt = 0;
      this.status('live', 'Live');
      if (!this.metrics.liveMs) this.metrics.liveMs = Math.round(performance.now());
      if (this.connectedBefore) this.refreshAll(); // events may have been missed while away
      this.connectedBefore = true;
    });
    es.addEventListener('case', (m) => this.onCase(JSON.parse(m.data)));
    es.addEventListener('bulk', () => {
      toast('Many cases were imported; the map is refreshing.', 'info');
      this.refreshAll();
    });
    // The server ends a stream whose key was revoked or expired: a new
    // ticket is asked for, which a dead key does not get (the sign-in form
    // comes back), and a live one does. A session's stream ends when its
    // user is disabled or changed, and EventSource hides the status of a
    // refused reconnect: the page asks GET /v1/me at once, whose 401 brings
    // the form back, before it waits to reconnect.
    for (const name of ['error', 'end']) {
      es.addEventListener(name, () => {
        es.close();
        if (this.es !== es) return;
        if (bySession()) this.checkSession();
        else this.retry();
      });
    }
  }

  async checkSession() {
    this.es = null;
    try {
      await request('/v1/me');
    } catch (err) {
      if (err.status === 401) return this.close(); // the sign-in form is up
    }
    this.retry();
  }

  retry() {
    if (this.closed) return;
    this.es = null;
    this.status('down', 'Reconnecting…');
    clearTimeout(this.retryTimer);
    this.retryTimer = setTimeout(() => this.open(), backoff(this.attempt++, Math.random()));
  }

  onCase(ev) {
    this.pending.push(ev);
    this.flush();
    // A case that left this key's scope: its old tiles refresh (above),
    // and nothing says where it went.
    if (ev.gone) return;
    const list = $('#live-list');
    const empty = list.querySelector('.empty');
    if (empty) empty.remove();
    list.prepend(this.panels.liveRow(ev));
    while (list.children.length > LIST_MAX) list.lastChild.remove();
    this.view.pulse(ev.location);
    this.metrics.liveEvents = (this.metrics.liveEvents || 0) + 1;
  }

  /** apply refreshes what a batch of case events made stale. */
  apply(events) {
    if (!events.length) return;
    const {map, tiles} = this;
    const b = map.getBounds();
    const windows = viewWindows([b.getWest(), b.getSouth(), b.getEast(), b.getNorth()], map.getZoom(), tiles);
    const stale = staleTiles(events.map((e) => e.tiles), windows, {
      sources: SOURCES,
      levelsAt: (z) => levelsAt(tiles.levelsByZoom, z),
    });
    this.refresh('grids', stale.grids);
    this.refresh('cases', stale.cases);
    if (this.state.layers.hotspots && (stale.hotspots === 'all' || stale.hotspots.length)) {
      const before = this.hotspotStale;
      this.hotspotStale = before === 'all' || stale.hotspots === 'all' ? 'all' : [...before, ...stale.hotspots];
      clearTimeout(this.hotspotTimer);
      this.hotspotTimer = setTimeout(() => {
        this.refresh('hotspots', this.hotspotStale);
        this.hotspotStale = [];
      }, HOTSPOT_DELAY_MS);
    }
    const cur = this.panel.current;
    if (cur && cur.kind === 'case' && events.some((e) => e.id === cur.key) && !this.panel.busy()) this.panel.reopen('case');
    const area = this.state.area;
    if (cur && cur.kind === 'area' && area && events.some((e) => e.gone || inArea(e.location, area))) this.rerunArea();
  }

  /** refresh reloads a source's tiles: 'all', or those listed ({z, x, y}). */
  refresh(source, which) {
    if (which === 'all') this.map.refreshTiles(source);
    else if (which.length) this.map.refreshTiles(source, which);
  }

  refreshAll() {
    for (const s of SOURCES) this.map.refreshTiles(s);
    this.onResync();
  }
}
