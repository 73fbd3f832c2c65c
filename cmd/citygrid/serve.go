package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"citygrid/caseindex"
	"citygrid/cases"
	"citygrid/grid"
	"citygrid/httpapi"
	"citygrid/postgres"
	"citygrid/tiles"
)

func runServe(ctx context.Context, cfg *Config, args []string, e *env) error {
	if len(args) > 0 {
		return fmt.Errorf("unexpected arguments %q", args)
	}
	pool, closeDB, err := openDatabase(ctx, cfg, e)
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
	index := grid.NewIndex(grid.LocatorOptions{ReportRes: cfg.H3Res, PixelM: cfg.PixelM, ToleranceM: cfg.ToleranceM})
	// Listen before loading, so that no change made meanwhile is missed:
	// another process (a replica, a CLI import) changed the grids: rebuild.
	err = listen(ctx, pool, postgres.GridsChannel, store.Instance, e, func(string) {
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

	caseIndex := caseindex.New()
	var page atomic.Pointer[httpapi.Server] // tells the page of other processes' changes
	reload, err := keepCaseIndexCurrent(ctx, pool, caseStore, caseIndex, store.Instance, e, func(c *cases.Case) {
		if api := page.Load(); api != nil {
			api.PublishCase(c)
		}
	})
	if err != nil {
		return err
	}
	start = time.Now()
	if err := caseStore.LoadCaseIndex(ctx, caseIndex); err != nil {
		return err
	}
	e.logger.Info("case index loaded", "cases", caseIndex.Len(), "elapsed", time.Since(start).Round(time.Millisecond))

	cacheControl, _ := cfg.tileCacheControl() // checked by Validate
	api := httpapi.New(httpapi.Config{
		TileCacheControl: cacheControl,
		CORSOrigin:       cfg.CORSOrigin,
		Tiles:            tiles.Options{PointZoom: cfg.TilePointZoom, MaxFeatures: cfg.TileMaxFeatures, CacheBytes: cfg.TileCacheBytes},
		MaxBodyBytes:     cfg.MaxBodyBytes,
		MaxImportBytes:   cfg.MaxImportBytes,
		RequestTimeout:   cfg.RequestTimeout,
		DuplicateRadiusM: cfg.DupRadiusM,
		DuplicateWindow:  cfg.DupWindow,
	}, httpapi.Deps{Grids: store, Cases: caseStore, Stats: caseStore, CaseIndex: caseIndex, Index: index, Ready: pool.Ping, Logger: e.logger,
		OnCaseChange: func(c *cases.Case) {
			if c == nil { // a bulk ingest: reload
				reload()
			}
		}})
	srv := &http.Server{
		Handler:           api,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       10*cfg.RequestTimeout + 10*time.Second,
		WriteTimeout:      10*cfg.RequestTimeout + 10*time.Second,
		IdleTimeout:       2 * time.Minute,
		BaseContext:       func(net.Listener) context.Context { return context.WithoutCancel(ctx) },
	}
	page.Store(api)
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

// keepCaseIndexCurrent follows other processes' case changes (one case:
// re-read it; a bulk ingest: reload everything), telling changed(c) of each
// (nil for a bulk), and returns a function that asks for a reload. Reloads
// are coalesced: one runs at a time, and requests during a reload cause one
// more. It returns once it listens: load the index after.
func keepCaseIndexCurrent(ctx context.Context, pool *pgxpool.Pool, store *postgres.CaseStore, x *caseindex.Index, self string, e *env, changed func(*cases.Case)) (func(), error) {
	want := make(chan struct{}, 1)
	reload := func() {
		select {
		case want <- struct{}{}:
		default:
		}
	}
	go func() {
		for {
			select {
			case <-ctx.Done():
				return
			case <-want:
				if err := store.LoadCaseIndex(ctx, x); err != nil && ctx.Err() == nil {
					e.logger.Error("reloading case index", "err", err)
				}
				changed(nil)
			}
		}
	}()
	err := listen(ctx, pool, postgres.CasesChannel, self, e, func(payload string) {
		_, idText, _ := strings.Cut(payload, " ")
		id, err := strconv.ParseInt(idText, 10, 64)
		if err != nil { // "bulk", or a reconnect: anything may have changed
			reload()
			return
		}
		c, err := store.FindCaseByID(ctx, id)
		if err != nil {
			reload()
			return
		}
		if err := x.Apply(caseindex.EntryOf(c)); err != nil {
			e.logger.Error("case index", "err", err)
		}
		changed(c)
	})
	return reload, err
}
