package backoffotel

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"syscall"
	"testing"
)

type timeoutErr struct{}

func (timeoutErr) Error() string   { return "timed out" }
func (timeoutErr) Timeout() bool   { return true }
func (timeoutErr) Temporary() bool { return true }

func TestErrorClass(t *testing.T) {
	for _, tc := range []struct {
		err  error
		want string
	}{
		{context.DeadlineExceeded, "timeout"},
		{os.ErrDeadlineExceeded, "timeout"},
		{fmt.Errorf("read: %w", timeoutErr{}), "timeout"},
		{&net.OpError{Op: "read", Err: timeoutErr{}}, "timeout"},
		{context.Canceled, "canceled"},
		{fmt.Errorf("x: %w", context.Canceled), "canceled"},
		{&tls.CertificateVerificationError{Err: errors.New("bad")}, "tls"},
		{tls.RecordHeaderError{Msg: "not tls"}, "tls"},
		{tls.AlertError(40), "tls"},
		{x509.HostnameError{}, "tls"},
		{&net.OpError{Op: "dial", Err: syscall.ECONNREFUSED}, "connection"},
		{&net.DNSError{Err: "no such host", IsNotFound: true}, "connection"},
		{syscall.ECONNRESET, "connection"},
		{io.ErrUnexpectedEOF, "connection"},
		{fmt.Errorf("wrapped: %w", io.EOF), "connection"},
		{net.ErrClosed, "connection"},
		{errors.New("connection refused"), "_OTHER"}, // by message: never
		{errors.New("x"), "_OTHER"},
	} {
		if got := classNames[errorClass(tc.err)]; got != tc.want {
			t.Errorf("errorClass(%#v) = %s, want %s", tc.err, got, tc.want)
		}
	}
	if errorClass(nil) != classNone {
		t.Error("errorClass(nil) is not classNone")
	}
}

func TestHostSet(t *testing.T) {
	s := newHostSet([]string{" API.example.com ", "files.example.com:8443", "[::1]", "[::2]:9000", "10.0.0.1", "_OTHER", "", "bad:port", "api.example.com"})
	for _, tc := range []struct {
		host, scheme string
		name         string
		port         uint16
	}{
		{"api.example.com", "https", "api.example.com", 443},
		{"api.example.com", "http", "api.example.com", 80},
		{"api.example.com", "ftp", "api.example.com", 0},
		{"API.EXAMPLE.COM:8080", "https", "api.example.com", 8080},
		{"files.example.com:8443", "https", "files.example.com", 8443},
		{"files.example.com", "https", "_OTHER", 0},
		{"files.example.com:443", "https", "_OTHER", 0},
		{"[::1]:8080", "http", "::1", 8080},
		{"[::1]", "https", "::1", 443},
		{"[::2]:9000", "http", "::2", 9000},
		{"[::2]:9001", "http", "_OTHER", 0},
		{"10.0.0.1:5000", "http", "10.0.0.1", 5000},
		{"10.0.0.2", "http", "_OTHER", 0},
		{"bad", "http", "_OTHER", 0},
		{"", "http", "_OTHER", 0},
		{"api.example.com:x", "http", "api.example.com", 0},
	} {
		i, port := s.lookup(tc.host, tc.scheme)
		if s.names[i] != tc.name || port != tc.port {
			t.Errorf("lookup(%q, %q) = %s, %d; want %s, %d", tc.host, tc.scheme, s.names[i], port, tc.name, tc.port)
		}
	}
	if len(s.names) != 2+5 {
		t.Errorf("entries %q: want 5 besides the unused one and _OTHER", s.names)
	}
}

func TestMethodIndex(t *testing.T) {
	for i, m := range methods {
		if methodName(methodIndex(m)) != m {
			t.Errorf("method %d: %s", i, m)
		}
	}
	for _, m := range []string{"get", "Post", "PURGE", "QUERY"} {
		if got := methodName(methodIndex(m)); got != "_OTHER" {
			t.Errorf("method %q: %s, want _OTHER", m, got)
		}
	}
	if methodName(methodIndex("")) != "GET" {
		t.Error("the empty method is not GET")
	}
}

func TestReasons(t *testing.T) {
	for _, r := range reasons {
		if reasonName(reasonIndex(r)) != string(r) {
			t.Errorf("reason %s", r)
		}
	}
	if got := reasonName(reasonIndex("unknown")); got != "_OTHER" {
		t.Errorf("an unknown reason: %s", got)
	}
}
