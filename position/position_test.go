package position_test

import (
	"context"
	"errors"
	"testing"

	"citygrid/position"
)

func TestParse(t *testing.T) {
	tests := []struct {
		in   string
		want uint64
		err  error
	}{
		{"0", 0, nil},
		{"748", 748, nil},
		{"18446744073709551615", 1<<64 - 1, nil},
		{"18446744073709551616", 0, position.ErrMalformed},
		{"", 0, position.ErrMalformed},
		{"-1", 0, position.ErrMalformed},
		{"+1", 0, position.ErrMalformed},
		{" 1", 0, position.ErrMalformed},
		{"1e3", 0, position.ErrMalformed},
		{"0x10", 0, position.ErrMalformed},
		{"123456789012345678901", 0, position.ErrMalformed},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := position.Parse(tt.in)
			if got != tt.want || !errors.Is(err, tt.err) {
				t.Fatalf("Parse(%q) = %d, %v, want %d, %v", tt.in, got, err, tt.want, tt.err)
			}
			if err == nil && position.Format(got) != tt.in {
				t.Errorf("Format(%d) = %q, want %q", got, position.Format(got), tt.in)
			}
		})
	}
}

func FuzzParse(f *testing.F) {
	for _, s := range []string{"0", "12", "18446744073709551615", "x", "-3"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		p, err := position.Parse(s)
		if err == nil && position.Format(p) != s && !(len(s) > 1 && s[0] == '0') {
			t.Fatalf("Parse(%q) = %d, which formats as %q", s, p, position.Format(p))
		}
	})
}

func TestNote(t *testing.T) {
	position.Record(context.Background(), 5) // no note: nothing to do
	ctx, n := position.WithNote(context.Background())
	if _, ok := n.Max(); ok {
		t.Fatal("a fresh note has a position")
	}
	position.Record(ctx, 9)
	position.Record(ctx, 4)
	if p, ok := n.Max(); p != 9 || !ok {
		t.Errorf("Max() = %d, %v, want 9, true", p, ok)
	}
}
