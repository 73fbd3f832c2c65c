package postgres

import (
	"context"
	"fmt"
	"strings"

	"citygrid/cases"
)

// CountCases counts the cases FindCases would list for f over all its
// pages (f.Limit and the keyset positions are ignored): the numberMatched
// of an OGC API – Features page, under the same area, filters and
// restriction as the listing.
func (s *CaseStore) CountCases(ctx context.Context, f cases.Filter) (int, error) {
	if hasFineCells(f.Area.Cells) {
		return 0, fmt.Errorf("count cases: cells finer than the stored resolution are not counted in SQL")
	}
	var q caseQuery
	if _, _, _, err := s.filterConditions(&q, f); err != nil {
		return 0, fmt.Errorf("count cases: %w", err)
	}
	if b := f.Area.Bound; b != nil {
		// The listing's box test is plain comparisons, which no index
		// serves; a count reads every row they keep, so let the geometry
		// index find them (&& on points is the same closed box).
		q.add("c.geom && ST_MakeEnvelope(%s, %s, %s, %s, 4326)", b.Min[0], b.Min[1], b.Max[0], b.Max[1])
	}
	var n int
	sql := "SELECT count(*) FROM cases c WHERE " + strings.Join(q.where, "\n  AND ")
	if err := s.db.QueryRow(ctx, sql, q.args...).Scan(&n); err != nil {
		return 0, fmt.Errorf("count cases: %w", err)
	}
	return n, nil
}
