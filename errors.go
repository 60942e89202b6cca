package backoff

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// Reason says why a call gave up. The same values name give-ups in events
// ([Details.Reason], [Event.Reason]), in the [Error] returned to the
// caller, in log lines and in metric labels; the string form (max_tries,
// max_time, …) is the label value.
//
// Every Reason is an error, so errors.Is(err, backoff.ErrMaxAttempts) tells a
// caller why a call ended.
type Reason string

// The reasons the engine gives up. A [Transport] adds ErrRetryAfter,
// ErrNotReplayable and ErrBudget.
const (
	ErrMaxAttempts Reason = "max_tries" // the attempt limit was reached (Python's max_tries)
	ErrMaxTime     Reason = "max_time"  // the call's time limit was reached
	ErrDeadline    Reason = "deadline"  // the next wait would end after the context's deadline
	ErrGiveUp      Reason = "giveup"    // the GiveUp predicate said so
	ErrExhausted   Reason = "exhausted" // a finite wait strategy ran out
	ErrCanceled    Reason = "canceled"  // the context was cancelled
)

// Error implements the error interface.
func (r Reason) Error() string {
	switch r {
	case ErrMaxAttempts:
		return "backoff: max attempts reached"
	case ErrMaxTime:
		return "backoff: max time reached"
	case ErrDeadline:
		return "backoff: next wait would end after the context deadline"
	case ErrGiveUp:
		return "backoff: give-up predicate returned true"
	case ErrExhausted:
		return "backoff: wait strategy exhausted"
	case ErrCanceled:
		return "backoff: context canceled"
	case "":
		return "backoff: no reason (the call did not give up)"
	}
	if text, ok := transportReasonText(r); ok {
		return text
	}
	return "backoff: " + string(r)
}

// Error is the error returned when a call gives up. It records why, after
// how many attempts, and the last attempt's error. Its text replaces the
// password of any URL in it by "***", as url.URL.Redacted does.
//
// errors.Is and errors.As see through an Error to its Reason, to the last
// attempt's error and, for a cancelled call or a passed deadline, to the
// context's cause: errors.Is(err, backoff.ErrMaxAttempts),
// errors.Is(err, io.ErrUnexpectedEOF) and errors.Is(err, context.Canceled)
// all work on the same value. Its Timeout method tells whether the call
// ended on a timeout.
type Error struct {
	// Reason says why the call gave up.
	Reason Reason

	// Attempts is the number of attempts made, including the first.
	Attempts int

	// Elapsed is the time from the start of the call to the end of the last
	// attempt (or to the cancellation, for ErrCanceled).
	Elapsed time.Duration

	// Err is the last attempt's error; nil when the last attempt failed on
	// its value (a retried result) rather than with an error.
	Err error

	// Cause is context.Cause of the call's context when the call ended
	// because the context was cancelled or its deadline passed; else nil.
	Cause error
}

func (e *Error) Error() string {
	word := "attempts"
	if e.Attempts == 1 {
		word = "attempt"
	}
	s := fmt.Sprintf("backoff: giving up after %d %s (%s)", e.Attempts, word, string(e.Reason))
	if e.Cause != nil {
		s += ": " + e.Cause.Error()
	}
	if e.Err != nil {
		s += ": last error: " + e.Err.Error()
	}
	return redactURLs(s, false)
}

// Unwrap returns the reason, the context's cause and the last error, those
// that are set. For a call ended by its context it also returns
// context.Canceled or context.DeadlineExceeded, so that errors.Is finds
// them even when the context was cancelled with a cause of its own.
func (e *Error) Unwrap() []error {
	errs := make([]error, 0, 4)
	if e.Reason != "" {
		errs = append(errs, e.Reason)
	}
	if e.Cause != nil {
		errs = append(errs, e.Cause)
		switch e.Reason {
		case ErrCanceled:
			errs = append(errs, context.Canceled)
		case ErrDeadline:
			errs = append(errs, context.DeadlineExceeded)
		}
	}
	if e.Err != nil {
		errs = append(errs, e.Err)
	}
	return errs
}

// Timeout reports whether the call ended on a timeout: the last attempt's
// error is one (an error in its chain has a Timeout method that reports
// true, as the error of an attempt cut off by Transport.AttemptTimeout and
// a net.Error timeout do), or the call ended because of its context's
// deadline (Reason ErrDeadline: the deadline passed, or the next wait
// would have ended after it). An http.Client's url.Error reports it as its
// own Timeout.
func (e *Error) Timeout() bool {
	return e.Reason == ErrDeadline || isTimeout(e.Err)
}

// isTimeout reports whether err or any error in its chain has a Timeout
// method that reports true.
func isTimeout(err error) bool {
	for err != nil {
		if t, ok := err.(interface{ Timeout() bool }); ok && t.Timeout() {
			return true
		}
		switch u := err.(type) {
		case interface{ Unwrap() error }:
			err = u.Unwrap()
		case interface{ Unwrap() []error }:
			for _, e := range u.Unwrap() {
				if isTimeout(e) {
					return true
				}
			}
			return false
		default:
			return false
		}
	}
	return false
}

// ErrNilOperation is returned, without any attempt, when the operation
// given to [Policy.Do], [Policy.Run] or a Wrap method is nil.
var ErrNilOperation = errors.New("backoff: nil operation")

// ConfigError reports an invalid field of a configuration struct.
type ConfigError struct {
	Field string // the field, as Type.Field
	Value any    // the offending value
	Msg   string // what a valid value is
}

func (e *ConfigError) Error() string {
	return fmt.Sprintf("backoff: invalid %s %v: %s", e.Field, e.Value, e.Msg)
}
