//go:build race

package backoff_test

// raceEnabled reports whether the race detector is on.
const raceEnabled = true
