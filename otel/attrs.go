package backoffotel

import (
	"net/http"
	"strconv"
	"strings"

	"github.com/f99b3bbb/backoff"
	"github.com/f99b3bbb/backoff/internal/errclass"
)

// other is the value of an attribute outside a fixed set: a method that is
// not known, a host outside the allow-list, an error of no known class, a
// reason unknown to this package. It is the value the conventions give
// http.request.method and error.type for that case.
const other = "_OTHER"

// methods are the methods the HTTP conventions know (RFC 9110 and PATCH);
// any other is "_OTHER", at index len(methods).
var methods = [...]string{
	"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "TRACE", "CONNECT",
}

// methodIndex returns the index in methods of m, or len(methods). Methods
// are case-sensitive, as the conventions say: "get" is not GET. The empty
// method is GET, as for net/http.
func methodIndex(m string) uint8 {
	switch m {
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
	return uint8(len(methods))
}

func methodName(i uint8) string {
	if int(i) < len(methods) {
		return methods[i]
	}
	return other
}

// The classes of the errors of attempts that got no response, the values of
// error.type for them: the same classes as the Prometheus metrics' code
// label, decided by the error's type and the sentinel errors it wraps,
// never by its message.
const (
	classNone       = iota // no error
	classTimeout           // a timeout or an exceeded deadline
	classCanceled          // context.Canceled
	classTLS               // a TLS or certificate error
	classConnection        // a failure to resolve, dial, read or write
	classOther             // anything else
	numClasses
)

var classNames = [numClasses]string{
	classTimeout:    "timeout",
	classCanceled:   "canceled",
	classTLS:        "tls",
	classConnection: "connection",
	classOther:      other,
}

// errorClass returns the class of err, classNone for nil: the class the
// Transport's own classification gives it (internal/errclass, shared with
// the Transport and the Prometheus metrics), decided by the error's type
// and the sentinel errors it wraps, never by its message.
func errorClass(err error) uint8 {
	if err == nil {
		return classNone
	}
	switch errclass.Of(err) {
	case errclass.Timeout:
		return classTimeout
	case errclass.Canceled:
		return classCanceled
	case errclass.TLS:
		return classTLS
	case errclass.Connection:
		return classConnection
	}
	return classOther
}

// Status codes outside 100–999 (net/http's client reads three digits)
// come from a RoundTripper that breaks the contract: they are reported
// without http.response.status_code, with error.type "_OTHER".
const (
	minStatus = 100
	maxStatus = 999
)

// status returns the status code of an event's response, 0 without one or
// for a code out of range, and whether it was out of range.
func status(resp *http.Response) (code uint16, bad bool) {
	if resp == nil {
		return 0, false
	}
	if c := resp.StatusCode; c >= minStatus && c <= maxStatus {
		return uint16(c), false
	}
	return 0, true
}

// statusText returns a status code as error.type gives it.
func statusText(code uint16) string { return strconv.Itoa(int(code)) }

// reasons are the give-up reasons that keep their own value of
// backoff.reason; any other is "_OTHER", at index len(reasons).
var reasons = [...]backoff.Reason{
	backoff.ErrMaxAttempts, backoff.ErrMaxTime, backoff.ErrDeadline, backoff.ErrGiveUp,
	backoff.ErrExhausted, backoff.ErrCanceled, backoff.ErrRetryAfter,
	backoff.ErrNotReplayable, backoff.ErrBudget,
}

func reasonIndex(r backoff.Reason) uint8 {
	for i, s := range reasons {
		if r == s {
			return uint8(i)
		}
	}
	return uint8(len(reasons))
}

func reasonName(i uint8) string {
	if int(i) < len(reasons) {
		return string(reasons[i])
	}
	return other
}

// hostSet is the allow-list of WithServerAddresses.
type hostSet struct {
	index map[string]uint16 // lower-case host, with or without port → entry
	names []string          // the server.address of each entry, from 1 (0 is unused)
	ports []uint16          // the port of each entry, 0 for any
}

// The host index of a request whose host is not in the allow-list; the
// entries of the list follow.
const hostOther = 1

func newHostSet(hosts []string) *hostSet {
	s := &hostSet{index: make(map[string]uint16), names: []string{"", other}, ports: []uint16{0, 0}}
	for _, h := range hosts {
		h = strings.ToValidUTF8(strings.ToLower(strings.TrimSpace(h)), "\uFFFD")
		name, port := h, uint16(0)
		if hn, p, ok := splitHostPort(h); ok {
			n, err := strconv.ParseUint(p, 10, 16)
			if err != nil || n == 0 {
				continue // not a port
			}
			name, port = hn, uint16(n)
		} else if strings.HasPrefix(h, "[") && strings.HasSuffix(h, "]") {
			name = h[1 : len(h)-1] // a bracketed IPv6 address without port
			h = name
		}
		if name == "" || name == strings.ToLower(other) || len(s.names) > 1<<16-1 {
			continue
		}
		if _, dup := s.index[h]; dup {
			continue
		}
		s.index[h] = uint16(len(s.names))
		s.names = append(s.names, name)
		s.ports = append(s.ports, port)
	}
	return s
}

// lookup returns the entry of the request URL's host (a host with an
// optional port) and the port of the request: the URL's, or that of its
// scheme. A host outside the list gets hostOther and no port.
func (s *hostSet) lookup(host, scheme string) (entry, port uint16) {
	i, ok := s.index[host]
	h, p, hasPort := splitHostPort(host)
	if !ok && hasPort {
		i, ok = s.index[h]
	}
	if !ok && !hasPort && len(host) > 2 && host[0] == '[' && host[len(host)-1] == ']' {
		i, ok = s.index[host[1:len(host)-1]] // a bracketed IPv6 address
	}
	if !ok {
		if lower := strings.ToLower(host); lower != host {
			return s.lookup(lower, scheme)
		}
		return hostOther, 0
	}
	if port = s.ports[i]; port != 0 {
		return i, port
	}
	if hasPort {
		if n, err := strconv.ParseUint(p, 10, 16); err == nil {
			return i, uint16(n)
		}
		return i, 0
	}
	switch scheme {
	case "http":
		return i, 80
	case "https":
		return i, 443
	}
	return i, 0
}

// splitHostPort splits host:port, with the brackets of an IPv6 address
// removed from the host, and reports whether there was a port. Unlike
// net.SplitHostPort it never allocates.
func splitHostPort(hostport string) (host, port string, ok bool) {
	i := strings.LastIndexByte(hostport, ':')
	if i < 0 || strings.IndexByte(hostport[:i], ':') >= 0 && !strings.HasPrefix(hostport, "[") {
		return "", "", false // no port, or an IPv6 address without brackets
	}
	host, port = hostport[:i], hostport[i+1:]
	if strings.HasPrefix(host, "[") {
		if !strings.HasSuffix(host, "]") {
			return "", "", false
		}
		host = host[1 : len(host)-1]
	}
	return host, port, true
}
