package backoff

import "sync"

// BudgetStats is a summary of a Budget's state, for metrics.
type BudgetStats struct {
	// Hosts is the number of hosts with a bucket of their own: those that
	// spent tokens and have not earned them all back.
	Hosts int

	// Refusing is the number of hosts at least one of whose retries was
	// refused during the last whole second of the Budget's clock (seconds
	// counted from its first use). The hosts beyond MaxHosts count as one.
	Refusing int
}

// Stats returns a summary of b's state. Its cost does not depend on the
// number of hosts.
func (b *Budget) Stats() BudgetStats {
	if b.off {
		return BudgetStats{}
	}
	b.init()
	return BudgetStats{Hosts: int(b.hosts.Load()), Refusing: b.refused.last(b.second(b.now()))}
}

// refusals counts the distinct hosts refused per second of a Budget's
// clock, for the current second and the one before.
type refusals struct {
	mu        sync.Mutex
	sec       int64 // the second cur counts
	cur, prev int
}

// add counts a host refused during second sec, once per host and second.
func (r *refusals) add(sec int64) {
	r.mu.Lock()
	r.roll(sec)
	r.cur++
	r.mu.Unlock()
}

// last returns the hosts refused in the second before sec.
func (r *refusals) last(sec int64) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.roll(sec)
	return r.prev
}

func (r *refusals) roll(sec int64) {
	switch {
	case sec <= r.sec:
	case sec == r.sec+1:
		r.sec, r.prev, r.cur = sec, r.cur, 0
	default:
		r.sec, r.prev, r.cur = sec, 0, 0
	}
}
