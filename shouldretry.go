package backoff

import (
	"net/http"
	"strings"
)

// defaultShouldRetryHeaders are the fields, in canonical form, in which a
// server says whether a request should be retried, in the order in which
// they are consulted.
var defaultShouldRetryHeaders = []string{"X-Should-Retry", "Stripe-Should-Retry"}

// parseShouldRetry reads the first of the fields names (canonical keys)
// that h has a value for: its first value, without optional white space,
// is "true" or "false" in any case of ASCII letters. ok is false when h has
// none of the fields, or when that value is neither; later names are then
// not consulted.
func parseShouldRetry(h http.Header, names []string) (retry bool, ok bool) {
	for _, name := range names {
		v := h[name]
		if len(v) == 0 {
			continue
		}
		s := strings.Trim(v[0], " \t")
		switch {
		case equalFoldASCII(s, "true"):
			return true, true
		case equalFoldASCII(s, "false"):
			return false, true
		}
		return false, false
	}
	return false, false
}

// equalFoldASCII reports whether s is lower in any case of ASCII letters;
// lower is lower-case ASCII. Unlike strings.EqualFold it does not fold
// non-ASCII letters, such as U+017F (ſ) and U+212A (K), onto ASCII ones.
func equalFoldASCII(s, lower string) bool {
	if len(s) != len(lower) {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		if c != lower[i] {
			return false
		}
	}
	return true
}
