package grid

import (
	"sort"
	"time"
)

// Transfer is one cell of a re-attribution matrix: how many open cases
// move from one unit (or street) to another.
type Transfer struct {
	From  string `json:"from"`
	To    string `json:"to"`
	Cases int    `json:"cases"`
}

// Load is a unit's or street's open cases before and after a version.
type Load struct {
	Code   string `json:"code"`
	Before int    `json:"before"`
	After  int    `json:"after"`
}

// Reference is a stored reference to a grid code a version retires: a
// key's or a user's scope (and, as features add them, project areas).
type Reference struct {
	Kind string `json:"kind"` // "key", "user", …
	ID   int64  `json:"id,string"`
	Name string `json:"name"`
	Code string `json:"code"`
	// Successor is the code the reference is rewritten to; "" when the
	// retired code has none, which blocks activation.
	Successor string `json:"successor"`
}

// Preview is what activating a version would do to open cases and to
// references, computed at At.
type Preview struct {
	Version   int64     `json:"version,string"`
	Against   int64     `json:"against,string"`
	At        time.Time `json:"at"`
	OpenCases int       `json:"open_cases"`
	// Moved counts the open cases whose grid or unit changes; Moves lists
	// them.
	Moved          int         `json:"moved"`
	UnitMatrix     []Transfer  `json:"unit_matrix"`
	StreetMatrix   []Transfer  `json:"street_matrix"`
	UnitWorkload   []Load      `json:"unit_workload"`
	StreetWorkload []Load      `json:"street_workload"`
	Moves          []Move      `json:"moves"`
	References     []Reference `json:"references"`
	// Blocking are the references to retired codes without a successor:
	// while there are any, the version cannot be activated.
	Blocking []Reference `json:"blocking"`
}

// NewPreview summarises moves over the open cases cs: the old → new
// matrices by unit and by street (changes only), and the workload of every
// unit and street before and after. cur and next give the streets.
func NewPreview(cs []OpenCase, moves []Move, cur, next *Locator) *Preview {
	p := &Preview{OpenCases: len(cs), Moved: len(moves), Moves: moves, UnitMatrix: []Transfer{}, StreetMatrix: []Transfer{},
		References: []Reference{}, Blocking: []Reference{}}
	if p.Moves == nil {
		p.Moves = []Move{}
	}
	units, streets := map[string]*Load{}, map[string]*Load{}
	load := func(m map[string]*Load, code string) *Load {
		if m[code] == nil {
			m[code] = &Load{Code: code}
		}
		return m[code]
	}
	moved := make(map[int64]Move, len(moves))
	for _, mv := range moves {
		moved[mv.ID] = mv
	}
	streetCache := map[string]string{}
	streetOf := func(l *Locator, code string, key string) string {
		if s, ok := streetCache[key+code]; ok {
			return s
		}
		s := ancestorAt(l, code, LevelStreet)
		streetCache[key+code] = s
		return s
	}
	for _, c := range cs {
		from := streetOf(cur, c.Grid, "c")
		load(units, c.Unit).Before++
		load(streets, from).Before++
		mv, ok := moved[c.ID]
		if !ok {
			load(units, c.Unit).After++
			// Kept in its grid: its street is that grid's street under
			// the new version (a grid may change parent).
			if next != nil {
				if _, in := next.Grid(c.Grid); in {
					load(streets, streetOf(next, c.Grid, "n")).After++
					continue
				}
			}
			load(streets, from).After++
			continue
		}
		load(units, mv.ToUnit).After++
		load(streets, mv.ToStreet).After++
	}
	p.UnitMatrix = matrix(moves, func(m Move) (string, string) { return m.FromUnit, m.ToUnit })
	p.StreetMatrix = matrix(moves, func(m Move) (string, string) { return m.FromStreet, m.ToStreet })
	p.UnitWorkload, p.StreetWorkload = loads(units), loads(streets)
	return p
}

func matrix(moves []Move, key func(Move) (string, string)) []Transfer {
	counts := map[[2]string]int{}
	for _, m := range moves {
		f, t := key(m)
		if f != t {
			counts[[2]string{f, t}]++
		}
	}
	out := make([]Transfer, 0, len(counts))
	for k, n := range counts {
		out = append(out, Transfer{From: k[0], To: k[1], Cases: n})
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].From != out[j].From {
			return out[i].From < out[j].From
		}
		return out[i].To < out[j].To
	})
	return out
}

func loads(m map[string]*Load) []Load {
	out := make([]Load, 0, len(m))
	for _, l := range m {
		out = append(out, *l)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Code < out[j].Code })
	return out
}

// Activation is what activating a version did.
type Activation struct {
	Version *Version `json:"version"`
	// Scheduled is set when the version takes effect later; the rest is
	// then empty until it does.
	Scheduled bool `json:"scheduled"`
	// Moved lists the open cases re-attributed.
	Moved []int64 `json:"-"`
	// Reattributed counts them.
	Reattributed int `json:"reattributed"`
	// Rewritten lists the references rewritten to successors.
	Rewritten []Reference `json:"rewritten"`
}
