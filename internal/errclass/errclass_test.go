package errclass

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"reflect"
	"syscall"
	"testing"
	"time"
)

// tlsErrors are one value of every TLS and certificate error type.
var tlsErrors = []error{
	&tls.CertificateVerificationError{Err: x509.UnknownAuthorityError{}},
	&tls.ECHRejectionError{},
	tls.RecordHeaderError{Msg: "first record does not look like a TLS handshake"},
	tls.AlertError(42),
	x509.UnknownAuthorityError{},
	x509.HostnameError{Host: "example.com"},
	x509.CertificateInvalidError{Reason: x509.Expired},
	x509.ConstraintViolationError{},
	x509.InsecureAlgorithmError(x509.SHA1WithRSA),
	x509.SystemRootsError{},
	x509.UnhandledCriticalExtension{},
}

// wrappings are the ways an error reaches a classifier.
var wrappings = []struct {
	name string
	wrap func(error) error
}{
	{"bare", func(err error) error { return err }},
	{"fmt", func(err error) error { return fmt.Errorf("attempt: %w", err) }},
	{"url", func(err error) error { return &url.Error{Op: "Get", URL: "https://x", Err: err} }},
	{"joined", func(err error) error { return errors.Join(errors.New("first"), err) }},
}

func TestTLSEveryType(t *testing.T) {
	for _, base := range tlsErrors {
		for _, w := range wrappings {
			err := w.wrap(base)
			name := fmt.Sprintf("%T/%s", base, w.name)
			if !IsTLS(err) {
				t.Errorf("%s: IsTLS false", name)
			}
			if Transient(err) {
				t.Errorf("%s: Transient true", name)
			}
			if got := Of(err); got != TLS {
				t.Errorf("%s: Of %d, want TLS", name, got)
			}
		}
	}
}

// timeoutError is a net.Error that reports a timeout.
type timeoutError struct{}

func (timeoutError) Error() string   { return "i/o timeout" }
func (timeoutError) Timeout() bool   { return true }
func (timeoutError) Temporary() bool { return true }

func dial(err error) error { return &net.OpError{Op: "dial", Net: "tcp", Err: err} }
func read(err error) error { return &net.OpError{Op: "read", Net: "tcp", Err: err} }

func TestClassify(t *testing.T) {
	tests := []struct {
		err       error
		transient bool
		neverSent bool
		class     Class
	}{
		{timeoutError{}, true, false, Timeout},
		{read(timeoutError{}), true, false, Timeout},
		{context.DeadlineExceeded, true, false, Timeout},
		{os.ErrDeadlineExceeded, true, false, Timeout},
		{context.Canceled, false, false, Canceled},
		{fmt.Errorf("x: %w", context.Canceled), false, false, Canceled},
		{dial(os.NewSyscallError("connect", syscall.ECONNREFUSED)), true, true, Connection},
		{syscall.ECONNREFUSED, true, true, Connection},
		{dial(errors.New("no route")), true, true, Connection},
		{read(syscall.ECONNRESET), true, false, Connection},
		{syscall.ECONNRESET, true, false, Connection},
		{syscall.ECONNABORTED, true, false, Connection},
		{fmt.Errorf("write: %w", syscall.EPIPE), true, false, Connection},
		{io.EOF, true, false, Connection},
		{io.ErrUnexpectedEOF, true, false, Connection},
		{net.ErrClosed, false, false, Connection},
		{&net.DNSError{Err: "no such host", Name: "x", IsNotFound: true}, false, false, Connection},
		{&net.DNSError{Err: "server misbehaving", Name: "x", IsTemporary: true}, true, false, Connection},
		{errors.New("boom"), false, false, Other},
		// The message is never read.
		{errors.New("i/o timeout: connection refused: tls: bad certificate"), false, false, Other},
		// A TLS error on a connection is a TLS error.
		{read(tls.AlertError(42)), false, false, TLS},
	}
	for _, c := range tests {
		for _, w := range wrappings[:3] {
			err := w.wrap(c.err)
			name := fmt.Sprintf("%T %v/%s", c.err, c.err, w.name)
			if got := Transient(err); got != c.transient {
				t.Errorf("%s: Transient %v, want %v", name, got, c.transient)
			}
			if got := NeverSent(err); got != c.neverSent {
				t.Errorf("%s: NeverSent %v, want %v", name, got, c.neverSent)
			}
			if got := Of(err); got != c.class {
				t.Errorf("%s: Of %d, want %d", name, got, c.class)
			}
		}
	}
	if NeverSent(nil) {
		t.Error("NeverSent(nil) is true")
	}
}

// Look-alike types of other packages are not HTTP/2 errors.
type StreamError struct{ Code uint32 }

func (StreamError) Error() string { return "stream error: REFUSED_STREAM" }

type GoAwayError struct{}

func (GoAwayError) Error() string { return "http2: server sent GOAWAY" }

func TestHTTP2LookAlikes(t *testing.T) {
	for _, err := range []error{StreamError{Code: http2RefusedStream}, GoAwayError{}} {
		if Transient(err) || NeverSent(err) {
			t.Errorf("%T is taken for an HTTP/2 error", err)
		}
	}
}

// h2Error returns the error of a GET over HTTP/2 without TLS whose stream
// the server answers with frame (type typ, on stream 1 or 0) and payload,
// then closes the connection.
func h2Error(t *testing.T, typ byte, stream uint32, payload []byte) error {
	t.Helper()
	frame := func(typ byte, stream uint32, payload []byte) []byte {
		h := []byte{byte(len(payload) >> 16), byte(len(payload) >> 8), byte(len(payload)), typ, 0, 0, 0, 0, 0}
		binary.BigEndian.PutUint32(h[5:], stream)
		return append(h, payload...)
	}
	tr := &http.Transport{Protocols: new(http.Protocols)}
	tr.Protocols.SetUnencryptedHTTP2(true)
	tr.DialContext = func(ctx context.Context, _, _ string) (net.Conn, error) {
		client, server := net.Pipe()
		go func() {
			defer server.Close()
			go io.Copy(io.Discard, server)
			server.Write(frame(0x4, 0, nil)) // SETTINGS
			time.Sleep(50 * time.Millisecond)
			server.Write(frame(typ, stream, payload))
			time.Sleep(50 * time.Millisecond)
		}()
		return client, nil
	}
	defer tr.CloseIdleConnections()
	req, _ := http.NewRequest("GET", "http://example.test/", nil)
	resp, err := tr.RoundTrip(req)
	if err == nil {
		resp.Body.Close()
		t.Fatal("RoundTrip succeeded")
	}
	return err
}

func TestHTTP2(t *testing.T) {
	// A stream error, INTERNAL_ERROR: not retried.
	streamErr := h2Error(t, 0x3, 1, binary.BigEndian.AppendUint32(nil, 0x2))
	if code, ok := http2StreamErrorCode(streamErr); !ok || code != 0x2 {
		t.Fatalf("%T %v: stream error code %d, %v; want 2, true", streamErr, streamErr, code, ok)
	}
	// The same type with REFUSED_STREAM: the request was not processed.
	var base error = streamErr
	for reflect.TypeOf(base).Kind() != reflect.Struct {
		base = errors.Unwrap(base)
	}
	v := reflect.New(reflect.TypeOf(base)).Elem()
	v.Set(reflect.ValueOf(base))
	v.FieldByName("Code").SetUint(http2RefusedStream)
	refused := v.Interface().(error)

	// GOAWAY with this stream as the last one, then the connection closes.
	goAway := h2Error(t, 0x7, 0, binary.BigEndian.AppendUint32(binary.BigEndian.AppendUint32(nil, 1), 0))
	if !isHTTP2GoAway(goAway) {
		t.Fatalf("%T %v: not recognised as a GOAWAY", goAway, goAway)
	}

	for _, c := range []struct {
		name                 string
		err                  error
		transient, neverSent bool
	}{
		{"stream error", streamErr, false, false},
		{"refused stream", refused, true, true},
		{"GOAWAY", goAway, true, false},
	} {
		for _, w := range wrappings[:3] {
			err := w.wrap(c.err)
			if got := Transient(err); got != c.transient {
				t.Errorf("%s/%s (%v): Transient %v, want %v", c.name, w.name, err, got, c.transient)
			}
			if got := NeverSent(err); got != c.neverSent {
				t.Errorf("%s/%s (%v): NeverSent %v, want %v", c.name, w.name, err, got, c.neverSent)
			}
		}
	}
}
