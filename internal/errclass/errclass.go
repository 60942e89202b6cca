// Package errclass classifies the errors of an HTTP attempt that failed
// without a response, for the Transport (is it worth retrying, was the
// request never sent) and for the metrics (which label class it gets).
// Errors are classified by their type and by the sentinel errors they
// wrap, never by their message.
package errclass

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"io"
	"net"
	"os"
	"reflect"
	"syscall"
)

// IsTLS reports whether err is, or wraps, a TLS or certificate error: an
// error of the handshake (a TLS alert, a record that is not TLS, a
// rejected Encrypted Client Hello) or of the verification of the server's
// certificate chain (as crypto/tls reports it, or as crypto/x509 does,
// which a VerifyPeerCertificate or VerifyConnection callback may return
// bare). None of them goes away by sending the request again.
//
// A TLS handshake timeout is not among them: it is a timeout.
func IsTLS(err error) bool {
	var (
		verifyErr   *tls.CertificateVerificationError
		echErr      *tls.ECHRejectionError
		recordErr   tls.RecordHeaderError
		alertErr    tls.AlertError
		unknownAuth x509.UnknownAuthorityError
		hostErr     x509.HostnameError
		invalidErr  x509.CertificateInvalidError
		constErr    x509.ConstraintViolationError
		insecureErr x509.InsecureAlgorithmError
		rootsErr    x509.SystemRootsError
		criticalErr x509.UnhandledCriticalExtension
	)
	return errors.As(err, &verifyErr) || errors.As(err, &echErr) ||
		errors.As(err, &recordErr) || errors.As(err, &alertErr) ||
		errors.As(err, &unknownAuth) || errors.As(err, &hostErr) ||
		errors.As(err, &invalidErr) || errors.As(err, &constErr) ||
		errors.As(err, &insecureErr) || errors.As(err, &rootsErr) ||
		errors.As(err, &criticalErr)
}

// closedEarly reports whether err says that the connection failed or was
// closed before the response: refused, reset, aborted, a broken pipe, or
// an end of stream.
func closedEarly(err error) bool {
	return errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, syscall.ECONNRESET) ||
		errors.Is(err, syscall.ECONNABORTED) || errors.Is(err, syscall.EPIPE)
}

// Transient reports whether err is a transport error of a type that says
// the failure is transient: a failure to connect (connection refused, a
// DNS failure other than "no such host", any *net.OpError), a connection
// closed before the response, a deadline exceeded or a net.Error that
// reports a timeout, an HTTP/2 stream refused by the server, or a
// connection closed after an HTTP/2 GOAWAY. TLS errors and
// context.Canceled are not transient.
//
// It knows nothing of the caller's context nor of the Transport's own
// attempt timeout: the caller checks those first.
func Transient(err error) bool {
	switch {
	case IsTLS(err):
		return false
	case errors.Is(err, context.Canceled):
		return false
	}
	var dnsErr *net.DNSError
	if errors.As(err, &dnsErr) {
		return !dnsErr.IsNotFound
	}
	if closedEarly(err) || errors.Is(err, context.DeadlineExceeded) {
		return true
	}
	var opErr *net.OpError
	if errors.As(err, &opErr) {
		return true // dial, read or write on the connection
	}
	var netErr net.Error
	if errors.As(err, &netErr) && netErr.Timeout() {
		return true
	}
	if code, ok := http2StreamErrorCode(err); ok {
		return code == http2RefusedStream
	}
	return isHTTP2GoAway(err)
}

// NeverSent reports whether err proves that the request never reached the
// server, so that sending it again cannot repeat its effect whatever its
// method: the connection could not be made, or an HTTP/2 server refused
// the stream before processing it.
func NeverSent(err error) bool {
	if err == nil {
		return false
	}
	var opErr *net.OpError
	if errors.As(err, &opErr) && opErr.Op == "dial" {
		return true
	}
	if errors.Is(err, syscall.ECONNREFUSED) {
		return true
	}
	code, ok := http2StreamErrorCode(err)
	return ok && code == http2RefusedStream
}

// Class is the class of an error, as the metrics label it.
type Class int

// The classes, in the order of their label values.
const (
	Timeout    Class = iota // a timeout or an exceeded deadline
	Connection              // a failure to resolve, dial, read or write
	TLS                     // a TLS or certificate error
	Canceled                // context.Canceled
	Other                   // anything else
	NumClasses
)

// Of returns the class of err, which must not be nil, the first that
// applies of:
//
//   - Timeout: a net.Error (or any error with a Timeout method) that
//     reports a timeout, context.DeadlineExceeded, os.ErrDeadlineExceeded;
//   - Canceled: context.Canceled;
//   - TLS: a TLS or certificate error (see IsTLS);
//   - Connection: a failure to resolve, dial, read or write (*net.OpError,
//     *net.DNSError, ECONNREFUSED, ECONNRESET, ECONNABORTED, EPIPE,
//     net.ErrClosed) or a connection closed early (io.EOF,
//     io.ErrUnexpectedEOF);
//   - Other.
func Of(err error) Class {
	var timeout interface{ Timeout() bool }
	switch {
	case errors.Is(err, context.DeadlineExceeded), errors.Is(err, os.ErrDeadlineExceeded),
		errors.As(err, &timeout) && timeout.Timeout():
		return Timeout
	case errors.Is(err, context.Canceled):
		return Canceled
	case IsTLS(err):
		return TLS
	case connection(err):
		return Connection
	}
	return Other
}

func connection(err error) bool {
	var (
		opErr  *net.OpError
		dnsErr *net.DNSError
	)
	return errors.As(err, &opErr) || errors.As(err, &dnsErr) ||
		closedEarly(err) || errors.Is(err, net.ErrClosed)
}

// http2RefusedStream is the HTTP/2 error code REFUSED_STREAM.
const http2RefusedStream = 0x7

// http2StreamErrorCode returns the error code of an HTTP/2 stream error,
// from the Go standard library's bundled HTTP/2 transport or from
// golang.org/x/net/http2. Their types are not importable here (the
// bundled one is unexported), so they are recognised by their type's
// package and name and read through reflection: by type, not by message.
func http2StreamErrorCode(err error) (uint64, bool) {
	for err != nil {
		if code, ok := streamErrorCode(err); ok {
			return code, true
		}
		u, ok := err.(interface{ Unwrap() error })
		if !ok {
			return 0, false
		}
		err = u.Unwrap()
	}
	return 0, false
}

func streamErrorCode(err error) (uint64, bool) {
	v := reflect.ValueOf(err)
	t := v.Type()
	if !(t.PkgPath() == "net/http" && t.Name() == "http2StreamError") &&
		!(t.PkgPath() == "golang.org/x/net/http2" && t.Name() == "StreamError") {
		return 0, false
	}
	if t.Kind() != reflect.Struct {
		return 0, false
	}
	f := v.FieldByName("Code")
	if !f.IsValid() || f.Kind() != reflect.Uint32 {
		return 0, false
	}
	return f.Uint(), true
}

// isHTTP2GoAway reports whether err is the error of a connection that an
// HTTP/2 server closed after a GOAWAY frame.
func isHTTP2GoAway(err error) bool {
	for err != nil {
		t := reflect.TypeOf(err)
		if (t.PkgPath() == "net/http" && t.Name() == "http2GoAwayError") ||
			(t.PkgPath() == "golang.org/x/net/http2" && t.Name() == "GoAwayError") {
			return true
		}
		u, ok := err.(interface{ Unwrap() error })
		if !ok {
			return false
		}
		err = u.Unwrap()
	}
	return false
}
