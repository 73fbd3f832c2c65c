package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"citygrid/bulletin"
	"citygrid/caseindex"
	"citygrid/grid"
	"citygrid/httpapi"
	"citygrid/internal/app"
	"citygrid/live"
	"citygrid/postgres"
	"citygrid/tiles"
)

func runServe(ctx context.Context, cfg *Config, args []string, e *env) error {
	pool, closeDB, err := openServeDatabase(ctx, cfg, args, e)
	if err != nil {
		return err
	}
	defer closeDB()
	// Stores wait out a restart of the database rather than fail.
	db := postgres.NewPatient(pool, 0)
	replicas, err := openReplicas(ctx, cfg.ReplicaURLs)
	if err != nil {
		return err
	}
	defer closeReplicas(replicas)
	store := postgres.NewGridStore(db)
	store.Instance = instanceID()
	caseStore := postgres.NewCaseStore(db)
	readStore := postgres.NewCaseStore(postgres.NewReplicaReads(db, replicas))
	if cfg.Demo {
		if err := loadDemoIfEmpty(ctx, pool, cfg.DemoCases, e); err != nil {
			return err
		}
		if err := loadDemoProjects(ctx, pool, e); err != nil { // issue 17
			return err
		}
	}
	index := grid.NewIndex(cfg.locatorOptions())
	// Grid versions (issue 19): the store, and the scheduler that switches
	// to a scheduled version at its time (woken by grid notifications).
	versions := postgres.NewVersionStore(db)
	versions.Instance, versions.Locator, versions.Current = store.Instance, cfg.locatorOptions(), index.Locator
	versionWake := make(chan struct{}, 1)
	// Listen before loading, so that no change made meanwhile is missed:
	// another process (a replica, a CLI import) changed the grids: rebuild.
	err = listen(ctx, pool, postgres.GridsChannel, store.Instance, e, func(string) {
		select { // grid versions (issue 19)
		case versionWake <- struct{}{}:
		default:
		}
		if err := index.Rebuild(ctx, store); err != nil && ctx.Err() == nil {
			e.logger.Error("rebuilding grid index after notification", "err", err)
		} else {
			e.logger.Info("grid index rebuilt after a change elsewhere", "grids", index.Locator().Len())
		}
	})
	if err != nil {
		return err
	}
	// Snapshots (issue 14): read before any index is built, tagged with
	// this database's identity and brought up to date from the change feed.
	dbID, err := caseStore.DatabaseIdentity(ctx)
	if err != nil {
		return err
	}
	var hub *live.Hub // made below, once the grid index is built
	feed := snapshotFeed{Database: dbID, MaxAge: cfg.ChangeRetention, Bounds: caseStore.FeedBounds,
		Position:   func() uint64 { return hub.Applied() },
		ReplayFrom: func(ctx context.Context, p uint64) error { return hub.ReplayFrom(ctx, p) }}
	snaps, err := startSnapshots(ctx, cfg, e, feed, index, store)
	if err != nil {
		return err
	}
	start := time.Now()
	if err := snaps.rebuildGrids(ctx); err != nil {
		return err
	}
	l := index.Locator()
	e.logger.Info("grid index built", "grids", l.Len(), "cells", l.IndexedCells(), "elapsed", time.Since(start).Round(time.Millisecond))
	warnUnregisteredFallback(l, cfg.FallbackUnit, e.logger)

	application := app.New(index, caseindex.New(), caseStore, app.Config{
		Tiles:  tiles.Options{PointZoom: cfg.TilePointZoom, MaxFeatures: cfg.TileMaxFeatures, CacheBytes: cfg.TileCacheBytes},
		Logger: e.logger,
	})
	hub = application.Live
	defer hub.Close()
	// Every process's case changes reach this one through the change feed
	// (migration 011), in commit order; a notification only wakes the
	// follower, which reads the log every -change-poll regardless. Listen
	// before loading: a change committed meanwhile wakes it.
	wake := make(chan struct{}, 1)
	err = listen(ctx, pool, postgres.ChangesChannel, store.Instance, e, func(string) {
		select {
		case wake <- struct{}{}:
		default: // a wake-up is pending already
		}
	})
	if err != nil {
		return err
	}
	// A snapshot and the feed's tail, else a full load (built aside,
	// swapped in): either way the hub knows the position it holds, and
	// says which it was in the log.
	if err := snaps.loadCases(ctx, application.Cases, hub.Load); err != nil {
		return err
	}
	defer snaps.close() // after the server's shutdown, a last snapshot
	go hub.Follow(ctx, wake, cfg.ChangePoll)
	go pruneChanges(ctx, caseStore, cfg.ChangeRetention, e.logger)
	go (&versionScheduler{versions: versions, grids: store, cases: caseStore, index: index, hub: hub, e: e, wake: versionWake}).run(ctx) // grid versions (issue 19)
	if cfg.Demo {
		var sources []string // most cases first
		for _, s := range application.Cases.Sources() {
			sources = append(sources, s.Source)
		}
		if err := issueDemoKeys(ctx, postgres.NewKeyStore(pool), postgres.NewUserStore(pool), store, sources, demoKeysFile, e); err != nil {
			return err
		}
	}

	// Campaigns and bulletins (issue 18), which report the projects' late
	// milestones (issue 17).
	campaigns := postgres.NewCampaignStore(db)
	projects := postgres.NewProjectStore(db)
	bulletins := app.NewBulletins(app.BulletinDeps{Cases: caseStore, Stats: caseStore, Hotspots: caseStore, Campaigns: campaigns,
		Store: postgres.NewBulletinStore(db), Locator: index.Locator, Milestones: app.LateMilestones{Projects: projects}})
	if at, streets, units, _ := cfg.bulletinSchedule(); at >= 0 { // checked by Validate
		sched := &bulletin.Scheduler{Service: bulletins, Lock: &postgres.Locker{Pool: pool}, Kinds: bulletin.Kinds,
			Scopes: func() []bulletin.Scope { return bulletin.Scopes(index.Locator(), streets, units) },
			At:     at, CatchUp: cfg.BulletinCatchUp, Logger: e.logger}
		go sched.Run(ctx)
	}

	cacheControl, _ := cfg.tileCacheControl() // checked by Validate
	oidcConfig, _ := cfg.oidcConfig()         // checked by Validate
	api := httpapi.New(httpapi.Config{
		TileCacheControl: cacheControl,
		CORSOrigin:       cfg.CORSOrigin,
		MaxBodyBytes:     cfg.MaxBodyBytes,
		MaxImportBytes:   cfg.MaxImportBytes,
		RequestTimeout:   cfg.RequestTimeout,
		DuplicateRadiusM: cfg.DupRadiusM,
		DuplicateWindow:  cfg.DupWindow,
		RateLimit:        offIfZero(cfg.RateLimit),
		RateBurst:        cfg.RateBurst,
		BulkConcurrency:  offIfZero(cfg.BulkConcurrency),
		BulkIdleTimeout:  offIfZero(cfg.BulkIdleTimeout),
		SessionIdle:      cfg.SessionIdle,
		OIDC:             oidcConfig,
		// Open311 (issue 15).
		Open311PublicRead: cfg.Open311PublicRead,
	}, httpapi.Deps{Grids: store, Cases: caseStore, Reads: readStore, Stats: readStore, Index: index, App: application, Ready: pool.Ping, Logger: e.logger,
		Keys: postgres.NewKeyStore(db), Audit: postgres.NewAuditStore(db), Users: postgres.NewUserStore(db), Transient: postgres.Unavailable,
		Campaigns: campaigns, Bulletins: bulletins,
		Projects: projects,  // issue 17
		Versions: versions}) // grid versions (issue 19)
	srv := &http.Server{
		Handler:           api,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       10*cfg.RequestTimeout + 10*time.Second,
		WriteTimeout:      10*cfg.RequestTimeout + 10*time.Second,
		IdleTimeout:       2 * time.Minute,
		BaseContext:       func(net.Listener) context.Context { return context.WithoutCancel(ctx) },
	}
	srv.RegisterOnShutdown(api.CloseStreams) // live event streams never end by themselves
	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "citygrid listening on http://%s\n", ln.Addr())
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	e.logger.Info("shutting down", "grace", cfg.ShutdownGrace)
	shutdownCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), cfg.ShutdownGrace)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil && !errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	return nil
}

// warnUnregisteredFallback says when the fallback unit is not a registered
// unit, which cases would then be assigned to. It does not stop the
// service: on a fresh database the unit can only be registered once the
// service runs.
func warnUnregisteredFallback(l *grid.Locator, fallback string, logger *slog.Logger) {
	if _, ok := l.Unit(fallback); fallback != "" && !ok {
		logger.Warn("the fallback unit is not registered: register it (POST /v1/units) before cases are assigned to it", "fallback_unit", fallback)
	}
}

// pruneChanges drops the change feed's rows older than retention, at
// start and then every tenth of it (at most hourly), until ctx ends. Every
// process prunes: the deletes are idempotent.
func pruneChanges(ctx context.Context, store *postgres.CaseStore, retention time.Duration, logger *slog.Logger) {
	every := min(retention/10, time.Hour)
	for {
		if n, err := store.PruneChanges(ctx, retention); err != nil && ctx.Err() == nil {
			logger.Warn("pruning the change feed", "err", err)
		} else if n > 0 {
			logger.Info("change feed pruned", "rows", n, "older_than", retention)
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(every):
		}
	}
}

// instanceID names this process in grid-change notifications.
func instanceID() string {
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// listen starts following channel and returns once LISTEN is in place.
func listen(ctx context.Context, pool *pgxpool.Pool, channel, self string, e *env, fn func(string)) error {
	ready := make(chan struct{})
	var once sync.Once
	go postgres.Listen(ctx, pool, channel, self, e.logger, fn, func() { once.Do(func() { close(ready) }) })
	select {
	case <-ready:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	case <-time.After(30 * time.Second):
		return fmt.Errorf("listen on %s: not listening after 30 s", channel)
	}
}
