// The sidebar's filters: status chips and quick choices, the reported-time
// range, the category tree, source and unit. They edit state.filters and
// call onChange; which statuses exist and which are open come from the
// lifecycle (GET /v1/statuses), the sources from GET /v1/sources.

import {h, fill, $, fmtDate} from './dom.js';
import {statusLook} from './model.js';
import {DAY, SLIDER_MIN, toggleStatus, statusPreset, sliderRange, presetRange, categoryTree} from './params.js';

const UNIT_KINDS = {bureau: 'Bureaus', law_enforcement: 'Law enforcement', street_office: 'Street offices', law_enforcement_squad: 'Enforcement squads', community_committee: 'Community committees'};

export class FilterControls {
  /**
   * state is the page state, whose filters these controls edit (the object
   * may be replaced: reset, a switch of view); lifecycle is parseStatuses';
   * onChange() hears every change; onReset() asks for the view's defaults.
   */
  constructor({state, lifecycle, onChange, onReset}) {
    this.state = state;
    this.lifecycle = lifecycle;
    this.onChange = onChange;
    this.categories = [];
    this.units = [];
    for (const b of document.querySelectorAll('.quick [data-statuses]')) {
      b.addEventListener('click', () => this.set({statuses: statusPreset(b.dataset.statuses, lifecycle)}, () => this.renderStatusChips()));
    }
    $('#filters-reset').addEventListener('click', onReset);
    this.setupTimeRange();
    const source = $('#filter-source');
    source.addEventListener('change', () => this.set({source: source.value}));
    const unit = $('#filter-unit');
    unit.addEventListener('change', () => this.set({unit: unit.value}));
  }

  get filters() {
    return this.state.filters;
  }

  /** set changes some filters, redraws with render (if given) and tells onChange. */
  set(change, render) {
    Object.assign(this.state.filters, change);
    if (render) render();
    this.onChange();
  }

  /** render redraws every control from state.filters. */
  render() {
    $('#filter-source').value = this.filters.source;
    $('#filter-unit').value = this.filters.unit;
    this.renderStatusChips();
    this.renderTimeRange();
    this.renderCategoryTree();
  }

  renderStatusChips() {
    const chosen = this.filters.statuses;
    fill($('#status-chips'), this.lifecycle.all.map((id) => {
      const s = statusLook(id);
      return h('button.chip', {
        type: 'button', 'aria-pressed': String(chosen.has(id)), dataset: {status: id}, style: {'--c': s.color}, title: s.zh,
        onclick: () => this.set({statuses: toggleStatus(this.filters.statuses, id, this.lifecycle.all)}, () => this.renderStatusChips()),
      }, h('span.dot', {'aria-hidden': 'true'}), s.label);
    }));
  }

  setupTimeRange() {
    const from = $('#time-from');
    const to = $('#time-to');
    const onInput = (moved) => () => {
      // The map follows while dragging (onChange is debounced).
      this.set(sliderRange(Number(from.value), Number(to.value), moved), () => this.renderTimeRange());
    };
    from.addEventListener('input', onInput('from'));
    to.addEventListener('input', onInput('to'));
    for (const btn of document.querySelectorAll('#time-presets button')) {
      btn.addEventListener('click', () => this.set(presetRange(btn.dataset.days), () => this.renderTimeRange()));
    }
  }

  renderTimeRange() {
    const f = this.filters;
    const from = $('#time-from');
    const to = $('#time-to');
    from.value = f.fromDays;
    to.value = f.toDays;
    const span = -SLIDER_MIN;
    const bar = $('#time-fill');
    bar.style.left = `${((f.fromDays - SLIDER_MIN) / span) * 100}%`;
    bar.style.right = `${(-f.toDays / span) * 100}%`;
    const now = Date.now();
    const a = f.fromDays > SLIDER_MIN ? fmtDate(new Date(now + f.fromDays * DAY)) : 'Any time';
    const b = f.toDays < 0 ? fmtDate(new Date(now + f.toDays * DAY)) : 'now';
    $('#time-label').textContent = f.fromDays <= SLIDER_MIN && f.toDays >= 0 ? 'Any time' : `${a} – ${b}`;
    from.setAttribute('aria-valuetext', a);
    to.setAttribute('aria-valuetext', b);
    for (const btn of document.querySelectorAll('#time-presets button')) {
      const d = btn.dataset.days;
      btn.setAttribute('aria-pressed', String(f.toDays === 0 && (d === 'all' ? f.fromDays <= SLIDER_MIN : f.fromDays === -Number(d))));
    }
  }

  /** setCategories shows the category table (GET /v1/categories) as a tree. */
  setCategories(categories) {
    this.categories = categories;
    this.renderCategoryTree();
  }

  /** renderCategoryTree draws the categories as a tree; choosing a node filters by its code as a prefix. */
  renderCategoryTree() {
    const {roots, children, codes} = categoryTree(this.categories);
    const chosen = this.filters.category;
    const open = new Set(chosen ? [...codes].filter((c) => chosen.startsWith(c)) : []);
    const choose = (code) => this.set({category: code}, () => this.renderCategoryTree());
    const node = (c) => {
      const kids = children[c.code] || [];
      const expanded = open.has(c.code);
      return h('li', {role: 'none'},
        h('div.tree-row',
          kids.length
            ? h('button.tree-toggle', {type: 'button', 'aria-expanded': String(expanded), 'aria-label': `${expanded ? 'Collapse' : 'Expand'} ${c.name_en}`,
              onclick: () => { if (open.has(c.code)) open.delete(c.code); else open.add(c.code); redraw(); }}, '▸')
            : h('span.tree-spacer', {'aria-hidden': 'true'}),
          h('button.tree-item', {type: 'button', 'aria-pressed': String(chosen === c.code), dataset: {code: c.code}, title: c.name_en,
            onclick: () => choose(chosen === c.code ? '' : c.code)},
          h('span.code', c.code), ' ', c.name_zh, ' ', h('span.muted', c.name_en))),
        kids.length && expanded ? h('ul', {role: 'group'}, kids.map(node)) : null);
    };
    const tree = $('#category-tree');
    const redraw = () => fill(tree,
      h('button.tree-item.tree-all', {type: 'button', 'aria-pressed': String(!chosen), onclick: () => choose('')}, 'All categories'),
      h('ul.tree-list', roots.map(node)));
    redraw();
  }

  /** setUnits lists the units (GET /v1/units), grouped by kind. */
  setUnits(units) {
    const kinds = {};
    for (const u of units) (kinds[u.kind] ||= []).push(u);
    const unit = $('#filter-unit');
    fill(unit, h('option', {value: ''}, 'All units'),
      Object.entries(kinds).map(([k, us]) => h('optgroup', {label: UNIT_KINDS[k] || k}, us.map((u) => h('option', {value: u.code}, u.name)))));
    unit.value = this.filters.unit;
  }

  /** setSources lists the sources present in the data (GET /v1/sources), most cases first. */
  setSources(sources) {
    const source = $('#filter-source');
    fill(source, h('option', {value: ''}, 'All sources'), sources.map((s) => h('option', {value: s.source}, s.source)));
    source.value = this.filters.source;
  }
}
