// Package deploy holds what runs citygrid on several machines — the load
// balancer's configuration (haproxy.cfg) — and the test that brings the
// whole arrangement up on loopback: three citygrid processes behind
// HAProxy, a PostgreSQL primary and a streaming replica (README,
// "Operations").
package deploy
