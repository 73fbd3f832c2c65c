package postgres

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/paulmach/orb"
	"github.com/paulmach/orb/encoding/wkb"

	"citygrid"
	"citygrid/access"
	"citygrid/campaign"
)

// CampaignStore implements campaign.Store.
type CampaignStore struct {
	db DBTX
}

var _ campaign.Store = (*CampaignStore)(nil)

// NewCampaignStore returns a store on db.
func NewCampaignStore(db DBTX) *CampaignStore { return &CampaignStore{db: db} }

const campaignColumns = `k.id, k.name, k.categories, k.grids, ST_AsBinary(k.area), k.starts_at, k.ends_at, k.target_kind, k.target_value,
    k.created_by, k.created_at`

const insertCampaignSQL = `
INSERT INTO campaigns AS k (name, categories, grids, grid_subtree, area, starts_at, ends_at, target_kind, target_value, created_by)
VALUES ($1, $2, $3, $4, ST_Multi(ST_GeomFromWKB($5, 4326)), $6, $7, $8, $9, $10)
RETURNING ` + campaignColumns

// CreateCampaign implements campaign.Store; subtree is the grids' whole
// subtrees (nil for a polygon campaign).
func (s *CampaignStore) CreateCampaign(ctx context.Context, k *campaign.Campaign, subtree []string, actor string) (*campaign.Campaign, error) {
	area, err := wkb.Marshal(k.Area)
	if err != nil {
		return nil, fmt.Errorf("create campaign: %w", err)
	}
	if k.Grids == nil {
		subtree = nil
	}
	tx, err := s.db.Begin(ctx)
	if err != nil {
		return nil, fmt.Errorf("create campaign: %w", err)
	}
	defer tx.Rollback(ctx) //nolint:errcheck // after Commit a no-op
	stored, err := scanCampaign(tx.QueryRow(ctx, insertCampaignSQL, k.Name, k.Categories, k.Grids, subtree, area, k.StartsAt, k.EndsAt,
		string(k.Target.Kind), k.Target.Value, actor))
	if err != nil {
		return nil, fmt.Errorf("create campaign: %w", err)
	}
	if err := audit(ctx, tx, access.Entry{Action: "campaign.create", ObjectType: "campaign", ObjectID: strconv.FormatInt(stored.ID, 10), Detail: k.Name}); err != nil {
		return nil, err
	}
	if err := tx.Commit(ctx); err != nil {
		return nil, fmt.Errorf("create campaign: %w", err)
	}
	return stored, nil
}

func scanCampaign(row pgx.Row) (*campaign.Campaign, error) {
	var (
		k    campaign.Campaign
		area []byte
		kind string
	)
	if err := row.Scan(&k.ID, &k.Name, &k.Categories, &k.Grids, &area, &k.StartsAt, &k.EndsAt, &kind, &k.Target.Value,
		&k.CreatedBy, &k.CreatedAt); err != nil {
		return nil, err
	}
	k.Target.Kind = campaign.TargetKind(kind)
	g, err := wkb.Unmarshal(area)
	if err != nil {
		return nil, fmt.Errorf("campaign %d area: %w", k.ID, err)
	}
	mp, ok := g.(orb.MultiPolygon)
	if !ok {
		return nil, fmt.Errorf("campaign %d area: a %s", k.ID, g.GeoJSONType())
	}
	k.Area = mp
	return &k, nil
}

// FindCampaign implements campaign.Store.
func (s *CampaignStore) FindCampaign(ctx context.Context, id int64) (*campaign.Campaign, error) {
	k, err := scanCampaign(s.db.QueryRow(ctx, `SELECT `+campaignColumns+` FROM campaigns k WHERE k.id = $1`, id))
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, citygrid.Errorf(citygrid.CodeNotFound, "campaign %d not found", id)
	} else if err != nil {
		return nil, fmt.Errorf("find campaign %d: %w", id, err)
	}
	return k, nil
}

// FindCampaigns implements campaign.Store: every campaign, newest first.
func (s *CampaignStore) FindCampaigns(ctx context.Context) ([]*campaign.Campaign, error) {
	rows, err := s.db.Query(ctx, `SELECT `+campaignColumns+` FROM campaigns k ORDER BY k.starts_at DESC, k.id DESC`)
	if err != nil {
		return nil, fmt.Errorf("find campaigns: %w", err)
	}
	defer rows.Close()
	out := []*campaign.Campaign{}
	for rows.Next() {
		k, err := scanCampaign(rows)
		if err != nil {
			return nil, fmt.Errorf("find campaigns: %w", err)
		}
		out = append(out, k)
	}
	return out, rows.Err()
}

// AddSites implements campaign.Store: all or nothing.
func (s *CampaignStore) AddSites(ctx context.Context, campaignID int64, sites []campaign.Site) error {
	tx, err := s.db.Begin(ctx)
	if err != nil {
		return fmt.Errorf("add sites: %w", err)
	}
	defer tx.Rollback(ctx) //nolint:errcheck // after Commit a no-op
	var b pgx.Batch
	for _, site := range sites {
		b.Queue(`INSERT INTO campaign_sites (campaign_id, ref, name, category, geom) VALUES ($1, $2, $3, $4, ST_SetSRID(ST_MakePoint($5, $6), 4326))`,
			campaignID, site.Ref, site.Name, site.Category, site.Location[0], site.Location[1])
	}
	br := tx.SendBatch(ctx, &b)
	for _, site := range sites {
		if _, err := br.Exec(); err != nil {
			br.Close()
			if _, ok := isPgError(err, uniqueViolation); ok {
				return citygrid.Errorf(citygrid.CodeConflict, "site %q is on the campaign's list already (row %d)", site.Ref, site.Row)
			}
			return fmt.Errorf("add sites: %w", err)
		}
	}
	if err := br.Close(); err != nil {
		return fmt.Errorf("add sites: %w", err)
	}
	if err := audit(ctx, tx, access.Entry{Action: "campaign.sites", ObjectType: "campaign", ObjectID: strconv.FormatInt(campaignID, 10),
		Detail: fmt.Sprintf("%d sites added", len(sites))}); err != nil {
		return err
	}
	return tx.Commit(ctx)
}

const siteColumns = `s.id, s.ref, s.name, s.category, ST_X(s.geom), ST_Y(s.geom), COALESCE(s.result, ''), s.inspected_at,
    s.inspected_by, s.note, s.case_id`

func scanSite(row pgx.Row) (*campaign.Site, error) {
	var st campaign.Site
	var result string
	if err := row.Scan(&st.ID, &st.Ref, &st.Name, &st.Category, &st.Location[0], &st.Location[1], &result, &st.InspectedAt,
		&st.InspectedBy, &st.Note, &st.CaseID); err != nil {
		return nil, err
	}
	st.Result = campaign.Result(result)
	return &st, nil
}

// FindSites implements campaign.Store, by ref.
func (s *CampaignStore) FindSites(ctx context.Context, campaignID int64) ([]*campaign.Site, error) {
	rows, err := s.db.Query(ctx, `SELECT `+siteColumns+` FROM campaign_sites s WHERE s.campaign_id = $1 ORDER BY s.ref`, campaignID)
	if err != nil {
		return nil, fmt.Errorf("find sites: %w", err)
	}
	defer rows.Close()
	out := []*campaign.Site{}
	for rows.Next() {
		st, err := scanSite(rows)
		if err != nil {
			return nil, fmt.Errorf("find sites: %w", err)
		}
		out = append(out, st)
	}
	return out, rows.Err()
}

// FindSite implements campaign.Store.
func (s *CampaignStore) FindSite(ctx context.Context, campaignID int64, ref string) (*campaign.Site, error) {
	st, err := scanSite(s.db.QueryRow(ctx, `SELECT `+siteColumns+` FROM campaign_sites s WHERE s.campaign_id = $1 AND s.ref = $2`, campaignID, ref))
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, citygrid.Errorf(citygrid.CodeNotFound, "campaign %d has no site %q", campaignID, ref)
	} else if err != nil {
		return nil, fmt.Errorf("find site: %w", err)
	}
	return st, nil
}

// recordInspectionSQL records a site's one inspection: a site inspected
// already is left as it is.
const recordInspectionSQL = `
UPDATE campaign_sites SET result = $3, inspected_at = $4, inspected_by = $5, note = $6, case_id = $7
WHERE campaign_id = $1 AND ref = $2 AND result IS NULL`

// RecordInspection implements campaign.Store.
func (s *CampaignStore) RecordInspection(ctx context.Context, campaignID int64, ref string, result campaign.Result, at time.Time,
	actor, note string, caseID *int64) error {
	tx, err := s.db.Begin(ctx)
	if err != nil {
		return fmt.Errorf("record inspection: %w", err)
	}
	defer tx.Rollback(ctx) //nolint:errcheck // after Commit a no-op
	tag, err := tx.Exec(ctx, recordInspectionSQL, campaignID, ref, string(result), at, actor, note, caseID)
	if err != nil {
		return fmt.Errorf("record inspection: %w", err)
	}
	if tag.RowsAffected() == 0 {
		if _, err := s.FindSite(ctx, campaignID, ref); err != nil {
			return err
		}
		return citygrid.Errorf(citygrid.CodeConflict, "site %q was inspected already", ref)
	}
	if err := audit(ctx, tx, access.Entry{Action: "campaign.inspect", ObjectType: "campaign", ObjectID: strconv.FormatInt(campaignID, 10),
		Detail: ref + ": " + string(result)}); err != nil {
		return err
	}
	return tx.Commit(ctx)
}

const siteCountsSQL = `
SELECT count(*), count(*) FILTER (WHERE inspected_at <= $2), count(*) FILTER (WHERE inspected_at <= $2 AND result = 'pass'),
    count(*) FILTER (WHERE inspected_at <= $2 AND result = 'fail')
FROM campaign_sites WHERE campaign_id = $1`

// SiteCounts implements campaign.Store: the list as it stood at asOf.
func (s *CampaignStore) SiteCounts(ctx context.Context, campaignID int64, asOf time.Time) (campaign.SiteCounts, error) {
	var c campaign.SiteCounts
	if err := s.db.QueryRow(ctx, siteCountsSQL, campaignID, asOf).Scan(&c.Total, &c.Inspected, &c.Passed, &c.Failed); err != nil {
		return c, fmt.Errorf("site counts: %w", err)
	}
	return c, nil
}
