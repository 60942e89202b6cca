package metrics

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"syscall"
	"testing"
)

func TestMethodLabel(t *testing.T) {
	for method, want := range map[string]string{
		"": "GET", "GET": "GET", "get": "GET", "Post": "POST", "HEAD": "HEAD", "PUT": "PUT",
		"PATCH": "PATCH", "DELETE": "DELETE", "OPTIONS": "OPTIONS", "TRACE": "TRACE",
		"CONNECT": "CONNECT", "PURGE": "other", "PROPFIND": "other", "GET /x": "other",
	} {
		if got := methodLabel(methodIndex(method)); got != want {
			t.Errorf("method %q: label %q, want %q", method, got, want)
		}
	}
}

func TestCodeLabel(t *testing.T) {
	for _, c := range []struct {
		code int
		err  error
		want string
	}{
		{200, nil, "200"}, {100, nil, "100"}, {599, nil, "599"}, {503, nil, "503"},
		{99, nil, "invalid"}, {600, nil, "invalid"}, {0, nil, "invalid"}, {-1, nil, "invalid"},
		{0, errors.New("boom"), "error"},
		{0, io.EOF, "connection"}, {200, context.Canceled, "canceled"},
	} {
		if got := codeLabel(codeSlot(c.code, c.err)); got != c.want {
			t.Errorf("code %d, error %v: label %q, want %q", c.code, c.err, got, c.want)
		}
	}
}

// timeoutError is an error of its own type that reports a timeout.
type timeoutError struct{}

func (timeoutError) Error() string { return "too slow" }
func (timeoutError) Timeout() bool { return true }

func TestErrorClass(t *testing.T) {
	dial := func(err error) error { return &net.OpError{Op: "dial", Net: "tcp", Err: err} }
	for _, c := range []struct {
		err  error
		want string
	}{
		{context.DeadlineExceeded, "timeout"},
		{fmt.Errorf("get: %w", context.DeadlineExceeded), "timeout"},
		{os.ErrDeadlineExceeded, "timeout"},
		{timeoutError{}, "timeout"},
		{dial(timeoutError{}), "timeout"},
		{&url.Error{Op: "Get", URL: "http://x", Err: timeoutError{}}, "timeout"},
		{context.Canceled, "canceled"},
		{fmt.Errorf("attempt: %w", context.Canceled), "canceled"},
		{&tls.CertificateVerificationError{Err: x509.UnknownAuthorityError{}}, "tls"},
		{x509.HostnameError{Host: "x"}, "tls"},
		{tls.RecordHeaderError{Msg: "first record does not look like a TLS handshake"}, "tls"},
		{tls.AlertError(40), "tls"},
		// Labelled "other" until the metrics and the Transport shared one
		// set of TLS and certificate errors.
		{x509.SystemRootsError{}, "tls"},
		{x509.InsecureAlgorithmError(x509.SHA1WithRSA), "tls"},
		{x509.UnhandledCriticalExtension{}, "tls"},
		{dial(os.NewSyscallError("connect", syscall.ECONNREFUSED)), "connection"},
		{syscall.ECONNRESET, "connection"},
		{fmt.Errorf("write: %w", syscall.EPIPE), "connection"},
		{&net.DNSError{Err: "no such host", Name: "x", IsNotFound: true}, "connection"},
		{io.ErrUnexpectedEOF, "connection"},
		{net.ErrClosed, "connection"},
		{errors.New("boom"), "error"},
		// The message is never read.
		{errors.New("i/o timeout: connection refused: tls: bad certificate"), "error"},
	} {
		if got := classes[classIndex(c.err)]; got != c.want {
			t.Errorf("%T %v: class %q, want %q", c.err, c.err, got, c.want)
		}
	}
}

func TestHostSet(t *testing.T) {
	s := newHostSet([]string{"api.example.com", " Svc.Internal:8443 ", "[::1]", "api.example.com", "", "other"})
	if want := []string{"api.example.com", "svc.internal:8443", "::1", "other"}; fmt.Sprint(s.names) != fmt.Sprint(want) {
		t.Errorf("names %q, want %q", s.names, want)
	}
	for host, want := range map[string]string{
		"api.example.com":      "api.example.com",
		"api.example.com:443":  "api.example.com",
		"API.Example.COM:8080": "api.example.com",
		"svc.internal:8443":    "svc.internal:8443",
		"svc.internal:9000":    "other",
		"svc.internal":         "other",
		"[::1]:8080":           "::1",
		"::1":                  "::1",
		"evil.example.com":     "other",
		"":                     "other",
	} {
		if got := s.names[s.lookup(host)]; got != want {
			t.Errorf("host %q: label %q, want %q", host, got, want)
		}
	}
	if n := testing.AllocsPerRun(100, func() { s.lookup("evil.example.com") }); n != 0 {
		t.Errorf("looking up a host not in the list allocates %v times", n)
	}
}
