package postgres

import (
	"context"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
)

// Listen calls fn for every notification on channel that another process
// sent: payloads equal to self, or starting with self and a space, are this
// process's own announcements and skipped; until ctx ends. It holds
// one pooled connection, and reconnects after errors, calling fn once after
// each reconnect since notifications may have been missed meanwhile.
// listening (may be nil) is called once LISTEN is in place the first time:
// a caller that loads state after it misses no change made since.
func Listen(ctx context.Context, pool *pgxpool.Pool, channel, self string, logger *slog.Logger, fn func(payload string), listening func()) {
	first := true
	for ctx.Err() == nil {
		err := listenOnce(ctx, pool, channel, self, func(payload string) { fn(payload) }, func() {
			if !first {
				fn("reconnected")
			} else if listening != nil {
				listening()
			}
			first = false
		})
		if ctx.Err() != nil {
			return
		}
		logger.Warn("listen: connection lost, retrying", "channel", channel, "err", err)
		select {
		case <-ctx.Done():
			return
		case <-time.After(time.Second):
		}
	}
}

func listenOnce(ctx context.Context, pool *pgxpool.Pool, channel, self string, fn func(string), onListening func()) error {
	conn, err := pool.Acquire(ctx)
	if err != nil {
		return err
	}
	defer conn.Release()
	// LISTEN takes an identifier, not a parameter; channel is a constant of
	// this package, never user input.
	if _, err := conn.Exec(ctx, "LISTEN "+channel); err != nil {
		return err
	}
	defer conn.Exec(context.WithoutCancel(ctx), "UNLISTEN "+channel) //nolint:errcheck
	onListening()
	for {
		n, err := conn.Conn().WaitForNotification(ctx)
		if err != nil {
			return err
		}
		if n.Payload != self && !strings.HasPrefix(n.Payload, self+" ") {
			fn(n.Payload)
		}
	}
}

// CaseNotification reads a CasesChannel payload ("<instance> <id>", or
// "<instance> bulk"): the case id, or ok false when anything may have
// changed (a bulk ingest, or a reconnect after which notifications may
// have been missed).
func CaseNotification(payload string) (id int64, ok bool) {
	_, idText, _ := strings.Cut(payload, " ")
	id, err := strconv.ParseInt(idText, 10, 64)
	return id, err == nil
}
