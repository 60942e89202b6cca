package jitter_test

import (
	"fmt"
	"time"

	"github.com/f99b3bbb/backoff/jitter"
)

// The engine supplies the draw u; here it is pinned to show the range of
// each function for a 10s wait.
func Example() {
	d := 10 * time.Second
	for _, u := range []float64{0, 0.5, 0.9} {
		fmt.Printf("u=%.1f Full=%v Equal=%v Random=%v None=%v\n",
			u, jitter.Full(d, u), jitter.Equal(d, u), jitter.Random(d, u), jitter.None(d, u))
	}
	// Output:
	// u=0.0 Full=0s Equal=5s Random=10s None=10s
	// u=0.5 Full=5s Equal=7.5s Random=10.5s None=10s
	// u=0.9 Full=9s Equal=9.5s Random=10.9s None=10s
}

func ExampleFull() {
	fmt.Println(jitter.Full(4*time.Second, 0.25))
	// Output: 1s
}

// Upward never shortens a wait, which suits a Retry-After the server
// asked for: with f = 0.2 a 30s wait becomes 30s to 36s.
func ExampleUpward() {
	spread := jitter.Upward(0.2)
	fmt.Println(spread(30*time.Second, 0))
	fmt.Println(spread(30*time.Second, 0.5))
	// Output:
	// 30s
	// 33s
}
