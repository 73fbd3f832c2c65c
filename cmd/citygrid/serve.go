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

	"citygrid/caseindex"
	"citygrid/grid"
	"citygrid/httpapi"
	"citygrid/internal/app"
	"citygrid/postgres"
	"citygrid/tiles"
)

func runServe(ctx context.Context, cfg *Config, args []string, e *env) error {
	pool, closeDB, err := openServeDatabase(ctx, cfg, args, e)
	if err != nil {
		return err
	}
	defer closeDB()
	store := postgres.NewGridStore(pool)
	store.Instance = instanceID()
	caseStore := postgres.NewCaseStore(pool)
	caseStore.Instance = store.Instance
	if cfg.Demo {
		if err := loadDemoIfEmpty(ctx, pool, cfg.DemoCases, e); err != nil {
			return err
		}
	}
	index := grid.NewIndex(cfg.locatorOptions())
	// Grid versions (issue 19): the store, and the scheduler that switches
	// to a scheduled version at its time (woken by grid notifications).
	versions := postgres.NewVersionStore(pool)
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
	start := time.Now()
	if err := index.Rebuild(ctx, store); err != nil {
		return err
	}
	l := index.Locator()
	e.logger.Info("grid index built", "grids", l.Len(), "cells", l.IndexedCells(), "elapsed", time.Since(start).Round(time.Millisecond))
	warnUnregisteredFallback(l, cfg.FallbackUnit, e.logger)

	application := app.New(index, caseindex.New(), caseStore, app.Config{
		Tiles:  tiles.Options{PointZoom: cfg.TilePointZoom, MaxFeatures: cfg.TileMaxFeatures, CacheBytes: cfg.TileCacheBytes},
		Logger: e.logger,
	})
	hub := application.Live
	defer hub.Close()
	go (&versionScheduler{versions: versions, grids: store, cases: caseStore, index: index, hub: hub, e: e, wake: versionWake}).run(ctx) // grid versions (issue 19)
	// Other processes' case changes enter through the same door as this
	// one's. Listen before loading, so that no change made meanwhile is
	// missed.
	err = listen(ctx, pool, postgres.CasesChannel, store.Instance, e, func(payload string) {
		if id, ok := postgres.CaseNotification(payload); ok {
			hub.ChangedElsewhere(ctx, id)
		} else {
			hub.Reload()
		}
	})
	if err != nil {
		return err
	}
	start = time.Now()
	if err := caseStore.LoadCaseIndex(ctx, application.Cases); err != nil {
		return err
	}
	e.logger.Info("case index loaded", "cases", application.Cases.Len(), "elapsed", time.Since(start).Round(time.Millisecond))
	if cfg.Demo {
		var sources []string // most cases first
		for _, s := range application.Cases.Sources() {
			sources = append(sources, s.Source)
		}
		if err := issueDemoKeys(ctx, postgres.NewKeyStore(pool), postgres.NewUserStore(pool), store, sources, demoKeysFile, e); err != nil {
			return err
		}
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
	}, httpapi.Deps{Grids: store, Cases: caseStore, Stats: caseStore, Index: index, App: application, Ready: pool.Ping, Logger: e.logger,
		Keys: postgres.NewKeyStore(pool), Audit: postgres.NewAuditStore(pool), Users: postgres.NewUserStore(pool),
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
