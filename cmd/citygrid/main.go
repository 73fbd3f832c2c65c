// Command citygrid runs the citygrid service and its tools.
//
//	citygrid serve              run the HTTP service
//	citygrid migrate            apply database migrations
//	citygrid import grids FILE  import a GeoJSON FeatureCollection of grids
//	citygrid demo               load the Shibei demo district
//	citygrid data-dir           print the directory of the private PostgreSQL cluster
//	citygrid keys create|list|revoke  make, list and revoke API keys
//	citygrid users create|list|disable  make, list and disable users
//
// Every setting has a flag and an environment variable; see -help.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := Run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}
