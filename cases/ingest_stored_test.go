package cases

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
)

// failingStore stores the first batch it is given and fails the rest.
type failingStore struct {
	memStore
	once sync.Once
}

func (f *failingStore) InsertCases(ctx context.Context, cs []*Case) (int, error) {
	n, err := -1, error(nil)
	f.once.Do(func() { n, err = f.memStore.InsertCases(ctx, cs) })
	if n < 0 {
		return 0, errors.New("the database went away")
	}
	return n, err
}

// TestIngestTellsStored: every case an ingest stores is handed to Stored
// once, with its id, as its batch is stored (a duplicate never); one that
// fails after storing a batch has handed over that batch.
func TestIngestTellsStored(t *testing.T) {
	lines := func(n int, prefix string) string {
		var b strings.Builder
		for i := range n {
			fmt.Fprintf(&b, `{"source":"s","external_id":"%s%d","category":"E0101","location":[120.36,36.08]}`+"\n", prefix, i)
		}
		return b.String()
	}
	tests := []struct {
		name         string
		body         string
		fail         bool
		wantAccepted int
		wantTold     int
		wantErr      bool
	}{
		{"one line", lines(1, "a"), false, 1, 1, false},
		{"three batches", lines(2*ingestBatch+1, "b"), false, 2*ingestBatch + 1, 2*ingestBatch + 1, false},
		{"a duplicate", lines(2, "d") + lines(1, "d"), false, 2, 2, false},
		{"nothing valid", `{"source":"s"}` + "\n", false, 0, 0, false},
		{"a failure after the first batch", lines(3*ingestBatch, "c"), true, 0, ingestBatch, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			store := &failingStore{}
			ing := fuzzIngester(t, &store.memStore)
			if tt.fail {
				ing.Store = store
			}
			var mu sync.Mutex
			told := map[int64]bool{}
			ing.Stored = func(_ uint64, cs []*Case) {
				mu.Lock()
				defer mu.Unlock()
				for _, c := range cs {
					if c.ID == 0 || told[c.ID] {
						t.Errorf("Stored given case %q with id %d (told before: %v)", c.ExternalID, c.ID, told[c.ID])
					}
					told[c.ID] = true
				}
			}
			res, err := ing.Ingest(context.Background(), strings.NewReader(tt.body), BulkNDJSON)
			if (err != nil) != tt.wantErr {
				t.Fatalf("Ingest error = %v, want error %v", err, tt.wantErr)
			}
			if err == nil && res.Accepted != tt.wantAccepted {
				t.Errorf("result %+v, want %d accepted", res, tt.wantAccepted)
			}
			if len(told) != tt.wantTold {
				t.Errorf("Stored told of %d cases, want %d", len(told), tt.wantTold)
			}
		})
	}
}
