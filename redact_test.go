package backoff_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strings"
	"syscall"
	"testing"
	"testing/synctest"
	"time"

	"github.com/f99b3bbb/backoff"
	"github.com/f99b3bbb/backoff/jitter"
	"github.com/f99b3bbb/backoff/strategy"
)

const secretURL = "http://alice:s3cr3t@auth.example.com:8443/v1/secret-path?api_key=K3Y#frag"

// secrets are the parts of secretURL no log line may hold.
var secrets = []string{"alice", "s3cr3t", "***", "v1", "secret-path", "api_key", "K3Y", "frag"}

func TestRedactURLs(t *testing.T) {
	tests := []struct {
		in, full, password string
	}{
		{"no URL at all", "no URL at all", "no URL at all"},
		{`Get "` + secretURL + `": EOF`, `Get "http://auth.example.com:8443": EOF`,
			`Get "http://alice:***@auth.example.com:8443/v1/secret-path?api_key=K3Y#frag": EOF`},
		{"fetch " + secretURL + ": status 500", "fetch http://auth.example.com:8443: status 500",
			"fetch http://alice:***@auth.example.com:8443/v1/secret-path?api_key=K3Y#frag: status 500"},
		{"https://host", "https://host", "https://host"},
		{"https://host/", "https://host", "https://host/"},
		{"see (https://host/a/b).", "see (https://host).", "see (https://host/a/b)."},
		{"https://bob@host/p", "https://host", "https://bob@host/p"},
		{"https://bob:@host", "https://host", "https://bob:***@host"},
		{"https://u:p@ss@host/x", "https://host", "https://u:***@host/x"},
		{"https://u:***@host/x", "https://host", "https://u:***@host/x"},
		{"a http://u:p@h/x b https://v:q@i?y c", "a http://h b https://i c", "a http://u:***@h/x b https://v:***@i?y c"},
		{"http://h/?next=http://u:p@evil/x", "http://h", "http://h/?next=http://u:***@evil/x"},
		{"'http://h/p'<http://i/q>`http://j/r`", "'http://h'<http://i>`http://j`", "'http://h/p'<http://i/q>`http://j/r`"},
		{"http://h/p\nnext line", "http://h\nnext line", "http://h/p\nnext line"},
		{"://h/p", "://h", "://h/p"},
		{"x:///etc/passwd", "x://", "x:///etc/passwd"},
		{"http://", "http://", "http://"},
		{"http://u:p@", "http://", "http://u:***@"},
		{"http://[::1]:80/p", "http://[::1]:80", "http://[::1]:80/p"},
	}
	for _, tt := range tests {
		if got := backoff.RedactURLs(tt.in, true); got != tt.full {
			t.Errorf("RedactURLs(%q, true) = %q, want %q", tt.in, got, tt.full)
		}
		if got := backoff.RedactURLs(tt.in, false); got != tt.password {
			t.Errorf("RedactURLs(%q, false) = %q, want %q", tt.in, got, tt.password)
		}
	}
}

func TestRedactURLsAllocations(t *testing.T) {
	for _, s := range []string{"connection refused", `Get "https://host:443": EOF`, `Get "https://host/p": EOF`} {
		full := testing.AllocsPerRun(100, func() { backoff.RedactURLs(s, true) })
		if want := 0.0; strings.Contains(s, "/p") {
			want = 1
			if full != want {
				t.Errorf("RedactURLs(%q, true): %v allocations, want %v", s, full, want)
			}
		} else if full != want {
			t.Errorf("RedactURLs(%q, true): %v allocations, want %v", s, full, want)
		}
		if n := testing.AllocsPerRun(100, func() { backoff.RedactURLs(s, false) }); n != 0 {
			t.Errorf("RedactURLs(%q, false): %v allocations, want 0", s, n)
		}
	}
}

// urlTails returns, for each "://" in s, what follows it up to the end of
// the URL (the same delimiters as the redaction's).
func urlTails(s string) []string {
	var tails []string
	for i := 0; ; {
		k := strings.Index(s[i:], "://")
		if k < 0 {
			return tails
		}
		start := i + k + 3
		end := strings.IndexFunc(s[start:], func(r rune) bool {
			return r <= ' ' || r == 0x7f || strings.ContainsRune("\"'`<>", r)
		})
		if end < 0 {
			end = len(s) - start
		}
		tails = append(tails, s[start:start+end])
		i = start
	}
}

func FuzzRedact(f *testing.F) {
	for _, s := range []string{"", "plain", `Get "` + secretURL + `": EOF`, "http://u:p@h/x?y#z",
		"a http://u:p@h/x b https://v:q@i?y", "http://h/?next=http://u:p@evil/x", "://", ":///", "http://u:p@ss@h",
		"http://u:***@h", "x://a://b@c/d", "http://h/p:.", "\x00http://h\x7f/p"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		full := backoff.RedactURLs(s, true)
		for _, tail := range urlTails(full) {
			// Only scheme://host[:port] is left, perhaps followed by
			// punctuation: no user info, path, query or fragment.
			if strings.ContainsAny(tail, "@/?#") {
				t.Fatalf("RedactURLs(%q, true) = %q: %q left after a scheme", s, full, tail)
			}
		}
		if again := backoff.RedactURLs(full, true); again != full {
			t.Fatalf("RedactURLs not stable: %q, then %q", full, again)
		}
		pw := backoff.RedactURLs(s, false)
		for _, tail := range urlTails(pw) {
			auth := tail
			if j := strings.IndexAny(auth, "/?#"); j >= 0 {
				auth = auth[:j]
			}
			at := strings.LastIndexByte(auth, '@')
			if at < 0 {
				continue
			}
			if c := strings.IndexByte(auth[:at], ':'); c >= 0 && auth[c+1:at] != "***" {
				t.Fatalf("RedactURLs(%q, false) = %q: password %q left", s, pw, auth[c+1:at])
			}
		}
		if again := backoff.RedactURLs(pw, false); again != pw {
			t.Fatalf("RedactURLs not stable: %q, then %q", pw, again)
		}
		// The user info of a URL that net/url parses with a password does
		// not survive (checked when it occurs only once in the input).
		for _, tail := range urlTails(s) {
			u, err := url.Parse("http://" + tail)
			if err != nil || u.User == nil {
				continue
			}
			if _, ok := u.User.Password(); !ok {
				continue
			}
			auth := tail
			if j := strings.IndexAny(auth, "/?#"); j >= 0 {
				auth = auth[:j]
			}
			userHost := auth // user info, '@', host
			if strings.Count(s, userHost) == 1 && !strings.HasPrefix(userHost[strings.IndexByte(userHost, ':')+1:], "***@") &&
				(strings.Contains(pw, userHost) || strings.Contains(full, userHost)) {
				t.Fatalf("RedactURLs(%q) = %q, %q: keeps %q", s, full, pw, userHost)
			}
		}
		if !strings.Contains(s, "://") && (full != s || pw != s) {
			t.Fatalf("RedactURLs changed %q without a URL: %q, %q", s, full, pw)
		}
	})
}

// logLines runs a Policy that fails twice with err and returns its log.
func logLines(t *testing.T, err error) string {
	t.Helper()
	var buf bytes.Buffer
	synctest.Test(t, func(t *testing.T) {
		p := &backoff.Policy[struct{}]{
			Wait: strategy.Constant{Interval: time.Second}, Jitter: jitter.None, MaxAttempts: 2,
			Logger: slog.New(slog.NewTextHandler(&buf, nil)),
		}
		p.Run(context.Background(), func(context.Context) error { return err })
	})
	return buf.String()
}

func TestLogRedactsURLsInErrors(t *testing.T) {
	inner := &url.Error{Op: "Get", URL: secretURL, Err: io.ErrUnexpectedEOF}
	tests := []struct {
		name string
		err  error
		host string // what the log keeps
	}{
		{"url.Error", inner, "http://auth.example.com:8443"},
		{"wrapped", fmt.Errorf("token: %w", inner), "http://auth.example.com:8443"},
		{"in a message", errors.New("token from " + secretURL + " refused"), "http://auth.example.com:8443 refused"},
		{"scheme-less url.Error", &url.Error{Op: "Get", URL: "alice:s3cr3t@auth.example.com/v1/secret-path?api_key=K3Y", Err: errors.New(`unsupported protocol scheme ""`)},
			`Get \"auth.example.com\"`}, // as the text handler quotes it
		{"path-only url.Error", &url.Error{Op: "Get", URL: "/v1/secret-path?api_key=K3Y", Err: errors.New(`unsupported protocol scheme ""`)},
			`Get \"\":`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			log := logLines(t, tt.err)
			if n := strings.Count(log, "\n"); n != 2 {
				t.Fatalf("%d log lines, want 2:\n%s", n, log)
			}
			for _, s := range secrets {
				if strings.Contains(log, s) {
					t.Errorf("log holds %q:\n%s", s, log)
				}
			}
			if strings.Count(log, tt.host) != 4 { // message and attribute, twice
				t.Errorf("log does not hold %q four times:\n%s", tt.host, log)
			}
		})
	}
}

// A Base that fetches a token through an inner http.Client: its errors
// carry the token URL, password stripped by net/http, path and query not.
func TestTransportLogRedactsInnerClientURL(t *testing.T) {
	refuse := rtFunc(func(*http.Request) (*http.Response, error) {
		return nil, &net.OpError{Op: "dial", Net: "tcp", Err: syscall.ECONNREFUSED}
	})
	innerClient := &http.Client{Transport: refuse}
	base := rtFunc(func(req *http.Request) (*http.Response, error) {
		resp, err := innerClient.Get(secretURL)
		if err != nil {
			return nil, err
		}
		resp.Body.Close()
		return nil, errors.New("unreachable")
	})
	var buf bytes.Buffer
	synctest.Test(t, func(t *testing.T) {
		tr := newTransport(base)
		tr.MaxAttempts = 2
		tr.Logger = slog.New(slog.NewJSONHandler(&buf, nil))
		req, _ := http.NewRequest("GET", "https://api.example.com/orders?page=2", nil)
		resp, err := tr.RoundTrip(req)
		if resp != nil || err == nil {
			t.Fatalf("RoundTrip = %v, %v; want the error", resp, err)
		}
		if s := err.Error(); strings.Contains(s, "s3cr3t") || !strings.Contains(s, "connection refused") {
			t.Errorf("error %q", s)
		}
	})
	log := buf.String()
	if n := strings.Count(log, "\n"); n != 2 {
		t.Fatalf("%d log lines, want 2:\n%s", n, log)
	}
	for _, s := range append(secrets, "orders", "page") {
		if strings.Contains(log, s) {
			t.Errorf("log holds %q:\n%s", s, log)
		}
	}
	if !strings.Contains(log, `"host":"api.example.com"`) || !strings.Contains(log, "http://auth.example.com:8443") {
		t.Errorf("log lost the hosts:\n%s", log)
	}
}

// The error returned to the caller hides passwords, as net/http does, and
// keeps the rest of the URL.
func TestErrorRedactsPasswords(t *testing.T) {
	u, _ := url.Parse(secretURL)
	for _, err := range []error{
		errors.New("fetch " + secretURL + " failed"),
		&url.Error{Op: "Get", URL: secretURL, Err: io.EOF},
	} {
		for _, e := range []*backoff.Error{
			{Reason: backoff.ErrMaxAttempts, Attempts: 2, Err: err},
			{Reason: backoff.ErrCanceled, Attempts: 1, Cause: err},
		} {
			s := e.Error()
			if strings.Contains(s, "s3cr3t") {
				t.Errorf("Error() = %q holds the password", s)
			}
			if want := strings.Replace(u.Redacted(), "xxxxx", "***", 1); !strings.Contains(s, want) {
				t.Errorf("Error() = %q; want it to hold %q", s, want)
			}
			if !errors.Is(e, err) {
				t.Errorf("errors.Is(%v, %v) = false", e, err)
			}
		}
	}
}
