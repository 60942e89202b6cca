package backoff

import (
	"errors"
	"net/http"

	"github.com/f99b3bbb/backoff/internal/errclass"
)

// Attempt is what a classifier knows about one attempt of a request.
type Attempt struct {
	// Request is the caller's request. It must not be modified.
	Request *http.Request

	// Response is the attempt's response, or nil when Err is set. A
	// classifier may read its status and headers, never its body.
	Response *http.Response

	// Err is the attempt's error, or nil when there is a response.
	Err error

	// Number is the attempt's number, 1 for the first.
	Number int
}

// DefaultClassify reports whether an attempt failed in a way worth
// retrying. It is what [Transport] uses when its Classify field is nil, and
// it is exported so that a custom classifier can wrap it.
//
// Retried: the statuses 408, 425, 429, 500, 502, 503 and 504, and the
// transport errors that are transient by their type: a failure to connect
// (including connection refused and temporary DNS failures), a connection
// reset or closed before the response (io.EOF, io.ErrUnexpectedEOF,
// ECONNRESET, EPIPE, ECONNABORTED), a timeout of the attempt itself
// (Transport.AttemptTimeout, or a net.Error whose Timeout method reports
// true), the AttemptTimeout of another attempt reported on this one (as
// net/http can for requests that share a connection), and an HTTP/2 stream
// refused by the server or a connection closed after a GOAWAY.
//
// Not retried: every other status (501 and 505 among them), certificate
// and other TLS errors, DNS "no such host", errors of the request itself
// (a malformed URL, scheme or header, which are not of the types above),
// and any error once the caller's own context is cancelled or past its
// deadline. Errors are classified by type (errors.Is and errors.As), never
// by their message.
//
// A server's own advice (X-Should-Retry and the other
// Transport.ShouldRetryHeaders) and its waits on Transport.RetryAfterStatuses
// are read by the Transport, above Classify, not by DefaultClassify.
//
// Whether the request may be sent again is a separate question that
// DefaultClassify does not answer: see Transport.Idempotent.
func DefaultClassify(a Attempt) bool {
	if a.Err == nil {
		if a.Response == nil {
			return false
		}
		code := a.Response.StatusCode
		return retryableStatus(code)
	}
	if a.Request != nil && a.Request.Context().Err() != nil {
		return false
	}
	return transientError(a.Err)
}

func retryableStatus(code int) bool {
	switch code {
	case http.StatusRequestTimeout, http.StatusTooEarly, http.StatusTooManyRequests,
		http.StatusInternalServerError, http.StatusBadGateway,
		http.StatusServiceUnavailable, http.StatusGatewayTimeout:
		return true
	}
	return false
}

// transientError reports whether err is a transport error of a type that
// says the failure is transient.
func transientError(err error) bool {
	if errors.Is(err, errAttemptTimeout) {
		// An attempt timeout, whoever's timer fired (net/http can report
		// one attempt's cancel cause on another request that shared its
		// connection), unless TLS failed.
		return !errclass.IsTLS(err)
	}
	// Not the caller's context (DefaultClassify checked it), nor an
	// attempt timeout: context.Canceled is a cancellation inside the base
	// transport, not transient.
	return errclass.Transient(err)
}

// neverSent reports whether err proves that the request never reached the
// server, so that sending it again cannot repeat its effect whatever its
// method.
func neverSent(err error) bool { return errclass.NeverSent(err) }

// DefaultIdempotent reports whether a request may be sent again after a
// failure that may have reached the server: its method is idempotent (GET,
// HEAD, OPTIONS, TRACE, PUT, DELETE; RFC 9110, section 9.2.2), or it
// carries an Idempotency-Key or X-Idempotency-Key header, as net/http's own
// retry rule has it. It is what [Transport] uses when its Idempotent field
// is nil.
func DefaultIdempotent(req *http.Request) bool {
	switch req.Method {
	case "", http.MethodGet, http.MethodHead, http.MethodOptions, http.MethodTrace,
		http.MethodPut, http.MethodDelete:
		return true
	}
	if _, ok := req.Header["Idempotency-Key"]; ok {
		return true
	}
	_, ok := req.Header["X-Idempotency-Key"]
	return ok
}
