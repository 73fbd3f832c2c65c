package project

import (
	"time"

	"citygrid/cases"
)

// Progress is how far a project has come.
type Progress struct {
	Milestones MilestoneProgress `json:"milestones"`
	Cases      CaseProgress      `json:"cases"`
	Money      MoneyProgress     `json:"money"`
}

// MilestoneProgress counts milestones.
type MilestoneProgress struct {
	Total int `json:"total"`
	Done  int `json:"done"`
	Late  int `json:"late"`
}

// CaseProgress counts the linked cases: those in the area and categories
// (Auto) and those linked by hand (Manual), each counted once (Linked).
// Closed counts those closed, Open those still in the loop.
type CaseProgress struct {
	Linked int `json:"linked"`
	Auto   int `json:"auto"`
	Manual int `json:"manual"`
	Open   int `json:"open"`
	Closed int `json:"closed"`
}

// MoneyProgress is the money spent against the budget.
type MoneyProgress struct {
	BudgetCNY Money   `json:"budget_cny"`
	SpentCNY  Money   `json:"spent_cny"`
	Share     float64 `json:"share"` // spent / budget; 0 without a budget
}

// Tally counts a project's progress from its linked cases' statuses
// (each linked case once).
func (p *Project) Tally(today time.Time, auto, manual int, statuses []cases.Status) Progress {
	var pr Progress
	pr.Milestones.Total = len(p.Milestones)
	for _, m := range p.Milestones {
		if m.DoneAt != nil {
			pr.Milestones.Done++
		}
		if m.Late(today) {
			pr.Milestones.Late++
		}
	}
	pr.Cases = CaseProgress{Linked: len(statuses), Auto: auto, Manual: manual}
	for _, st := range statuses {
		switch {
		case st.Open():
			pr.Cases.Open++
		case st == cases.StatusClosed:
			pr.Cases.Closed++
		}
	}
	pr.Money = MoneyProgress{BudgetCNY: Money(p.Budget.AmountFen), SpentCNY: Money(p.SpentFen)}
	if p.Budget.AmountFen > 0 {
		pr.Money.Share = float64(p.SpentFen) / float64(p.Budget.AmountFen)
	}
	return pr
}
