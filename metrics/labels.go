package metrics

import (
	"strconv"
	"strings"

	"github.com/f99b3bbb/backoff"
	"github.com/f99b3bbb/backoff/internal/errclass"
)

// other is the label value of everything outside a fixed set: a method
// that is not standard, a status code outside 100–599, a host outside the
// allow-list, an operation name past the limit.
const other = "other"

// methods are the standard methods that keep their own label value; every
// other method is labelled "other", at index len(methods).
var methods = [...]string{
	"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "TRACE", "CONNECT",
}

const numMethods = len(methods) + 1 // the standard methods and "other"

// methodIndex returns the index in methods of the method m, which may be
// in any case ("get" is GET), or len(methods) for any other method.
func methodIndex(m string) int {
	switch m { // the usual spelling, without a loop
	case "GET", "":
		return 0
	case "HEAD":
		return 1
	case "POST":
		return 2
	case "PUT":
		return 3
	case "PATCH":
		return 4
	case "DELETE":
		return 5
	case "OPTIONS":
		return 6
	case "TRACE":
		return 7
	case "CONNECT":
		return 8
	}
	for i, s := range methods {
		if strings.EqualFold(m, s) {
			return i
		}
	}
	return len(methods)
}

func methodLabel(i int) string {
	if i < len(methods) {
		return methods[i]
	}
	return other
}

// classes are the label values of the error classes of an attempt that
// failed without a response, indexed by class.
var classes = [errclass.NumClasses]string{
	errclass.Timeout:    "timeout",
	errclass.Connection: "connection",
	errclass.TLS:        "tls",
	errclass.Canceled:   "canceled",
	errclass.Other:      "error", // an error of no other class
}

// classIndex returns the index in classes of the class of err, which must
// not be nil: the class the Transport's own classification gives it (see
// errclass.Of), decided by the error's type and by the sentinel errors it
// wraps, never by its message.
func classIndex(err error) int { return int(errclass.Of(err)) }

// Status codes 100 to 599 keep their own label value; the attempt slots of
// a series hold them first, then the error classes, then "invalid", a
// status code outside that range.
const (
	minCode      = 100
	maxCode      = 599
	numCodes     = maxCode - minCode + 1
	slotInvalid  = numCodes + len(classes)
	numCodeSlots = slotInvalid + 1
)

// invalidCode is the code label of a response whose status code is
// outside 100–599.
const invalidCode = "invalid"

// codeSlot returns the slot of an HTTP attempt's outcome: its status code,
// or, without a response, its error class.
func codeSlot(code int, err error) int {
	switch {
	case err != nil:
		return numCodes + classIndex(err)
	case code >= minCode && code <= maxCode:
		return code - minCode
	}
	return slotInvalid
}

func codeLabel(slot int) string {
	switch {
	case slot < numCodes:
		return strconv.Itoa(slot + minCode)
	case slot < slotInvalid:
		return classes[slot-numCodes]
	}
	return invalidCode
}

// reasons are the give-up reasons that keep their own label value; any
// other is labelled "other", at index len(reasons).
var reasons = [...]backoff.Reason{
	backoff.ErrMaxAttempts, backoff.ErrMaxTime, backoff.ErrDeadline, backoff.ErrGiveUp,
	backoff.ErrExhausted, backoff.ErrCanceled, backoff.ErrRetryAfter,
	backoff.ErrNotReplayable, backoff.ErrBudget,
}

const numReasons = len(reasons) + 1

func reasonIndex(r backoff.Reason) int {
	for i, s := range reasons {
		if r == s {
			return i
		}
	}
	return len(reasons)
}

func reasonLabel(i int) string {
	if i < len(reasons) {
		return string(reasons[i])
	}
	return other
}

// endedByContext reports whether r is a reason the engine gives when the
// context ends a call, the only reasons of a call that ends during a wait.
func endedByContext(r backoff.Reason) bool {
	return r == backoff.ErrCanceled || r == backoff.ErrDeadline
}

// The reasons of an HTTP retry.
const (
	retryStatus     = 0 // a response with a retryable status
	retryTransport  = 1 // a transport error
	retryRetryAfter = 2 // a response with Retry-After, which sets the wait's floor
	numRetryReasons = 3
)

var retryReasons = [numRetryReasons]string{"status", "transport_error", "retry_after"}

func retryReasonLabel(i int) string { return retryReasons[i] }

// The outcomes of a Retry-After value.
const (
	raHonored   = 0 // a retry follows, no earlier than asked
	raRefused   = 1 // the call gave up because of it (reason retry_after)
	raUnused    = 2 // the call ended for another reason
	numOutcomes = 3
)

var outcomes = [numOutcomes]string{"honored", "refused", "unused"}

func outcomeLabel(i int) string { return outcomes[i] }

// Which attempt of a hedged request gave its answer.
const (
	winnerOriginal = 0 // the attempt the hedges were sent for
	winnerHedge    = 1 // one of its hedges
	numWinners     = 2
)

var winners = [numWinners]string{"original", "hedge"}

func winnerLabel(i int) string { return winners[i] }

// The outcomes of a request, for its duration.
const (
	reqSuccess     = 0 // a response with a status below 400
	reqFailure     = 1 // an error, or a status of 400 or more
	numReqOutcomes = 2
)

var reqOutcomes = [numReqOutcomes]string{"success", "failure"}

func reqOutcomeLabel(i int) string { return reqOutcomes[i] }

// reqOutcome is the outcome of the request an event ends.
func reqOutcome(e *backoff.Event) int {
	if e.Err == nil && e.Response != nil && e.Response.StatusCode < 400 {
		return reqSuccess
	}
	return reqFailure
}

// hostSet is the allow-list of hosts of WithHosts.
type hostSet struct {
	index map[string]int // lower-case host (with or without port) → label index
	names []string       // label values, then "other"
}

func newHostSet(hosts []string) *hostSet {
	s := &hostSet{index: make(map[string]int)}
	for _, h := range hosts {
		h = strings.ToValidUTF8(strings.ToLower(strings.TrimSpace(h)), "\uFFFD")
		if strings.HasPrefix(h, "[") && strings.HasSuffix(h, "]") {
			h = h[1 : len(h)-1] // a bracketed IPv6 address without port
		}
		if h == "" || h == other {
			continue
		}
		if _, dup := s.index[h]; dup {
			continue
		}
		s.index[h] = len(s.names)
		s.names = append(s.names, h)
	}
	s.names = append(s.names, other)
	return s
}

// lookup returns the label index of host, a URL's host with an optional
// port: an entry with a port matches that host and port only, an entry
// without one matches the host on any port. Hosts outside the list get
// the index of "other".
func (s *hostSet) lookup(host string) int {
	if i, ok := s.index[host]; ok {
		return i
	}
	if h, ok := hostname(host); ok {
		if i, ok := s.index[h]; ok {
			return i
		}
	}
	if lower := strings.ToLower(host); lower != host {
		return s.lookup(lower)
	}
	return len(s.names) - 1
}

// hostname returns host without its port and the brackets of an IPv6
// address, and whether it had a port. Unlike net.SplitHostPort it never
// allocates.
func hostname(host string) (string, bool) {
	i := strings.LastIndexByte(host, ':')
	if i < 0 || strings.IndexByte(host[:i], ':') >= 0 && !strings.HasPrefix(host, "[") {
		return "", false // no port, or an IPv6 address without brackets
	}
	h := host[:i]
	if strings.HasPrefix(h, "[") {
		if !strings.HasSuffix(h, "]") {
			return "", false
		}
		h = h[1 : len(h)-1]
	}
	return h, true
}
