package grid

import (
	"context"
	"sort"
	"time"

	"github.com/paulmach/orb"
)

// Version statuses: a draft is reviewed, then scheduled (activated for a
// later time) or put in force at once; a version in force is superseded by
// the next one.
const (
	VersionDraft      = "draft"
	VersionScheduled  = "scheduled"
	VersionActive     = "active"
	VersionSuperseded = "superseded"
)

// Version is one reviewed batch of grids: a draft (its whole map), or an
// import (the grids it changed), with when it takes or took effect.
type Version struct {
	ID     int64  `json:"id,string"`
	Kind   string `json:"kind"` // initial, import or draft
	Status string `json:"status"`
	Note   string `json:"note"`
	// Features is how many features the draft had.
	Features int `json:"features"`
	// Rejected lists the draft's features that failed the import checks;
	// a draft with any cannot be activated.
	Rejected []Rejection `json:"rejected"`
	// Successors are the successor codes the draft named for codes it
	// retires (others take the grid covering most of them; see Diff).
	Successors  map[string]string `json:"successors"`
	CreatedAt   time.Time         `json:"created_at"`
	CreatedBy   string            `json:"created_by"`
	EffectiveAt *time.Time        `json:"effective_at"`
	ActivatedAt *time.Time        `json:"activated_at"`
	ActivatedBy string            `json:"activated_by"`
}

// DraftInput is a draft as submitted: its grids, the successors it names
// for codes it retires, and a note (a document reference, say).
type DraftInput struct {
	Grids      []GridInput
	Successors map[string]string
	Note       string
}

// Reshape is a grid kept under its code whose boundary changed.
type Reshape struct {
	Code     string  `json:"code"`
	Level    Level   `json:"level"`
	GainedM2 float64 `json:"gained_m2"`
	LostM2   float64 `json:"lost_m2"`
}

// Rename is a grid kept under its code whose name changed.
type Rename struct {
	Code string `json:"code"`
	From string `json:"from"`
	To   string `json:"to"`
}

// Recode is a grid whose boundary stays (within the diff's tolerance) under
// a new code.
type Recode struct {
	From  string `json:"from"`
	To    string `json:"to"`
	Level Level  `json:"level"`
}

// Lineage is the overlap of an old grid with a new one of the same level,
// for the old grids that change or retire and the new grids that change
// or arrive.
type Lineage struct {
	Old        string  `json:"old"`
	New        string  `json:"new"`
	Level      Level   `json:"level"`
	OverlapM2  float64 `json:"overlap_m2"`
	ShareOfOld float64 `json:"share_of_old"`
	ShareOfNew float64 `json:"share_of_new"`
}

// Merge is a new grid made of several old ones; Split an old grid shared
// out among several new ones.
type Merge struct {
	Into string   `json:"into"`
	From []string `json:"from"`
}

// Split is an old grid divided among new ones.
type Split struct {
	From string   `json:"from"`
	Into []string `json:"into"`
}

// GridRef names a grid in a diff.
type GridRef struct {
	Code  string `json:"code"`
	Name  string `json:"name"`
	Level Level  `json:"level"`
}

// Diff compares a draft with the version in force.
type Diff struct {
	Against  int64     `json:"against,string"` // the version in force
	Added    []GridRef `json:"added"`
	Removed  []GridRef `json:"removed"`
	Reshaped []Reshape `json:"reshaped"`
	Renamed  []Rename  `json:"renamed"`
	Recoded  []Recode  `json:"recoded"`
	// Reassigned lists codes kept whose parent or units changed.
	Reassigned []string  `json:"reassigned"`
	Merges     []Merge   `json:"merges"`
	Splits     []Split   `json:"splits"`
	Lineage    []Lineage `json:"lineage"`
	// Successors maps every retired code to the code that takes over its
	// references: the draft's own choice, else the new grid of its level
	// covering most of it; "" when nothing does.
	Successors map[string]string `json:"successors"`
	Unchanged  int               `json:"unchanged"`
}

// Diff tolerances: a boundary that moved by less than ReshapeMinM2 in all
// is the same boundary (conversions between systems move vertices by
// millimetres); an overlap under LineageMinShare of both grids is a sliver
// along a shared edge, not lineage.
const (
	ReshapeMinM2    = 1.0
	LineageMinShare = 0.01
	// RecodeMinShare is how much two grids must share, each of its own
	// area, to be one grid under two codes.
	RecodeMinShare = 0.99
	// MergeMinShare: old grids merge into a new one when most of each
	// (this share of its area) goes into it; an old grid splits when most
	// of each of several new grids comes from it. A boundary shifted
	// between neighbours is neither.
	MergeMinShare = 0.5
)

// Classify derives merges, splits, recodes and successors from the
// lineage rows, given the codes the draft retires and adds and the
// successors it names.
func (d *Diff) Classify(explicit map[string]string) {
	removed := map[string]bool{}
	for _, g := range d.Removed {
		removed[g.Code] = true
	}
	added := map[string]bool{}
	for _, g := range d.Added {
		added[g.Code] = true
	}
	into := map[string][]string{} // new → the old codes mostly in it
	from := map[string][]string{} // old → the new codes mostly of it
	best := map[string]Lineage{}  // old → the new grid covering most of it
	for _, l := range d.Lineage {
		if l.ShareOfOld >= MergeMinShare {
			into[l.New] = append(into[l.New], l.Old)
		}
		if l.ShareOfNew >= MergeMinShare {
			from[l.Old] = append(from[l.Old], l.New)
		}
		if b, ok := best[l.Old]; !ok || l.OverlapM2 > b.OverlapM2 || l.OverlapM2 == b.OverlapM2 && l.New < b.New {
			best[l.Old] = l
		}
		if removed[l.Old] && added[l.New] && l.ShareOfOld >= RecodeMinShare && l.ShareOfNew >= RecodeMinShare {
			d.Recoded = append(d.Recoded, Recode{From: l.Old, To: l.New, Level: l.Level})
		}
	}
	for n, olds := range into {
		if len(olds) > 1 {
			sort.Strings(olds)
			d.Merges = append(d.Merges, Merge{Into: n, From: olds})
		}
	}
	for o, news := range from {
		if len(news) > 1 {
			sort.Strings(news)
			d.Splits = append(d.Splits, Split{From: o, Into: news})
		}
	}
	sort.Slice(d.Merges, func(i, j int) bool { return d.Merges[i].Into < d.Merges[j].Into })
	sort.Slice(d.Splits, func(i, j int) bool { return d.Splits[i].From < d.Splits[j].From })
	sort.Slice(d.Recoded, func(i, j int) bool { return d.Recoded[i].From < d.Recoded[j].From })
	d.Successors = map[string]string{}
	for code := range removed {
		switch {
		case explicit[code] != "":
			d.Successors[code] = explicit[code]
		case best[code].New != "" && best[code].ShareOfOld >= LineageMinShare:
			d.Successors[code] = best[code].New
		default:
			d.Successors[code] = ""
		}
	}
}

// OpenCase is an open case as re-attribution sees it.
type OpenCase struct {
	ID       int64
	Point    orb.Point
	Category string
	Grid     string
	Unit     string
	// ManualUnit is set when a dispatcher named the unit: re-attribution
	// moves the case's grid but leaves such a unit alone.
	ManualUnit bool
}

// Move is an open case whose grid or unit a version changes.
type Move struct {
	ID         int64  `json:"id,string"`
	FromGrid   string `json:"from_grid"`
	ToGrid     string `json:"to_grid"`
	FromUnit   string `json:"from_unit"`
	ToUnit     string `json:"to_unit"`
	ToRule     string `json:"to_rule"`
	FromStreet string `json:"from_street"`
	ToStreet   string `json:"to_street"`
}

// Reattribute locates every open case under next, the map a version puts
// in force, and returns the cases whose grid or unit changes, in the order
// given. cur names the street a case's present grid lies in. A case next
// places outside every grid keeps its grid and unit: nobody would own it.
func Reattribute(cs []OpenCase, cur, next *Locator) ([]Move, error) {
	var out []Move
	for _, c := range cs {
		a, err := next.Assign(c.Point, c.Category)
		if err != nil {
			return nil, err
		}
		if a.Grid == nil {
			continue
		}
		m := Move{ID: c.ID, FromGrid: c.Grid, ToGrid: a.Grid.Code, FromUnit: c.Unit, ToUnit: c.Unit, ToRule: ""}
		if !c.ManualUnit && a.Owner != nil {
			m.ToUnit, m.ToRule = a.Owner.Unit.Code, a.Owner.Rule
		}
		if m.FromGrid == m.ToGrid && m.FromUnit == m.ToUnit {
			continue
		}
		m.FromStreet = ancestorAt(cur, c.Grid, LevelStreet)
		m.ToStreet = ancestorAt(next, a.Grid.Code, LevelStreet)
		out = append(out, m)
	}
	return out, nil
}

// ancestorAt is the code of the grid of level at on code's path, or "".
func ancestorAt(l *Locator, code string, at Level) string {
	if l == nil {
		return ""
	}
	for _, g := range l.Path(code) {
		if g.Level == at {
			return g.Code
		}
	}
	return ""
}

// VersionStore keeps grid versions.
type VersionStore interface {
	// CreateDraft checks and stores a draft; a draft with rejected
	// features is stored too, and cannot be activated.
	CreateDraft(ctx context.Context, in DraftInput) (*Version, error)
	// FindVersion returns a version, or CodeNotFound.
	FindVersion(ctx context.Context, id int64) (*Version, error)
	// FindVersions lists versions, newest first.
	FindVersions(ctx context.Context) ([]*Version, error)
	// VersionGrids returns a draft's grids.
	VersionGrids(ctx context.Context, id int64) ([]*Grid, error)
	// VersionTopology is the overlap and gap report of a draft's grids.
	VersionTopology(ctx context.Context, id int64) (*Topology, error)
	// VersionDiff compares a draft with the grids in force.
	VersionDiff(ctx context.Context, id int64) (*Diff, error)
	// GridsAt returns the grids in force at t and the version then in
	// force (0 when none was).
	GridsAt(ctx context.Context, t time.Time) ([]*Grid, int64, error)
	// Epoch returns the period around t during which the grids in force
	// do not change, [from, to) (to zero: open).
	Epoch(ctx context.Context, t time.Time) (from, to time.Time, err error)
	// Preview reports what activating draft id would do now.
	Preview(ctx context.Context, id int64, now time.Time) (*Preview, error)
	// Activate puts draft id in force at effective (zero: now; later:
	// scheduled); earlier than now is CodeUnprocessable.
	Activate(ctx context.Context, id int64, effective, now time.Time) (*Activation, error)
	// Scheduled returns the version waiting for its time and its
	// locator, or nils.
	Scheduled(ctx context.Context) (*Version, *Locator, error)
}
