package backoff

import (
	"sync"
	"testing"
	"testing/synctest"
	"time"
)

func TestBudgetArithmetic(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := &Budget{} // 10%, 1/s, at most 100
		const host = "api.example.com:443"
		if got := b.Tokens(host); got != 10 {
			t.Fatalf("a new host starts with %v tokens, want 10 (ten seconds of MinPerSecond)", got)
		}
		for i := 0; i < 10; i++ {
			if !b.withdraw(host) {
				t.Fatalf("withdrawal %d refused with %v tokens", i+1, b.Tokens(host))
			}
		}
		if b.withdraw(host) {
			t.Fatalf("withdrawal allowed from an empty bucket")
		}
		// Ten requests earn one retry.
		for i := 0; i < 9; i++ {
			b.deposit(host)
		}
		if b.withdraw(host) {
			t.Errorf("withdrawal allowed after 9 requests at 10%%")
		}
		b.deposit(host)
		if !b.withdraw(host) {
			t.Errorf("withdrawal refused after 10 requests at 10%%")
		}
		// MinPerSecond refills with time.
		time.Sleep(2500 * time.Millisecond)
		if n := drain(b, host); n != 2 {
			t.Errorf("after 2.5s at 1/s: %d withdrawals, want 2", n)
		}
		// The bucket never holds more than MaxTokens.
		for i := 0; i < 5000; i++ {
			b.deposit(host)
		}
		time.Sleep(time.Hour)
		if n := drain(b, host); n != DefaultBudgetMaxTokens {
			t.Errorf("%d withdrawals from a full bucket, want %d", n, DefaultBudgetMaxTokens)
		}
		// Hosts are independent.
		if b.Tokens("other:80") != 10 {
			t.Errorf("another host's tokens = %v, want 10", b.Tokens("other:80"))
		}
	})
}

// drain withdraws from host's bucket until it is empty and returns the
// number of withdrawals.
func drain(b *Budget, host string) int {
	n := 0
	for b.withdraw(host) {
		n++
	}
	return n
}

func TestBudgetSettings(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		tests := []struct {
			b                  *Budget
			start, afterTen    float64 // tokens at the start and after 10 deposits
			afterSecond, maxed float64
		}{
			{&Budget{Ratio: 0.5, MinPerSecond: 2, MaxTokens: 30}, 20, 25, 27, 30},
			{&Budget{Ratio: -1, MinPerSecond: 1}, 10, 10, 11, 100},
			{&Budget{Ratio: 1, MinPerSecond: -1, MaxTokens: 0.5}, 0, 1, 1, 1},
		}
		for i, tt := range tests {
			b := tt.b
			h := "h"
			if got := b.Tokens(h); got != tt.start {
				t.Errorf("%d: start %v, want %v", i, got, tt.start)
			}
			for j := 0; j < 10; j++ {
				b.deposit(h)
			}
			if got := b.Tokens(h); got != tt.afterTen {
				t.Errorf("%d: after 10 deposits %v, want %v", i, got, tt.afterTen)
			}
			time.Sleep(time.Second)
			b.withdraw(h)
			if got := b.Tokens(h) + 1; got != tt.afterSecond && tt.afterSecond > 0 {
				t.Errorf("%d: after a second %v, want %v", i, got, tt.afterSecond)
			}
			time.Sleep(24 * time.Hour)
			for j := 0; j < 1000; j++ {
				b.deposit(h)
			}
			b.withdraw(h)
			if got := b.Tokens(h) + 1; got != tt.maxed {
				t.Errorf("%d: full at %v, want %v", i, got, tt.maxed)
			}
		}
	})
}

func TestBudgetConcurrent(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := &Budget{Ratio: 0.25}
		var mu sync.Mutex
		allowed := 0
		var wg sync.WaitGroup
		for g := 0; g < 50; g++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := 0; i < 200; i++ {
					b.deposit("h")
					if b.withdraw("h") {
						mu.Lock()
						allowed++
						mu.Unlock()
					}
				}
			}()
		}
		wg.Wait()
		// 10,000 requests earn 2,500 retries; the bucket started with 10
		// and no virtual time passed.
		if allowed != 2510 {
			t.Errorf("%d retries allowed, want 2510", allowed)
		}
	})
}

func TestNoBudget(t *testing.T) {
	for i := 0; i < 1000; i++ {
		if !NoBudget.withdraw("h") {
			t.Fatal("NoBudget refused a retry")
		}
	}
}

func BenchmarkBudget(b *testing.B) {
	b.ReportAllocs()
	bg := &Budget{}
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			bg.deposit("api.example.com:443")
		}
	})
}
