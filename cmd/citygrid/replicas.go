package main

import (
	"context"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5/pgxpool"
)

// openReplicas connects to the streaming replicas named in urls (comma
// separated; empty: none). A replica is read-only and migrated by its
// primary, so it is only pinged; one that does not answer now is still
// used later (reads pass over it to the primary while it is down).
func openReplicas(ctx context.Context, urls string) ([]*pgxpool.Pool, error) {
	var pools []*pgxpool.Pool
	for _, url := range strings.Split(urls, ",") {
		if url = strings.TrimSpace(url); url == "" {
			continue
		}
		cfg, err := pgxpool.ParseConfig(url)
		if err != nil {
			closeReplicas(pools)
			return nil, fmt.Errorf("replica URL: %w", err)
		}
		cfg.ConnConfig.RuntimeParams["jit"] = "off"
		pool, err := pgxpool.NewWithConfig(ctx, cfg)
		if err != nil {
			closeReplicas(pools)
			return nil, fmt.Errorf("replica %s: %w", cfg.ConnConfig.Host, err)
		}
		pools = append(pools, pool)
	}
	return pools, nil
}

func closeReplicas(pools []*pgxpool.Pool) {
	for _, p := range pools {
		p.Close()
	}
}
