package cases

import (
	"fmt"
	"sort"
	"strings"
	"time"

	"citygrid"
)

// Units of a handling time limit.
const (
	WorkingHours = "working_hours"
	WorkingDays  = "working_days"
)

// TimeLimit is a handling time limit counted on the working calendar.
type TimeLimit struct {
	Value int    `json:"value"`
	Unit  string `json:"unit"` // WorkingHours or WorkingDays
}

// Duration is the working time the limit allows: a working day is the
// calendar's working hours of one day.
func (l TimeLimit) Duration(c *Calendar) time.Duration {
	if l.Unit == WorkingDays {
		return time.Duration(l.Value) * c.WorkdayLength()
	}
	return time.Duration(l.Value) * time.Hour
}

// Category is one entry of the case classification. Codes are hierarchical
// (see ParentCode): E0101 lies under E01, which lies under E.
type Category struct {
	Code string `json:"code"`
	// Parent is ParentCode(Code), filled in by NewCategories; empty at the
	// top level. A client may send it back, but only with that value.
	Parent    string    `json:"parent,omitempty"`
	NameZH    string    `json:"name_zh"`
	NameEN    string    `json:"name_en"`
	TimeLimit TimeLimit `json:"time_limit"`

	// Open311 (issue 15, migration 014): Open311 false keeps a leaf out of
	// the Open311 service list (nil: offered); Public lets anonymous Open311
	// readers see its cases; Attributes are the extra fields its reports
	// ask for (category_open311.go).
	Open311    *bool       `json:"open311,omitempty"`
	Public     bool        `json:"public,omitempty"`
	Attributes []Attribute `json:"attributes,omitempty"`
}

// ParentCode returns the code of the category above code: code without its
// last level, a level being two digits (E0101 → E01 → E, 0101 → 01). A code
// that does not end in two digits after some other character is at the top
// level, and its parent is "".
func ParentCode(code string) string {
	n := len(code)
	if n <= 2 || !isDigit(code[n-1]) || !isDigit(code[n-2]) {
		return ""
	}
	return code[:n-2]
}

func isDigit(b byte) bool { return b >= '0' && b <= '9' }

// Categories is a validated classification, looked up by code.
type Categories struct {
	list   []Category
	byCode map[string]int
}

// NewCategories validates list: codes unique, 1 to 32 characters of ASCII
// letters and digits, names present, limits positive, a parent given only
// as ParentCode. It does not require the hierarchy to be whole (see
// CheckHierarchy): a table stored before that rule must still load.
func NewCategories(list []Category) (*Categories, error) {
	if len(list) == 0 {
		return nil, fmt.Errorf("categories: the table is empty")
	}
	if len(list) > 10000 {
		return nil, fmt.Errorf("categories: at most 10000 entries")
	}
	cs := &Categories{list: append([]Category(nil), list...), byCode: map[string]int{}}
	sort.Slice(cs.list, func(i, j int) bool { return cs.list[i].Code < cs.list[j].Code })
	for i, c := range cs.list {
		if err := validCategoryCode(c.Code); err != nil {
			return nil, fmt.Errorf("categories: %w", err)
		}
		if _, dup := cs.byCode[c.Code]; dup {
			return nil, fmt.Errorf("categories: duplicate code %q", c.Code)
		}
		if parent := ParentCode(c.Code); c.Parent != "" && c.Parent != parent {
			return nil, fmt.Errorf("categories: %q parent %q: its parent is %s (a level is two digits)", c.Code, c.Parent, describeParent(parent))
		}
		cs.list[i].Parent = ParentCode(c.Code)
		if strings.TrimSpace(c.NameZH) == "" && strings.TrimSpace(c.NameEN) == "" {
			return nil, fmt.Errorf("categories: %q has no name", c.Code)
		}
		if c.TimeLimit.Unit != WorkingHours && c.TimeLimit.Unit != WorkingDays {
			return nil, fmt.Errorf("categories: %q time_limit.unit %q: want %s or %s", c.Code, c.TimeLimit.Unit, WorkingHours, WorkingDays)
		}
		if c.TimeLimit.Value <= 0 || c.TimeLimit.Value > 10000 {
			return nil, fmt.Errorf("categories: %q time_limit.value %d: want 1 to 10000", c.Code, c.TimeLimit.Value)
		}
		if err := c.checkOpen311(); err != nil {
			return nil, err
		}
		if c.Open311 != nil && *c.Open311 {
			cs.list[i].Open311 = nil // the default, stored and shown as absent
		}
		cs.byCode[c.Code] = i
	}
	return cs, nil
}

func describeParent(parent string) string {
	if parent == "" {
		return "none: it is at the top level"
	}
	return fmt.Sprintf("%q", parent)
}

// CheckHierarchy reports the first code whose place in the tree is broken:
// its parent is missing, or another code that is not its ancestor is a
// prefix of it. Category filters and units_by_category match codes by
// prefix, so a prefix must be a branch of the tree, and a table that loses
// a parent leaves its children in no branch. Tables being stored must pass.
func (cs *Categories) CheckHierarchy() error {
	if p := cs.hierarchyProblems(); len(p) > 0 {
		return fmt.Errorf("categories: %s", p[0])
	}
	return nil
}

// hierarchyProblems describes every code misplaced in the tree, in code
// order.
func (cs *Categories) hierarchyProblems() []string {
	var out []string
	for _, c := range cs.list {
		parent := ParentCode(c.Code)
		if parent != "" {
			if _, ok := cs.byCode[parent]; !ok {
				out = append(out, fmt.Sprintf("%q has no parent: add %q first (a level is two digits)", c.Code, parent))
				continue
			}
		}
		// The longest other code that is a prefix must be the parent.
		for n := len(c.Code) - 1; n > len(parent); n-- {
			if _, ok := cs.byCode[c.Code[:n]]; ok {
				out = append(out, fmt.Sprintf("%q starts with the code %q but does not lie under it (its parent is %s; a level is two digits)", c.Code, c.Code[:n], describeParent(parent)))
				break
			}
		}
	}
	return out
}

// With returns the table with c added, or replacing the entry of its code,
// and whether it was added. c must be valid on its own (CodeInvalid) and
// fit the tree: its parent present, no stray prefixes either way
// (CodeUnprocessable). Problems the table had before are not c's to fix.
func (cs *Categories) With(c Category) (*Categories, bool, error) {
	list := append([]Category(nil), cs.list...)
	_, replaced := cs.byCode[c.Code]
	if replaced {
		list[cs.byCode[c.Code]] = c
	} else {
		list = append(list, c)
	}
	next, err := NewCategories(list)
	if err != nil {
		return nil, false, citygrid.Errorf(citygrid.CodeInvalid, "%v", err)
	}
	before := map[string]bool{}
	for _, p := range cs.hierarchyProblems() {
		before[p] = true
	}
	for _, p := range next.hierarchyProblems() {
		if !before[p] {
			return nil, false, citygrid.Errorf(citygrid.CodeUnprocessable, "categories: %s", p)
		}
	}
	return next, !replaced, nil
}

// Codes returns every code of the table, in order.
func (cs *Categories) Codes() []string {
	out := make([]string, len(cs.list))
	for i, c := range cs.list {
		out[i] = c.Code
	}
	return out
}

func validCategoryCode(code string) error {
	if code == "" || len(code) > 32 {
		return fmt.Errorf("category code %q: want 1 to 32 characters", code)
	}
	for _, r := range code {
		if !(r >= '0' && r <= '9' || r >= 'A' && r <= 'Z' || r >= 'a' && r <= 'z') {
			return fmt.Errorf("category code %q: only letters and digits", code)
		}
	}
	return nil
}

// List returns the categories ordered by code.
func (cs *Categories) List() []Category { return cs.list }

// Find returns the category with exactly this code.
func (cs *Categories) Find(code string) (Category, bool) {
	i, ok := cs.byCode[code]
	if !ok {
		return Category{}, false
	}
	return cs.list[i], true
}

// HasPrefix reports whether any category code starts with prefix: the test
// for a category filter that is a whole branch of the tree.
func (cs *Categories) HasPrefix(prefix string) bool {
	i := sort.Search(len(cs.list), func(i int) bool { return cs.list[i].Code >= prefix })
	return i < len(cs.list) && strings.HasPrefix(cs.list[i].Code, prefix)
}

// DefaultCategories is modelled on the national standard for digital urban
// management (GB/T 30428.2, components 部件 and events 事件): C for
// components, E for events, two digits for the major class and two for the
// minor one. Time limits are typical of Chinese cities; each city sets its
// own with PUT /v1/categories.
func DefaultCategories() []Category {
	h := func(n int) TimeLimit { return TimeLimit{Value: n, Unit: WorkingHours} }
	d := func(n int) TimeLimit { return TimeLimit{Value: n, Unit: WorkingDays} }
	type row struct {
		code, zh, en string
		limit        TimeLimit
	}
	rows := []row{
		{"C", "部件", "Components", d(5)},
		{"C01", "公用设施", "Public utilities", d(3)},
		{"C0101", "上水井盖", "Water-supply manhole cover", h(4)},
		{"C0102", "污水井盖", "Sewer manhole cover", h(4)},
		{"C0103", "雨水篦子", "Storm drain grate", h(8)},
		{"C0104", "路灯", "Street lamp", d(2)},
		{"C02", "道路交通", "Roads and traffic", d(3)},
		{"C0201", "交通标志牌", "Traffic sign", d(3)},
		{"C0202", "护栏", "Guardrail", d(3)},
		{"C03", "市容环境设施", "City-appearance facilities", d(2)},
		{"C0301", "垃圾箱", "Litter bin", d(1)},
		{"C0302", "公共厕所", "Public toilet", d(1)},
		{"C04", "园林绿化设施", "Landscaping", d(5)},
		{"C0401", "行道树", "Street tree", d(3)},
		{"C0402", "绿地", "Green space", d(5)},
		{"E", "事件", "Events", d(5)},
		{"E01", "市容环境", "City appearance", d(1)},
		{"E0101", "暴露垃圾", "Exposed garbage", h(4)},
		{"E0102", "积存垃圾渣土", "Accumulated garbage and muck", h(8)},
		{"E0103", "道路不洁", "Dirty road", h(4)},
		{"E0104", "乱涂写、张贴小广告", "Graffiti and fly-posting", d(1)},
		{"E02", "宣传广告", "Advertising", d(3)},
		{"E0201", "违法户外广告", "Illegal outdoor advertising", d(5)},
		{"E03", "施工管理", "Construction management", d(5)},
		{"E0301", "违法建设", "Illegal construction", d(20)},
		{"E0302", "施工扰民", "Construction disturbance", h(8)},
		{"E0303", "工地扬尘", "Construction dust", h(8)},
		{"E04", "突发事件", "Emergencies", h(2)},
		{"E0401", "路面塌陷", "Road collapse", h(2)},
		{"E0402", "自来水管破裂", "Burst water main", h(2)},
		{"E05", "街面秩序", "Street order", d(1)},
		{"E0501", "无照经营游商", "Unlicensed street vending", h(2)},
		{"E0502", "占道经营", "Roadside stall", h(4)},
		{"E0503", "店外经营", "Trading outside the shop", h(4)},
		{"E0504", "乱堆物堆料", "Piled materials", h(8)},
		{"E0505", "非机动车乱停放", "Bicycles parked in the way", h(4)},
		{"E06", "其他事件", "Other events", d(3)},
	}
	out := make([]Category, len(rows))
	for i, r := range rows {
		out[i] = Category{Code: r.code, Parent: ParentCode(r.code), NameZH: r.zh, NameEN: r.en, TimeLimit: r.limit}
	}
	return out
}
