package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"citygrid/grid"
	"citygrid/tiles"
)

// Config is every setting of the service. Each has a flag and an environment
// variable (the flag wins); defaults suit a developer's machine.
type Config struct {
	DatabaseURL    string        // CITYGRID_DATABASE_URL; empty: run a private local cluster
	ReplicaURLs    string        // CITYGRID_REPLICA_URLS: streaming replicas for reads, comma-separated
	DataDir        string        // CITYGRID_DATA_DIR: where the private cluster lives
	Addr           string        // CITYGRID_ADDR
	H3Res          int           // CITYGRID_H3_RES: resolution of the cells in answers
	PixelM         float64       // CITYGRID_INDEX_PIXEL_M: raster pixel of the locator index near boundaries
	ToleranceM     float64       // CITYGRID_BOUNDARY_TOLERANCE_M
	FallbackUnit   string        // CITYGRID_FALLBACK_UNIT: owner where no grid names one (属地兜底)
	MaxBodyBytes   int64         // CITYGRID_MAX_BODY_BYTES
	MaxImportBytes int64         // CITYGRID_MAX_IMPORT_BYTES
	RequestTimeout time.Duration // CITYGRID_REQUEST_TIMEOUT
	ShutdownGrace  time.Duration // CITYGRID_SHUTDOWN_GRACE
	Demo           bool          // CITYGRID_DEMO: serve loads the demo district into an empty database
	DemoCases      int           // CITYGRID_DEMO_CASES: demo cases to generate with the district
	DupRadiusM     float64       // CITYGRID_DUPLICATE_RADIUS_M
	DupWindow      time.Duration // CITYGRID_DUPLICATE_WINDOW
	LogLevel       string        // CITYGRID_LOG_LEVEL: debug, info, warn, error
	LogFormat      string        // CITYGRID_LOG_FORMAT: text or json

	TilePointZoom    int    // CITYGRID_TILE_POINT_ZOOM: zoom from which cases are single points
	TileMaxFeatures  int    // CITYGRID_TILE_MAX_FEATURES: per layer and tile
	TileCacheBytes   int64  // CITYGRID_TILE_CACHE_BYTES
	TileCacheControl string // CITYGRID_TILE_CACHE_CONTROL: layer=value;... ("*" for the rest)
	CORSOrigin       string // CITYGRID_CORS_ORIGIN: Access-Control-Allow-Origin of tiles ("none": none)

	RateLimit       float64       // CITYGRID_RATE_LIMIT: expensive reads a second per client (0: no limit)
	RateBurst       int           // CITYGRID_RATE_BURST: of which at once
	BulkConcurrency int           // CITYGRID_BULK_CONCURRENCY: bulk ingests in flight per client (0: no cap)
	BulkIdleTimeout time.Duration // CITYGRID_BULK_IDLE_TIMEOUT: silence that cuts a bulk body (0: none)
	SessionIdle     time.Duration // CITYGRID_SESSION_IDLE: a signed-in session ends after this long without a request

	// Open311 (issue 15): anonymous GET requests of the categories marked public.
	Open311PublicRead bool // CITYGRID_OPEN311_PUBLIC_READ
	// The change feed (issue 14).
	ChangeRetention time.Duration // CITYGRID_CHANGE_RETENTION: how long the case change log keeps a change
	ChangePoll      time.Duration // CITYGRID_CHANGE_POLL: how often the feed is read without a wake-up

	// OpenID Connect sign-in (off without an issuer); see oidc.go.
	OIDCIssuer       string // CITYGRID_OIDC_ISSUER
	OIDCClientID     string // CITYGRID_OIDC_CLIENT_ID
	OIDCClientSecret string // CITYGRID_OIDC_CLIENT_SECRET (better in the environment than on a command line)
	OIDCRedirectURL  string // CITYGRID_OIDC_REDIRECT_URL; empty: from the request's host
	OIDCRoleClaim    string // CITYGRID_OIDC_ROLE_CLAIM
	OIDCRoleMap      string // CITYGRID_OIDC_ROLE_MAP: value=role,... (empty: values that name roles)
	OIDCScopeClaim   string // CITYGRID_OIDC_SCOPE_CLAIM
	OIDCUnitClaim    string // CITYGRID_OIDC_UNIT_CLAIM

	// Bulletins (issue 18).
	BulletinAt      string        // CITYGRID_BULLETIN_AT: time of day (district time) bulletins are generated; "off": never
	BulletinScopes  string        // CITYGRID_BULLETIN_SCOPES: district, streets, units (comma-separated)
	BulletinCatchUp time.Duration // CITYGRID_BULLETIN_CATCH_UP: how far back a start catches up missed bulletins

	// Snapshots of the indexes (issue 14); see snapshot.go.
	SnapshotDir   string        // CITYGRID_SNAPSHOT_DIR: empty: beside the private cluster's directory; "none": off
	SnapshotEvery time.Duration // CITYGRID_SNAPSHOT_EVERY
}

// parseConfig reads flags (after the subcommand) with environment defaults;
// flags, if not nil, adds the command's own flags.
func parseConfig(name string, args []string, getenv func(string) string, stderr io.Writer, flags func(*flag.FlagSet)) (*Config, []string, error) {
	c := &Config{}
	fs := flag.NewFlagSet("citygrid "+name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	env := func(key, def string) string {
		if v := getenv(key); v != "" {
			return v
		}
		return def
	}
	var errs []error
	envInt := func(key string, def int) int {
		v, err := strconv.Atoi(env(key, strconv.Itoa(def)))
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: not an integer", key))
		}
		return v
	}
	envFloat := func(key string, def float64) float64 {
		v, err := strconv.ParseFloat(env(key, strconv.FormatFloat(def, 'g', -1, 64)), 64)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: not a number", key))
		}
		return v
	}
	envDur := func(key string, def time.Duration) time.Duration {
		v, err := time.ParseDuration(env(key, def.String()))
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: not a duration (e.g. 30s)", key))
		}
		return v
	}
	envBool := func(key string, def bool) bool {
		v, err := strconv.ParseBool(env(key, strconv.FormatBool(def)))
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: not true or false", key))
		}
		return v
	}
	fs.StringVar(&c.DatabaseURL, "database-url", env("CITYGRID_DATABASE_URL", ""), "PostgreSQL URL (env CITYGRID_DATABASE_URL); empty runs a private local cluster in -data-dir")
	fs.StringVar(&c.ReplicaURLs, "replica-urls", env("CITYGRID_REPLICA_URLS", ""), "streaming replicas of -database-url, comma-separated (env CITYGRID_REPLICA_URLS): area queries, exports and statistics read there once a replica has replayed what the request needs")
	fs.StringVar(&c.DataDir, "data-dir", env("CITYGRID_DATA_DIR", defaultDataDir(os.Geteuid(), workDir())), "directory of the private local cluster (env CITYGRID_DATA_DIR); as root, one per checkout under "+rootDataDirs)
	fs.StringVar(&c.Addr, "addr", env("CITYGRID_ADDR", "127.0.0.1:8080"), "HTTP listen address (env CITYGRID_ADDR)")
	fs.IntVar(&c.H3Res, "h3-res", envInt("CITYGRID_H3_RES", 9), "H3 resolution of the cell /v1/locate reports, 0-15 (env CITYGRID_H3_RES); cases are stored and counted at 9 whatever this says")
	fs.Float64Var(&c.PixelM, "index-pixel-m", envFloat("CITYGRID_INDEX_PIXEL_M", 5), "pixel size of the in-memory locator near boundaries, metres (env CITYGRID_INDEX_PIXEL_M)")
	fs.Float64Var(&c.ToleranceM, "boundary-tolerance-m", envFloat("CITYGRID_BOUNDARY_TOLERANCE_M", 5), "distance to a grid boundary under which alternatives are listed, metres (env CITYGRID_BOUNDARY_TOLERANCE_M)")
	fs.StringVar(&c.FallbackUnit, "fallback-unit", env("CITYGRID_FALLBACK_UNIT", ""), "code of the unit that owns points of the district where no grid names a unit (属地兜底; env CITYGRID_FALLBACK_UNIT); empty: cases there are refused")
	fs.Int64Var(&c.MaxBodyBytes, "max-body-bytes", int64(envInt("CITYGRID_MAX_BODY_BYTES", 1<<20)), "largest JSON request body (env CITYGRID_MAX_BODY_BYTES)")
	fs.Int64Var(&c.MaxImportBytes, "max-import-bytes", int64(envInt("CITYGRID_MAX_IMPORT_BYTES", 256<<20)), "largest import body (env CITYGRID_MAX_IMPORT_BYTES)")
	fs.DurationVar(&c.RequestTimeout, "request-timeout", envDur("CITYGRID_REQUEST_TIMEOUT", 30*time.Second), "time limit of a request; imports get 10x (env CITYGRID_REQUEST_TIMEOUT)")
	fs.DurationVar(&c.ShutdownGrace, "shutdown-grace", envDur("CITYGRID_SHUTDOWN_GRACE", 15*time.Second), "time in-flight requests get on shutdown (env CITYGRID_SHUTDOWN_GRACE)")
	// The change feed (issue 14).
	fs.DurationVar(&c.ChangeRetention, "change-retention", envDur("CITYGRID_CHANGE_RETENTION", 24*time.Hour), "how long the case change log keeps a change; a process behind that loads every case anew (env CITYGRID_CHANGE_RETENTION)")
	fs.DurationVar(&c.ChangePoll, "change-poll", envDur("CITYGRID_CHANGE_POLL", time.Second), "how often the case change log is read when no notification wakes the reader (env CITYGRID_CHANGE_POLL)")
	fs.BoolVar(&c.Demo, "demo", envBool("CITYGRID_DEMO", false), "serve: load the demo district when the database has no grids (env CITYGRID_DEMO)")
	fs.IntVar(&c.DemoCases, "demo-cases", envInt("CITYGRID_DEMO_CASES", 0), "demo: how many realistic cases to generate (env CITYGRID_DEMO_CASES)")
	fs.Float64Var(&c.DupRadiusM, "duplicate-radius-m", envFloat("CITYGRID_DUPLICATE_RADIUS_M", 50), "distance within which a new case lists open cases of its category as possible duplicates (env CITYGRID_DUPLICATE_RADIUS_M)")
	fs.DurationVar(&c.DupWindow, "duplicate-window", envDur("CITYGRID_DUPLICATE_WINDOW", 7*24*time.Hour), "time window of that search (env CITYGRID_DUPLICATE_WINDOW)")
	fs.StringVar(&c.LogLevel, "log-level", env("CITYGRID_LOG_LEVEL", "info"), "debug, info, warn or error (env CITYGRID_LOG_LEVEL)")
	fs.StringVar(&c.LogFormat, "log-format", env("CITYGRID_LOG_FORMAT", "text"), "text or json (env CITYGRID_LOG_FORMAT)")
	fs.IntVar(&c.TilePointZoom, "tile-point-zoom", envInt("CITYGRID_TILE_POINT_ZOOM", 14), "zoom from which the cases layer shows single cases; below, H3 clusters (env CITYGRID_TILE_POINT_ZOOM)")
	fs.IntVar(&c.TileMaxFeatures, "tile-max-features", envInt("CITYGRID_TILE_MAX_FEATURES", 10000), "features per layer per tile; beyond, the newest cases are kept and X-Tile-Capped is set (env CITYGRID_TILE_MAX_FEATURES)")
	fs.Int64Var(&c.TileCacheBytes, "tile-cache-bytes", int64(envInt("CITYGRID_TILE_CACHE_BYTES", 256<<20)), "memory for cached tiles (env CITYGRID_TILE_CACHE_BYTES)")
	fs.StringVar(&c.TileCacheControl, "tile-cache-control", env("CITYGRID_TILE_CACHE_CONTROL", "*=no-cache"), "Cache-Control of tiles by layer, e.g. \"grids=public, max-age=60;*=no-cache\" (env CITYGRID_TILE_CACHE_CONTROL)")
	fs.StringVar(&c.CORSOrigin, "cors-origin", env("CITYGRID_CORS_ORIGIN", "*"), "Access-Control-Allow-Origin of tile responses; none for no CORS header (env CITYGRID_CORS_ORIGIN)")
	fs.Float64Var(&c.RateLimit, "rate-limit", envFloat("CITYGRID_RATE_LIMIT", 10), "case lists, searches, CSV exports and hotspots a second per client, on average; over it a 429 (env CITYGRID_RATE_LIMIT); 0: no limit")
	fs.IntVar(&c.RateBurst, "rate-burst", envInt("CITYGRID_RATE_BURST", 20), "of those, how many a client may make at once (env CITYGRID_RATE_BURST)")
	fs.IntVar(&c.BulkConcurrency, "bulk-concurrency", envInt("CITYGRID_BULK_CONCURRENCY", 2), "bulk ingests a client may stream at once; over it a 429 (env CITYGRID_BULK_CONCURRENCY); 0: no cap")
	fs.DurationVar(&c.BulkIdleTimeout, "bulk-idle-timeout", envDur("CITYGRID_BULK_IDLE_TIMEOUT", 30*time.Second), "a bulk body of which no byte arrives for this long is cut with a 408 (env CITYGRID_BULK_IDLE_TIMEOUT); 0: never")
	fs.DurationVar(&c.SessionIdle, "session-idle", envDur("CITYGRID_SESSION_IDLE", 12*time.Hour), "a signed-in session ends after this long without a request (env CITYGRID_SESSION_IDLE)")
	// Open311 (issue 15).
	fs.BoolVar(&c.Open311PublicRead, "open311-public-read", envBool("CITYGRID_OPEN311_PUBLIC_READ", false), "Open311: anonymous clients may read the requests of categories marked public, without reporters' contact details (env CITYGRID_OPEN311_PUBLIC_READ)")
	fs.StringVar(&c.OIDCIssuer, "oidc-issuer", env("CITYGRID_OIDC_ISSUER", ""), "OpenID Connect issuer URL: people may sign in at the city's identity provider (env CITYGRID_OIDC_ISSUER); empty: off")
	fs.StringVar(&c.OIDCClientID, "oidc-client-id", env("CITYGRID_OIDC_CLIENT_ID", ""), "client id registered at the identity provider (env CITYGRID_OIDC_CLIENT_ID)")
	fs.StringVar(&c.OIDCClientSecret, "oidc-client-secret", env("CITYGRID_OIDC_CLIENT_SECRET", ""), "its client secret; prefer the environment (env CITYGRID_OIDC_CLIENT_SECRET)")
	fs.StringVar(&c.OIDCRedirectURL, "oidc-redirect-url", env("CITYGRID_OIDC_REDIRECT_URL", ""), "callback URL registered at the provider, ending /v1/oidc/callback (env CITYGRID_OIDC_REDIRECT_URL); empty: from the request's host")
	fs.StringVar(&c.OIDCRoleClaim, "oidc-role-claim", env("CITYGRID_OIDC_ROLE_CLAIM", "citygrid_role"), "ID token claim holding the role, a string or a list (env CITYGRID_OIDC_ROLE_CLAIM)")
	fs.StringVar(&c.OIDCRoleMap, "oidc-role-map", env("CITYGRID_OIDC_ROLE_MAP", ""), "claim values to roles, first match wins, e.g. \"grid-duty=dispatcher,grid-analysts=planner\" (env CITYGRID_OIDC_ROLE_MAP); empty: values naming a role")
	fs.StringVar(&c.OIDCScopeClaim, "oidc-scope-claim", env("CITYGRID_OIDC_SCOPE_CLAIM", "citygrid_scope"), "ID token claim holding the scope's grid codes; absent: the whole district (env CITYGRID_OIDC_SCOPE_CLAIM)")
	fs.StringVar(&c.OIDCUnitClaim, "oidc-unit-claim", env("CITYGRID_OIDC_UNIT_CLAIM", "citygrid_unit"), "ID token claim holding a handler's unit (env CITYGRID_OIDC_UNIT_CLAIM)")
	// Bulletins (issue 18).
	fs.StringVar(&c.BulletinAt, "bulletin-at", env("CITYGRID_BULLETIN_AT", "08:00"), "time of day, in the district's time zone, at which the bulletins of the periods just ended are generated; off: never (env CITYGRID_BULLETIN_AT)")
	fs.StringVar(&c.BulletinScopes, "bulletin-scopes", env("CITYGRID_BULLETIN_SCOPES", "district,streets"), "whose bulletins are generated: district, streets, units, comma-separated (env CITYGRID_BULLETIN_SCOPES)")
	fs.DurationVar(&c.BulletinCatchUp, "bulletin-catch-up", envDur("CITYGRID_BULLETIN_CATCH_UP", 72*time.Hour), "at start, bulletins due this far back and not stored are generated (env CITYGRID_BULLETIN_CATCH_UP)")
	// Snapshots of the indexes (issue 14).
	fs.StringVar(&c.SnapshotDir, "snapshot-dir", env("CITYGRID_SNAPSHOT_DIR", ""), "directory of the indexes' snapshot, read at start instead of every case (env CITYGRID_SNAPSHOT_DIR); empty: beside -data-dir (.citygrid/snapshots); none: no snapshots")
	fs.DurationVar(&c.SnapshotEvery, "snapshot-every", envDur("CITYGRID_SNAPSHOT_EVERY", 10*time.Minute), "longest time between snapshots while cases change; also after 100,000 changes and on shutdown (env CITYGRID_SNAPSHOT_EVERY)")
	if flags != nil {
		flags(fs)
	}
	if len(errs) > 0 {
		return nil, nil, errors.Join(errs...)
	}
	if err := fs.Parse(args); err != nil {
		return nil, nil, err
	}
	return c, fs.Args(), c.Validate()
}

// Validate checks settings that flags cannot.
func (c *Config) Validate() error {
	var errs []error
	if c.H3Res < 0 || c.H3Res > 15 {
		errs = append(errs, fmt.Errorf("h3-res %d: want 0 to 15", c.H3Res))
	}
	if c.PixelM < 0.5 || c.PixelM > 1000 {
		errs = append(errs, fmt.Errorf("index-pixel-m %g: want 0.5 to 1000", c.PixelM))
	}
	if c.ToleranceM < 0 || c.ToleranceM > 1000 {
		errs = append(errs, fmt.Errorf("boundary-tolerance-m %g: want 0 to 1000", c.ToleranceM))
	}
	if c.FallbackUnit != "" {
		if err := grid.ValidateCode(c.FallbackUnit); err != nil {
			errs = append(errs, fmt.Errorf("fallback-unit: %w", err))
		}
	}
	if c.MaxBodyBytes < 1024 || c.MaxImportBytes < 1024 {
		errs = append(errs, errors.New("body limits must be at least 1024 bytes"))
	}
	if c.DupRadiusM <= 0 || c.DupRadiusM > 2000 || c.DupWindow <= 0 {
		errs = append(errs, fmt.Errorf("duplicate-radius-m must be in (0, 2000] and duplicate-window positive"))
	}
	if c.DemoCases < 0 || c.DemoCases > 10_000_000 {
		errs = append(errs, fmt.Errorf("demo-cases %d: want 0 to 10000000", c.DemoCases))
	}
	if c.ChangeRetention < time.Minute || c.ChangePoll <= 0 || c.ChangePoll > time.Minute { // the change feed (issue 14)
		errs = append(errs, errors.New("change-retention must be at least 1m and change-poll in (0, 1m]"))
	}
	if c.RequestTimeout <= 0 || c.ShutdownGrace < 0 {
		errs = append(errs, errors.New("request-timeout must be positive and shutdown-grace not negative"))
	}
	if _, err := c.logLevel(); err != nil {
		errs = append(errs, err)
	}
	if c.LogFormat != "text" && c.LogFormat != "json" {
		errs = append(errs, fmt.Errorf("log-format %q: want text or json", c.LogFormat))
	}
	if c.TilePointZoom < 1 || c.TilePointZoom > 18 {
		errs = append(errs, fmt.Errorf("tile-point-zoom %d: want 1 to 18", c.TilePointZoom))
	}
	if c.TileMaxFeatures < 1 || c.TileCacheBytes < 1<<20 {
		errs = append(errs, errors.New("tile-max-features must be positive and tile-cache-bytes at least 1 MiB"))
	}
	if _, err := c.tileCacheControl(); err != nil {
		errs = append(errs, err)
	}
	if c.SessionIdle <= 0 {
		errs = append(errs, errors.New("session-idle must be above zero"))
	}
	if c.RateLimit < 0 || c.RateBurst < 1 || c.BulkConcurrency < 0 || c.BulkIdleTimeout < 0 {
		errs = append(errs, errors.New("rate-limit, bulk-concurrency and bulk-idle-timeout must not be negative, and rate-burst must be at least 1"))
	}
	if _, err := c.oidcConfig(); err != nil {
		errs = append(errs, err)
	}
	if _, _, _, err := c.bulletinSchedule(); err != nil { // issue 18
		errs = append(errs, err)
	}
	if c.DatabaseURL == "" && c.DataDir == "" {
		errs = append(errs, errors.New("data-dir is needed when no database-url is given"))
	}
	return errors.Join(errs...)
}

func (c *Config) logLevel() (slog.Level, error) {
	var l slog.Level
	if err := l.UnmarshalText([]byte(strings.ToUpper(c.LogLevel))); err != nil {
		return 0, fmt.Errorf("log-level %q: want debug, info, warn or error", c.LogLevel)
	}
	return l, nil
}

func (c *Config) newLogger(w io.Writer) *slog.Logger {
	level, _ := c.logLevel()
	opts := &slog.HandlerOptions{Level: level}
	if c.LogFormat == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}

// offIfZero turns a limit's zero, which turns it off here, into
// httpapi.Config's "off", a negative value (zero is its default there).
func offIfZero[T float64 | int | time.Duration](v T) T {
	if v == 0 {
		return -1
	}
	return v
}

// locatorOptions are the settings of the grid index.
func (c *Config) locatorOptions() grid.LocatorOptions {
	return grid.LocatorOptions{ReportRes: c.H3Res, PixelM: c.PixelM, ToleranceM: c.ToleranceM, FallbackUnit: c.FallbackUnit}
}

// tileCacheControl parses "layer=value;layer=value" ("*" for every other
// layer); a value may itself hold "=" (max-age=60).
func (c *Config) tileCacheControl() (map[string]string, error) {
	out := map[string]string{}
	for _, part := range strings.Split(c.TileCacheControl, ";") {
		if strings.TrimSpace(part) == "" {
			continue
		}
		layer, value, ok := strings.Cut(part, "=")
		layer, value = strings.TrimSpace(layer), strings.TrimSpace(value)
		if !ok || value == "" || (layer != "*" && !slices.Contains(tiles.Layers, layer)) {
			return nil, fmt.Errorf("tile-cache-control %q: want layer=value pairs separated by ';', layers %s or *", part, strings.Join(tiles.Layers, ", "))
		}
		out[layer] = value
	}
	return out, nil
}

// bulletinSchedule reads the bulletin settings (issue 18): the time of
// day (off: false), and whether streets' and units' bulletins are made.
func (c *Config) bulletinSchedule() (at time.Duration, streets, units bool, err error) {
	for _, s := range strings.Split(c.BulletinScopes, ",") {
		switch strings.TrimSpace(s) {
		case "district", "":
		case "streets":
			streets = true
		case "units":
			units = true
		default:
			return 0, false, false, fmt.Errorf("bulletin-scopes %q: want district, streets or units", s)
		}
	}
	if c.BulletinAt == "off" {
		return -1, streets, units, nil
	}
	t, err := time.Parse("15:04", c.BulletinAt)
	if err != nil {
		return 0, false, false, fmt.Errorf("bulletin-at %q: want a time of day such as 08:00, or off", c.BulletinAt)
	}
	if c.BulletinCatchUp < 0 {
		return 0, false, false, errors.New("bulletin-catch-up must not be negative")
	}
	return time.Duration(t.Hour())*time.Hour + time.Duration(t.Minute())*time.Minute, streets, units, nil
}
