# citygrid — the two commands a newcomer needs are `make run` and `make test`.
# Both install what they need (PostGIS, Go modules) on a fresh Debian 12.

GO ?= go
BIN := bin/citygrid

.PHONY: run test deps build vet bench fuzz clean

## run: serve the Shibei demo district on http://127.0.0.1:8080 (CITYGRID_ADDR to change)
run: deps build
	./$(BIN) serve -demo -demo-cases 100000

## test: vet; the battle map's pure modules under Node (20+, no packages); every Go test against a throwaway PostgreSQL + PostGIS (the battle map's in headless Chromium, the OGC API's with GDAL)
test: DEPS_FLAGS = --browser --gdal
test: deps
	$(GO) vet ./...
	node --test --test-reporter=dot web/jstest/*.test.js
	$(GO) test -count=1 -timeout 20m ./...

deps:
	./scripts/install-deps.sh $(DEPS_FLAGS)
	$(GO) mod download

build:
	$(GO) build -o $(BIN) ./cmd/citygrid

## bench: locator vs ST_Covers vs bare H3; HTTP ingest vs COPY; area queries, hotspots and tiles at 1,000,000 cases; then every scale figure at 1,000,000 and 10,000,000 cases in one run (BenchmarkScale, an hour)
bench: deps
	$(GO) test -run '^$$' -bench Locate -benchtime 2s ./postgres/
	$(GO) test -run '^$$' -bench Ingest -benchtime 1x -timeout 30m ./internal/bench/
	$(GO) test -run '^$$' -bench AreaQuery -benchtime 300x -timeout 30m ./internal/bench/
	$(GO) test -run '^$$' -bench Hotspots -benchtime 50x -timeout 30m ./internal/bench/
	$(GO) test -run '^$$' -bench Projects -benchtime 300x -timeout 60m ./internal/bench/   # issue 17: projects tiles, progress
	$(GO) test -run '^$$' -bench Tiles -benchtime 1x -timeout 30m ./internal/bench/
	$(GO) test -run '^$$' -bench Render -benchtime 200x ./tiles/
	$(GO) test -run '^$$' -bench OGCItems -benchtime 100x -timeout 30m ./internal/bench/
	$(GO) test -run '^$$' -bench Bulletin -benchtime 5x -timeout 30m ./internal/bench/  # issue 18: a district daily bulletin vs plain SQL
	$(GO) test -run '^$$' -bench Open311 -benchtime 1x -timeout 30m ./httpapi/  # issue 15: 10,000 concurrent submissions; a page of 1,000 vs /v1/cases
	$(GO) test -run '^$$' -bench ScaleMemory -benchtime 1x -timeout 1h ./internal/bench/
	$(GO) test -run '^$$' -bench 'Scale$$' -benchtime 1x -timeout 3h ./internal/bench/

## fuzz: fuzz the parsers for a while each
fuzz:
	$(GO) test -run '^$$' -fuzz FuzzParseFeatureCollection -fuzztime 60s ./grid/
	$(GO) test -run '^$$' -fuzz FuzzValidatePolygonal -fuzztime 60s ./geo/
	$(GO) test -run '^$$' -fuzz FuzzTilePolygon -fuzztime 60s ./tiles/
	$(GO) test -run '^$$' -fuzz FuzzIngest -fuzztime 60s ./cases/
	$(GO) test -run '^$$' -fuzz FuzzParseSites -fuzztime 60s ./campaign/
	$(GO) test -run '^$$' -fuzz FuzzParseSubmission -fuzztime 60s ./open311/
	$(GO) test -run '^$$' -fuzz FuzzParseRequestsQuery -fuzztime 60s ./open311/

## clean: remove the binary and the private database of this checkout (as root it lives under /var/lib/citygrid; citygrid data-dir says where)
clean:
	rm -rf bin .citygrid
	dir="$$(CITYGRID_DATA_DIR= $(GO) run ./cmd/citygrid data-dir)" && rm -rf "$$dir" "$$dir.snapshots" && echo "removed $$dir and its snapshots"
