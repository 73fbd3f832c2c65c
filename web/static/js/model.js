// How the page shows citygrid's domain: the labels, Chinese names and
// colours of statuses, Gi* classes, emerging-hotspot patterns and grid
// levels. Presentation only: which statuses exist, which are open and where
// a case may move next come from the API (GET /v1/statuses, a case's
// next_statuses), never from here.

/** STATUSES are the looks of the statuses citygrid has; the lifecycle's order comes from GET /v1/statuses. */
export const STATUSES = [
  {id: 'reported', label: 'Reported', zh: '上报', color: '#e8590c'},
  {id: 'accepted', label: 'Accepted', zh: '受理', color: '#f2a100'},
  {id: 'dispatched', label: 'Dispatched', zh: '派遣', color: '#1c7ed6'},
  {id: 'in_progress', label: 'In progress', zh: '处置', color: '#7048e8'},
  {id: 'resolved', label: 'Resolved', zh: '处置完毕', color: '#0ca678'},
  {id: 'verified', label: 'Verified', zh: '核查', color: '#2f9e44'},
  {id: 'closed', label: 'Closed', zh: '结案', color: '#868e96'},
  {id: 'rejected', label: 'Rejected', zh: '不予受理', color: '#b9bec4'},
];

export const STATUS = Object.fromEntries(STATUSES.map((s) => [s.id, s]));

/** statusLook is how status id is shown; a status the page has no look for shows its id in grey. */
export function statusLook(id) {
  return STATUS[id] || {id, label: id, zh: '', color: '#888'};
}

/** actionLabel names the button that moves a case from one status to another. */
export function actionLabel(from, to) {
  if (to === 'dispatched' && (from === 'resolved' || from === 'verified')) return 'Send back for rework';
  return {
    accepted: 'Accept', rejected: 'Reject', dispatched: 'Dispatch', in_progress: 'Start handling',
    resolved: 'Mark resolved', verified: 'Verify', closed: 'Close case',
  }[to] || to;
}

/**
 * ACTIONS are the looks of the case actions (the API's names): a button's
 * words, and quiet for the ones that step back or say no.
 */
export const ACTIONS = {
  accept: {label: 'Accept', zh: '立案'},
  reject: {label: 'Reject', zh: '不予立案', quiet: true},
  dispatch: {label: 'Dispatch', zh: '派遣'},
  start: {label: 'Start handling', zh: '处置'},
  resolve: {label: 'Mark resolved', zh: '处置反馈'},
  verify: {label: 'Verify', zh: '核查'},
  send_back: {label: 'Send back for rework', zh: '返工', quiet: true},
  rework: {label: 'Rework: problem is back', zh: '返工', quiet: true},
  close: {label: 'Close case', zh: '结案'},
  return: {label: 'Return to dispatch', zh: '退单', quiet: true},
  request_extension: {label: 'Ask for more days', zh: '延期申请', quiet: true},
  request_pause: {label: 'Ask to park', zh: '挂账申请', quiet: true},
  extend: {label: 'Extend deadline', zh: '延期', quiet: true},
  pause: {label: 'Park', zh: '挂账', quiet: true},
  resume: {label: 'Resume', zh: '恢复'},
  approve: {label: 'Approve request', zh: '批准'},
  decline: {label: 'Decline request', zh: '驳回', quiet: true},
};

/** actionLook is how action is shown; an action the page has no look for shows its name. */
export function actionLook(action) {
  return ACTIONS[action] || {label: action.replace(/_/g, ' '), zh: ''};
}

/** OVERDUE is the colour of lateness everywhere on the page. */
export const OVERDUE = '#b3171b';

export const GI_CLASSES = [
  {id: 'hot_99', label: 'Hot spot, 99% confidence', color: '#b2182b'},
  {id: 'hot_95', label: 'Hot spot, 95%', color: '#e34a33'},
  {id: 'hot_90', label: 'Hot spot, 90%', color: '#fc9f67'},
  {id: 'none', label: 'Not significant', color: 'rgba(0,0,0,0)'},
  {id: 'cold_90', label: 'Cold spot, 90%', color: '#9ecae1'},
  {id: 'cold_95', label: 'Cold spot, 95%', color: '#4a90c8'},
  {id: 'cold_99', label: 'Cold spot, 99%', color: '#1f5a9a'},
];

export const PATTERNS = [
  {id: 'new_hot', label: 'New hot spot', color: '#fdd0a2'},
  {id: 'consecutive_hot', label: 'Consecutive hot spot', color: '#fdae6b'},
  {id: 'intensifying_hot', label: 'Intensifying hot spot', color: '#a50f15'},
  {id: 'persistent_hot', label: 'Persistent hot spot', color: '#de2d26'},
  {id: 'diminishing_hot', label: 'Diminishing hot spot', color: '#fb6a4a'},
  {id: 'sporadic_hot', label: 'Sporadic hot spot', color: '#f768a1'},
  {id: 'oscillating_hot', label: 'Oscillating hot spot', color: '#c51b8a'},
  {id: 'historical_hot', label: 'Historical hot spot', color: '#bcbddc'},
  {id: 'new_cold', label: 'New cold spot', color: '#c6dbef'},
  {id: 'consecutive_cold', label: 'Consecutive cold spot', color: '#9ecae1'},
  {id: 'intensifying_cold', label: 'Intensifying cold spot', color: '#08519c'},
  {id: 'persistent_cold', label: 'Persistent cold spot', color: '#3182bd'},
  {id: 'diminishing_cold', label: 'Diminishing cold spot', color: '#6baed6'},
  {id: 'sporadic_cold', label: 'Sporadic cold spot', color: '#74c476'},
  {id: 'oscillating_cold', label: 'Oscillating cold spot', color: '#31a354'},
  {id: 'historical_cold', label: 'Historical cold spot', color: '#d9d9d9'},
];

/** LEVELS names the grid levels, from the district down to the unit grid. */
export const LEVELS = {district: 'District 区', street: 'Street 街道', community: 'Community 社区', grid: 'Unit grid 网格'};

/** LEVEL_ORDER lists the grid levels from the largest to the smallest. */
export const LEVEL_ORDER = Object.keys(LEVELS);
