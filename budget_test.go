package backoff

import (
	"fmt"
	"math"
	"runtime"
	"sync"
	"testing"
	"testing/synctest"
	"time"
)

const host = "api.example.com:443"

// drain withdraws from host's bucket until it is empty and returns the
// number of withdrawals.
func drain(b *Budget, host string) int {
	n := 0
	for b.withdraw(host) {
		n++
	}
	return n
}

func deposits(b *Budget, host string, n int) {
	for range n {
		b.deposit(host)
	}
}

func TestBudgetStartsFull(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := &Budget{}
		if got := b.Tokens(host); got != DefaultBudgetMaxTokens {
			t.Fatalf("a new host has %v tokens, want %v", got, DefaultBudgetMaxTokens)
		}
		if s := b.Stats(); s.Hosts != 0 {
			t.Fatalf("Tokens made a bucket: %+v", s)
		}
		// A cold start: 100 concurrent requests each fail once.
		if n := drain(b, host); n != DefaultBudgetMaxTokens {
			t.Errorf("%d retries from a new host's bucket, want %d", n, DefaultBudgetMaxTokens)
		}
		if other := b.Tokens("other.example"); other != DefaultBudgetMaxTokens {
			t.Errorf("another host has %v tokens, want %v: hosts are independent", other, DefaultBudgetMaxTokens)
		}
	})
}

func TestBudgetRatio(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := &Budget{}
		drain(b, host)
		// Ten requests earn one retry, exactly.
		deposits(b, host, 9)
		if b.withdraw(host) {
			t.Errorf("withdrawal allowed after 9 requests at 10%%")
		}
		b.deposit(host)
		if !b.withdraw(host) {
			t.Errorf("withdrawal refused after 10 requests at 10%%")
		}
		// With time, a bucket earns MinPerSecond, less what requests
		// earned meanwhile (the larger share, not the sum), in whole
		// tokens.
		time.Sleep(2500 * time.Millisecond)
		if got := b.Tokens(host); got != 1.5 {
			t.Errorf("after 2.5s at 1/s and a token earned by requests: %v tokens, want 1.5", got)
		}
		if n := drain(b, host); n != 1 {
			t.Errorf("after 2.5s: %d withdrawals, want 1", n)
		}
		time.Sleep(500 * time.Millisecond)
		if got := b.Tokens(host); got != 0.5 {
			t.Errorf("after half a second more: %v tokens, want 0.5 (no share of less than a token)", got)
		}
		time.Sleep(500 * time.Millisecond)
		if got := b.Tokens(host); got != 1.5 {
			t.Errorf("after a second more: %v tokens, want 1.5", got)
		}
	})
}

// TestBudgetLargerShare checks that a host earns the larger of Ratio per
// request and MinPerSecond per second, not their sum.
func TestBudgetLargerShare(t *testing.T) {
	tests := []struct {
		name     string
		every    time.Duration // between requests
		requests int
		want     int // retries earned
	}{
		// 100 requests a second for 10 s: 10% of 1000, not 100 + 10.
		{"under traffic: the ratio", 10 * time.Millisecond, 1000, 100},
		// A request every 2 s for 20 s: 1 a second, not 20 + 1.
		{"little traffic: the minimum rate", 2 * time.Second, 10, 20},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				b := &Budget{}
				drain(b, host)
				for range tt.requests {
					time.Sleep(tt.every)
					b.deposit(host)
				}
				if n := drain(b, host); n != tt.want {
					t.Errorf("%d retries earned, want %d", n, tt.want)
				}
			})
		})
	}
}

func TestBudgetSettings(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		tests := []struct {
			b               *Budget
			start, afterTen float64 // tokens at the start and after 10 deposits to an empty bucket
			afterSecond     float64 // and a second later
		}{
			{&Budget{Ratio: 0.5, MinPerSecond: 2, MaxTokens: 30}, 30, 5, 5},
			{&Budget{Ratio: 0.5, MinPerSecond: 10, MaxTokens: 30}, 30, 5, 10},
			{&Budget{Ratio: -1, MinPerSecond: 1}, 100, 0, 1},
			{&Budget{Ratio: 1, MinPerSecond: -1, MaxTokens: 0.5}, 1, 1, 1},
		}
		for i, tt := range tests {
			b := tt.b
			if got := b.Tokens(host); got != tt.start {
				t.Errorf("%d: start %v, want %v", i, got, tt.start)
			}
			drain(b, host)
			deposits(b, host, 10)
			if got := b.Tokens(host); got != tt.afterTen {
				t.Errorf("%d: after 10 deposits %v, want %v", i, got, tt.afterTen)
			}
			time.Sleep(time.Second)
			if got := b.Tokens(host); got != tt.afterSecond {
				t.Errorf("%d: a second later %v, want %v", i, got, tt.afterSecond)
			}
			time.Sleep(24 * time.Hour)
			if got := b.Tokens(host); tt.b.MinPerSecond > 0 && got != tt.start {
				t.Errorf("%d: a day later %v, want %v", i, got, tt.start)
			}
		}
	})
}

// TestBudgetDropsFull checks that a bucket is dropped once full, by
// requests or with time, and that Stats counts the buckets.
func TestBudgetDropsFull(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := &Budget{}
		b.withdraw(host)
		if s := b.Stats(); s.Hosts != 1 {
			t.Fatalf("after a retry: %+v, want 1 host", s)
		}
		deposits(b, host, 10) // full again
		if s := b.Stats(); s.Hosts != 0 {
			t.Errorf("full again by requests: %+v, want no host", s)
		}
		// Full again with time: dropped by the next sweep of its shard.
		b.withdraw(host)
		time.Sleep(sweepEvery)
		b.withdraw("a.example")
		key := budgetKey(host)
		for i := 0; b.shard(key).get(key) != nil && i < 10000; i++ {
			b.withdraw(fmt.Sprint("h", i, ".example")) // until one falls in host's shard
		}
		if b.Tokens(host) != DefaultBudgetMaxTokens {
			t.Errorf("a full bucket's host has %v tokens", b.Tokens(host))
		}
		if b.shard(key).get(key) != nil {
			t.Errorf("a bucket full with time is kept after a sweep")
		}
	})
}

// TestBudgetMaxHosts checks the hard bound on buckets, and that the hosts
// beyond it share one.
func TestBudgetMaxHosts(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := &Budget{MaxHosts: 3, MaxTokens: 2}
		for i := range 3 {
			drain(b, fmt.Sprint("h", i))
		}
		if s := b.Stats(); s.Hosts != 3 {
			t.Fatalf("%+v, want 3 hosts", s)
		}
		// Hosts beyond share the overflow bucket's 2 tokens.
		if !b.withdraw("x") || !b.withdraw("y") || b.withdraw("z") {
			t.Errorf("the hosts beyond MaxHosts do not share one bucket of 2 tokens")
		}
		if s := b.Stats(); s.Hosts != 3 {
			t.Errorf("%+v, want 3 hosts at most", s)
		}
		// Once the tracked hosts fill up again, new hosts get their own.
		time.Sleep(2 * time.Second)
		if n := drain(b, "new"); n != 2 {
			t.Errorf("a new host after the others filled up: %d retries, want 2", n)
		}
	})
}

// TestBudgetMemory checks that a million distinct hosts, each retried
// once, stay under the stated bound.
func TestBudgetMemory(t *testing.T) {
	hosts := 1_000_000
	if testing.Short() {
		hosts = 100_000
	}
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	b := &Budget{}
	for i := range hosts {
		b.withdraw(fmt.Sprintf("host%d.example:8443", i))
	}
	runtime.GC()
	runtime.ReadMemStats(&after)
	if s := b.Stats(); s.Hosts > DefaultBudgetMaxHosts {
		t.Errorf("%d hosts with a bucket, want at most %d", s.Hosts, DefaultBudgetMaxHosts)
	}
	grown := int64(after.HeapAlloc) - int64(before.HeapAlloc)
	t.Logf("%d hosts: %d buckets, heap grown by %.2f MB", hosts, b.Stats().Hosts, float64(grown)/1e6)
	if grown > 4e6 {
		t.Errorf("heap grew by %d bytes for %d hosts, want under 4 MB", grown, hosts)
	}
	runtime.KeepAlive(b)
}

func TestBudgetKeys(t *testing.T) {
	same := [][]string{
		{"api.example", "API.example", "api.example:80", "api.example:443", "api.example.", "Api.Example.:443", "api.example:"},
		{"api.example:8080", "API.EXAMPLE.:8080"},
		{"[::1]", "[0:0:0:0:0:0:0:1]:443", "::1", "[::1]:80"},
		{"[::1]:8080", "[0::1]:8080"},
		{"127.0.0.1", "[::ffff:127.0.0.1]", "127.0.0.1:80"},
		{"[fe80::1%en0]:9000", "[FE80::1%en0]:9000"},
	}
	for i, hosts := range same {
		if i > 0 && budgetKey(hosts[0]) == budgetKey(same[i-1][0]) {
			t.Errorf("%q and %q have one key", hosts[0], same[i-1][0])
		}
		for _, h := range hosts[1:] {
			if a, b := budgetKey(hosts[0]), budgetKey(h); a != b {
				t.Errorf("budgetKey(%q) = %q, budgetKey(%q) = %q: want one key", hosts[0], a, h, b)
			}
		}
		// Through the Budget: a retry to one is a retry to all.
		synctest.Test(t, func(t *testing.T) {
			b := &Budget{}
			b.withdraw(hosts[0])
			for _, h := range hosts[1:] {
				if got := b.Tokens(h); got != DefaultBudgetMaxTokens-1 {
					t.Errorf("Tokens(%q) = %v after a retry to %q", h, got, hosts[0])
				}
			}
		})
	}
	for _, h := range []string{"api.example.com", "api.example.com:443", "api.example.com:8443", "10.0.0.1:80"} {
		if n := testing.AllocsPerRun(100, func() { budgetKey(h) }); n != 0 {
			t.Errorf("budgetKey(%q): %v allocations, want 0", h, n)
		}
	}
}

// TestBudgetSaturates checks the arithmetic at the largest settings and
// times: an idle bucket keeps refilling, a level never overflows.
func TestBudgetSaturates(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := &Budget{Ratio: 1e6, MinPerSecond: 1e9, MaxTokens: 1e12}
		for i := range 5 {
			for range 1000 {
				b.withdraw(host)
			}
			time.Sleep(200 * 24 * time.Hour) // past 108 days, where int64(float) overflowed
			if got := b.Tokens(host); got != 1e12 {
				t.Fatalf("round %d: %v tokens after 200 idle days, want 1e12", i, got)
			}
			deposits(b, host, 1000)
			if got := b.Tokens(host); got != 1e12 {
				t.Fatalf("round %d: %v tokens after deposits to a full bucket, want 1e12", i, got)
			}
		}
	})
}

// TestBudgetRefusing checks Stats' count of hosts refused in the last
// whole second.
func TestBudgetRefusing(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := &Budget{MinPerSecond: -1}
		for _, h := range []string{"a", "b", "c"} {
			drain(b, h)
			b.withdraw(h) // refused again: one host still
		}
		if s := b.Stats(); s.Refusing != 0 {
			t.Errorf("during the second: %+v, want 0 (the last whole second had none)", s)
		}
		time.Sleep(time.Second)
		if s := b.Stats(); s.Refusing != 3 || s.Hosts != 3 {
			t.Errorf("a second later: %+v, want 3 refusing of 3", s)
		}
		b.withdraw("a")
		time.Sleep(time.Second)
		if s := b.Stats(); s.Refusing != 1 {
			t.Errorf("two seconds later: %+v, want 1 refusing", s)
		}
		time.Sleep(time.Minute)
		if s := b.Stats(); s.Refusing != 0 {
			t.Errorf("a minute later: %+v, want none refusing", s)
		}
	})
}

func TestBudgetConcurrent(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := &Budget{Ratio: 0.25}
		drain(b, "h")
		var mu sync.Mutex
		allowed := 0
		var wg sync.WaitGroup
		for range 50 {
			wg.Go(func() {
				for range 200 {
					b.deposit("h")
					if b.withdraw("h") {
						mu.Lock()
						allowed++
						mu.Unlock()
					}
				}
			})
		}
		wg.Wait()
		// 10,000 requests earn 2,500 retries; no virtual time passed.
		if allowed != 2500 {
			t.Errorf("%d retries allowed, want 2500", allowed)
		}
	})
}

func TestDisabledBudget(t *testing.T) {
	b := DisabledBudget()
	for range 1000 {
		if !b.withdraw("h") {
			t.Fatal("DisabledBudget refused a retry")
		}
	}
	if DisabledBudget() == b {
		t.Error("DisabledBudget returns a shared Budget")
	}
	if !math.IsInf(b.Tokens("h"), 1) || b.Stats() != (BudgetStats{}) {
		t.Errorf("DisabledBudget: Tokens %v, Stats %+v", b.Tokens("h"), b.Stats())
	}
}

// BenchmarkBudget measures the request path: every host full (no
// bucket), and a host with a bucket.
func BenchmarkBudget(b *testing.B) {
	b.Run("full", func(b *testing.B) {
		b.ReportAllocs()
		bg := &Budget{}
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				bg.deposit(host)
			}
		})
	})
	b.Run("bucket", func(b *testing.B) {
		b.ReportAllocs()
		bg := &Budget{Ratio: 1e-6, MinPerSecond: -1}
		drain(bg, host)
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				bg.deposit(host)
			}
		})
	})
}

// BenchmarkBudgetRead measures what a metrics scrape reads of a Budget,
// Stats and the Tokens of a host, after 10 or 1,000,000 distinct hosts
// were each retried once: it must cost the same.
func BenchmarkBudgetRead(b *testing.B) {
	for _, hosts := range []int{10, 1_000_000} {
		b.Run(fmt.Sprintf("hosts=%d", hosts), func(b *testing.B) {
			bg := &Budget{}
			for i := range hosts {
				bg.withdraw(fmt.Sprintf("host%d.example", i))
			}
			b.ReportAllocs()
			for b.Loop() {
				bg.Stats()
				bg.Tokens("host1.example")
			}
		})
	}
}

func TestSatAdd(t *testing.T) {
	const maxInt = math.MaxInt64
	tests := []struct {
		level int64
		n     float64
		max   int64
		want  int64
	}{
		{0, 0.5, 10, 0},
		{3, 4, 10, 7},
		{3, 7, 10, 10},
		{3, 1e300, 10, 10},
		{3, math.Inf(1), 10, 10},
		{2000, 1 << 62, maxInt, 2000 + 1<<62},
		{1 << 62, 1 << 62, maxInt, maxInt}, // float64(max-level) rounds up to 2⁶²
		{maxInt - 1, 1, maxInt, maxInt},
	}
	for _, tt := range tests {
		if got := satAdd(tt.level, tt.n, tt.max); got != tt.want {
			t.Errorf("satAdd(%d, %v, %d) = %d, want %d", tt.level, tt.n, tt.max, got, tt.want)
		}
	}
}
