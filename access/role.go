package access

import (
	"fmt"
	"slices"
	"strings"

	"citygrid/cases"
)

// Role is what an identity is for, after the separation of duties in
// 数字城管 practice: the one who handles a case never verifies or closes it.
type Role string

const (
	// RoleAdmin manages grids, units, categories, the calendar, keys and
	// reads the audit trail; it may do everything else too.
	RoleAdmin Role = "admin"
	// RoleDispatcher (值班长/派遣员) accepts or rejects reports, dispatches,
	// re-assigns, approves or declines extension and pause requests,
	// closes and merges.
	RoleDispatcher Role = "dispatcher"
	// RoleHandler is a responsible unit: it sees the cases assigned to its
	// unit, starts and resolves them, asks for an extension or a pause,
	// and returns a wrongly dispatched case (退单).
	RoleHandler Role = "handler"
	// RoleInspector (监督员/网格员) reports cases and verifies resolved ones
	// or sends them back.
	RoleInspector Role = "inspector"
	// RolePlanner reads statistics, hotspots and the map, never reporters'
	// free text or contact data.
	RolePlanner Role = "planner"
	// RoleViewer reads the map.
	RoleViewer Role = "viewer"
	// RoleIntegration is another system: bulk ingest and single reports of
	// its own source, and reading the cases of that source.
	RoleIntegration Role = "integration"
)

// Roles lists every role.
var Roles = []Role{RoleAdmin, RoleDispatcher, RoleHandler, RoleInspector, RolePlanner, RoleViewer, RoleIntegration}

// ParseRole parses a role name.
func ParseRole(s string) (Role, error) {
	r := Role(s)
	if !slices.Contains(Roles, r) {
		names := make([]string, len(Roles))
		for i, r := range Roles {
			names[i] = string(r)
		}
		return "", fmt.Errorf("unknown role %q (want one of %s)", s, strings.Join(names, ", "))
	}
	return r, nil
}

// Permission is what a route needs, granted per role by the rule table.
type Permission string

const (
	PermGridsRead       Permission = "grids.read"       // grids (in scope; ancestors as outlines), units, locate, statuses, categories, calendar
	PermGridsWrite      Permission = "grids.write"      // grid import, units
	PermCategoriesWrite Permission = "categories.write" // the category table
	PermCalendarWrite   Permission = "calendar.write"   // the working calendar
	PermCasesRead       Permission = "cases.read"       // lists, area queries, CSV, one case, its history, sources
	PermCasesCreate     Permission = "cases.create"     // one report
	PermCasesUpdate     Permission = "cases.update"     // PATCH, each action checked by CaseActions
	PermCasesBulk       Permission = "cases.bulk"       // bulk ingest
	PermStatsRead       Permission = "stats.read"       // indicators
	PermHotspotsRead    Permission = "hotspots.read"    // hotspots and emerging hotspots
	PermMapRead         Permission = "map.read"         // tiles, TileJSON, the tile catalogue, live events
	PermMetricsRead     Permission = "metrics.read"     // Prometheus metrics
	PermKeysManage      Permission = "keys.manage"      // create, list, revoke keys
	PermUsersManage     Permission = "users.manage"     // create, list, change, disable users
	PermAuditRead       Permission = "audit.read"       // the audit trail
	PermSelf            Permission = "self"             // who am I
	// Campaigns and bulletins (issue 18).
	PermCampaignsRead    Permission = "campaigns.read"    // campaigns, their progress, sites and statistics
	PermCampaignsWrite   Permission = "campaigns.write"   // make campaigns, import inspection lists
	PermCampaignsInspect Permission = "campaigns.inspect" // record a site's inspection (a failure reports a case)
	PermBulletinsRead    Permission = "bulletins.read"    // stored bulletins: JSON, CSV, the printable page
	PermBulletinsWrite   Permission = "bulletins.write"   // generate a bulletin now, store a correction
	// Projects and disputed cases (issue 17).
	PermProjectsRead   Permission = "projects.read"   // projects, their progress, history, linked cases, the projects tiles
	PermProjectsWrite  Permission = "projects.write"  // create and change projects
	PermDisputesManage Permission = "disputes.manage" // list disputed cases, settle them, escalate them into projects
)

// grants is the rule table's role half: what each role may do.
var grants = map[Role][]Permission{
	RoleAdmin: {PermGridsRead, PermGridsWrite, PermCategoriesWrite, PermCalendarWrite, PermCasesRead, PermCasesCreate,
		PermCasesUpdate, PermCasesBulk, PermStatsRead, PermHotspotsRead, PermMapRead, PermMetricsRead, PermKeysManage,
		PermUsersManage, PermAuditRead, PermSelf,
		PermCampaignsRead, PermCampaignsWrite, PermCampaignsInspect, PermBulletinsRead, PermBulletinsWrite, // issue 18
		PermProjectsRead, PermProjectsWrite, PermDisputesManage}, // issue 17
	RoleDispatcher:  {PermGridsRead, PermCasesRead, PermCasesCreate, PermCasesUpdate, PermStatsRead, PermHotspotsRead, PermMapRead, PermSelf, PermCampaignsRead, PermCampaignsWrite, PermCampaignsInspect, PermBulletinsRead, PermBulletinsWrite, PermProjectsRead, PermProjectsWrite, PermDisputesManage}, // projects: issue 17
	RoleHandler:     {PermGridsRead, PermCasesRead, PermCasesUpdate, PermStatsRead, PermMapRead, PermSelf, PermCampaignsRead, PermBulletinsRead},
	RoleInspector:   {PermGridsRead, PermCasesRead, PermCasesCreate, PermCasesUpdate, PermStatsRead, PermMapRead, PermSelf, PermCampaignsRead, PermCampaignsInspect, PermBulletinsRead},
	RolePlanner:     {PermGridsRead, PermCasesRead, PermStatsRead, PermHotspotsRead, PermMapRead, PermSelf, PermCampaignsRead, PermBulletinsRead, PermProjectsRead},
	RoleViewer:      {PermGridsRead, PermCasesRead, PermMapRead, PermSelf, PermCampaignsRead, PermBulletinsRead, PermProjectsRead},
	RoleIntegration: {PermGridsRead, PermCasesRead, PermCasesCreate, PermCasesBulk, PermSelf},
}

// Allows reports whether role r holds permission p.
func (r Role) Allows(p Permission) bool { return slices.Contains(grants[r], p) }

// Permissions lists what r may do, in the rule table's order.
func (r Role) Permissions() []Permission { return slices.Clone(grants[r]) }

// SeesFreeText reports whether r may read reporters' free text and
// contact data (a case's title, description and properties).
func (r Role) SeesFreeText() bool { return r != RolePlanner && r != RoleViewer }

// caseActions is what each role may do to a case. Admin may do
// everything.
var caseActions = map[Role][]cases.Action{
	RoleDispatcher: {cases.ActionAccept, cases.ActionReject, cases.ActionDispatch, cases.ActionRework, cases.ActionClose,
		cases.ActionReassign, cases.ActionMerge, cases.ActionExtend, cases.ActionPause, cases.ActionResume,
		cases.ActionApprove, cases.ActionDecline},
	RoleHandler:   {cases.ActionStart, cases.ActionResolve, cases.ActionReturn, cases.ActionRequestExtension, cases.ActionRequestPause},
	RoleInspector: {cases.ActionVerify, cases.ActionSendBack},
}

// MayAct reports whether r may take the case action.
func (r Role) MayAct(a cases.Action) bool {
	return r == RoleAdmin || slices.Contains(caseActions[r], a)
}

// RoleCaseActions lists the case actions r may take, in cases.Actions'
// order.
func RoleCaseActions(r Role) []cases.Action {
	out := []cases.Action{}
	for _, a := range cases.Actions {
		if r.MayAct(a) {
			out = append(out, a)
		}
	}
	return out
}

// reportStatuses are the statuses a role may give a case it reports: a
// report starts the loop, and a dispatcher may file what it takes in at
// once. Admin and integrations (other systems' cases, imported histories)
// may send any status.
var reportStatuses = map[Role][]cases.Status{
	RoleDispatcher: {cases.StatusReported, cases.StatusAccepted},
	RoleInspector:  {cases.StatusReported},
}

// MayReportAs reports whether r may create a case in status st.
func (r Role) MayReportAs(st cases.Status) bool {
	if r == RoleAdmin || r == RoleIntegration {
		return true
	}
	return slices.Contains(reportStatuses[r], st)
}

// ReportStatuses names the statuses r may create cases in, for refusals.
func (r Role) ReportStatuses() []string {
	if r == RoleAdmin || r == RoleIntegration {
		return []string{"any status"}
	}
	var out []string
	for _, st := range reportStatuses[r] {
		out = append(out, string(st))
	}
	return out
}
