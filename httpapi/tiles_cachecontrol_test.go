package httpapi

import "testing"

// TestPrivateCacheControl: a scoped tile keeps the configured directives
// that still apply to a private cache and drops those for shared ones.
func TestPrivateCacheControl(t *testing.T) {
	for cc, want := range map[string]string{
		"no-cache":                          "private, no-cache",
		"public, max-age=60":                "private, max-age=60",
		"max-age=30, s-maxage=300":          "private, max-age=30",
		"Public, no-cache, must-revalidate": "private, no-cache, must-revalidate",
		"private":                           "private",
		"":                                  "private",
	} {
		if got := privateCacheControl(cc); got != want {
			t.Errorf("privateCacheControl(%q) = %q, want %q", cc, got, want)
		}
	}
}
