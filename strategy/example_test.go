package strategy_test

import (
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/f99b3bbb/backoff/strategy"
)

// waits prints the first n waits of st, as the engine would ask for them,
// and whether st was exhausted before.
func waits(st strategy.Strategy, n int) {
	var prev time.Duration
	for retry := 1; retry <= n; retry++ {
		w, ok := st.Next(strategy.State{Retry: retry, Prev: prev})
		if !ok {
			fmt.Printf("retry %d: give up\n", retry)
			return
		}
		fmt.Printf("retry %d: %v\n", retry, w)
		prev = w
	}
}

// Expo with a cap behaves as Python's expo(max_value=10).
func ExampleExpo() {
	waits(strategy.Expo{Max: 10 * time.Second}, 6)
	// Output:
	// retry 1: 1s
	// retry 2: 2s
	// retry 3: 4s
	// retry 4: 8s
	// retry 5: 10s
	// retry 6: 10s
}

// The first wait is Factor; Base is the ratio between waits.
func ExampleExpo_factor() {
	waits(strategy.Expo{Base: 3, Factor: 100 * time.Millisecond, Max: 5 * time.Second}, 6)
	// Output:
	// retry 1: 100ms
	// retry 2: 300ms
	// retry 3: 900ms
	// retry 4: 2.7s
	// retry 5: 5s
	// retry 6: 5s
}

func ExampleFibo() {
	waits(strategy.Fibo{Max: 10 * time.Second}, 8)
	// Output:
	// retry 1: 1s
	// retry 2: 1s
	// retry 3: 2s
	// retry 4: 3s
	// retry 5: 5s
	// retry 6: 8s
	// retry 7: 10s
	// retry 8: 10s
}

func ExampleDecay() {
	waits(strategy.Decay{Min: 20 * time.Millisecond}, 5)
	// Output:
	// retry 1: 1s
	// retry 2: 367.879441ms
	// retry 3: 135.335283ms
	// retry 4: 49.787068ms
	// retry 5: 20ms
}

// A Sequence runs out, which makes the engine give up, as Python's
// constant(interval=[...]) does.
func ExampleSequence() {
	waits(strategy.Sequence{100 * time.Millisecond, time.Second, 5 * time.Second}, 5)
	// Output:
	// retry 1: 100ms
	// retry 2: 1s
	// retry 3: 5s
	// retry 4: give up
}

// Runtime takes the wait from the server's Retry-After header, and falls
// back to exponential backoff when the response has none.
func ExampleRuntime() {
	st := strategy.Runtime{
		Value: func(v any, _ error) (time.Duration, bool) {
			resp, ok := v.(*http.Response)
			if !ok {
				return 0, false
			}
			secs, err := strconv.Atoi(resp.Header.Get("Retry-After"))
			if err != nil {
				return 0, false
			}
			return time.Duration(secs) * time.Second, true
		},
		Fallback: strategy.Expo{Factor: 100 * time.Millisecond},
	}

	responses := []*http.Response{
		{StatusCode: 429, Header: http.Header{"Retry-After": {"7"}}},
		{StatusCode: 503, Header: http.Header{}},
		{StatusCode: 503, Header: http.Header{}},
		{StatusCode: 429, Header: http.Header{"Retry-After": {"2"}}},
	}
	for i, resp := range responses {
		w, _ := st.Next(strategy.State{Retry: i + 1, Value: resp})
		fmt.Printf("retry %d after %d: %v\n", i+1, resp.StatusCode, w)
	}
	// Output:
	// retry 1 after 429: 7s
	// retry 2 after 503: 200ms
	// retry 3 after 503: 400ms
	// retry 4 after 429: 2s
}

// Decorrelated draws each wait from State.Rand, which the engine supplies;
// here it is pinned to 0.5.
func ExampleDecorrelated() {
	st := strategy.Decorrelated{Base: time.Second, Max: 10 * time.Second}
	var prev time.Duration
	for retry := 1; retry <= 5; retry++ {
		w, _ := st.Next(strategy.State{Retry: retry, Prev: prev, Rand: 0.5})
		fmt.Println(w)
		prev = w
	}
	// Output:
	// 2s
	// 3.5s
	// 5.75s
	// 9.125s
	// 10s
}

func ExampleCapped() {
	waits(strategy.Capped{Strategy: strategy.Linear{Step: 2 * time.Second}, Max: 6 * time.Second}, 5)
	// Output:
	// retry 1: 1s
	// retry 2: 3s
	// retry 3: 5s
	// retry 4: 6s
	// retry 5: 6s
}

func ExampleExpo_Validate() {
	fmt.Println(strategy.Expo{Base: 0.5, Max: time.Minute}.Validate())
	fmt.Println(strategy.Expo{Base: -2, Factor: -time.Second}.Validate())
	// Output:
	// <nil>
	// strategy: Expo.Base must be a finite number >= 0, got -2
	// strategy: Expo.Factor must be >= 0, got -1s
}
