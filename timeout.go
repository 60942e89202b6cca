package backoff

import (
	"context"
	"errors"
	"io"
)

var errAttemptTimeout = errors.New("backoff: attempt timed out waiting for the response headers")

// attemptTimeoutError is the error of an attempt cut off by AttemptTimeout.
type attemptTimeoutError struct{ err error }

func (e *attemptTimeoutError) Error() string {
	if e.err == nil {
		return errAttemptTimeout.Error()
	}
	return errAttemptTimeout.Error() + ": " + e.err.Error()
}
func (e *attemptTimeoutError) Unwrap() []error { return []error{errAttemptTimeout, e.err} }
func (e *attemptTimeoutError) Timeout() bool   { return true }
func (e *attemptTimeoutError) Temporary() bool { return true }

// sharedTimeoutError is the error of an attempt whose own AttemptTimeout
// did not fire, but which failed with the timeout of another attempt (of
// this call or of another), as net/http can report it on a request that
// shared a connection with the one that timed out. It is transient, as the
// timeout it wraps is, but it is not a timeout of this attempt.
type sharedTimeoutError struct{ err error }

func (e *sharedTimeoutError) Error() string {
	return "backoff: attempt failed by another attempt's timeout: " + e.err.Error()
}
func (e *sharedTimeoutError) Unwrap() error { return e.err }

// cancelOnClose releases an attempt's context when the body of the
// response it produced is closed.
type cancelOnClose struct {
	io.ReadCloser
	cancel context.CancelCauseFunc
}

func (b *cancelOnClose) Close() error {
	err := b.ReadCloser.Close()
	b.cancel(nil)
	return err
}

// cancelOnCloseWriter is a cancelOnClose whose body is also an io.Writer,
// as net/http makes the body of a 101 Switching Protocols response: the
// upgraded connection stays writable.
type cancelOnCloseWriter struct {
	cancelOnClose
	w io.Writer
}

func (b *cancelOnCloseWriter) Write(p []byte) (int, error) { return b.w.Write(p) }

// releaseOnClose returns body wrapped so that closing it calls cancel. The
// wrapper implements io.Writer when body does.
func releaseOnClose(body io.ReadCloser, cancel context.CancelCauseFunc) io.ReadCloser {
	if w, ok := body.(io.Writer); ok {
		return &cancelOnCloseWriter{cancelOnClose{ReadCloser: body, cancel: cancel}, w}
	}
	return &cancelOnClose{ReadCloser: body, cancel: cancel}
}
