package backoff

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"time"
)

// Validate reports whether the Transport's configuration is valid: its
// Base (not a nil value of a concrete type), its Wait strategy, its
// RetryAfterStatuses (HTTP statuses, 100 to 599), BackoffLevel and
// GiveUpLevel (not nil values of a concrete type), its Budget, its Hedging,
// RetryAfterSpread, which must not be NaN or +Inf, ShouldRetryHeaders,
// which must be valid header names, and AttemptHeader,
// which must be a valid header name and not a reserved one, each as a
// [*ConfigError].
// A Transport that is not valid fails every request with this error,
// without sending it.
func (t *Transport) Validate() error {
	var errs []error
	if t.Base != nil && nilValue(t.Base) {
		errs = append(errs, typedNilError("Transport.Base", t.Base, "use a nil Base for a pooled transport of the Transport's own"))
	}
	if t.Wait != nil {
		errs = append(errs, validateWait("Transport.Wait", t.Wait))
	}
	for _, code := range t.RetryAfterStatuses {
		if code < 100 || code > 599 {
			errs = append(errs, &ConfigError{Field: "Transport.RetryAfterStatuses", Value: code, Msg: "must hold HTTP statuses, 100 to 599"})
		}
	}
	errs = append(errs, validateLevel("Transport.BackoffLevel", t.BackoffLevel), validateLevel("Transport.GiveUpLevel", t.GiveUpLevel))
	if t.Budget != nil {
		errs = append(errs, t.Budget.Validate())
	}
	if t.Hedging != nil {
		errs = append(errs, t.Hedging.validate())
	}
	if f := t.RetryAfterSpread; math.IsNaN(f) || math.IsInf(f, 1) {
		errs = append(errs, &ConfigError{Field: "Transport.RetryAfterSpread", Value: f, Msg: "must be a finite fraction (0: the default; negative: none)"})
	}
	for _, h := range t.ShouldRetryHeaders {
		if !validHeaderName(h) {
			errs = append(errs, &ConfigError{Field: "Transport.ShouldRetryHeaders", Value: fmt.Sprintf("%q", h), Msg: "must hold header field names (RFC 9110 tokens)"})
		}
	}
	switch h := t.AttemptHeader; {
	case h == "":
	case !validHeaderName(h):
		errs = append(errs, &ConfigError{Field: "Transport.AttemptHeader", Value: fmt.Sprintf("%q", h), Msg: "must be a header field name (RFC 9110 token)"})
	case reservedHeader(h):
		errs = append(errs, &ConfigError{Field: "Transport.AttemptHeader", Value: fmt.Sprintf("%q", h), Msg: "must not be a hop-by-hop or framing header, which HTTP/2 refuses or which would change the request"})
	}
	return errors.Join(errs...)
}

// reservedHeaders are the headers AttemptHeader must not name: hop-by-hop
// headers (RFC 9110, section 7.6.1; HTTP/2 refuses a request that carries
// them) and those that frame or route the request.
var reservedHeaders = []string{
	"Connection", "Keep-Alive", "Proxy-Connection", "Proxy-Authenticate", "Proxy-Authorization",
	"TE", "Trailer", "Transfer-Encoding", "Upgrade", "HTTP2-Settings",
	"Content-Length", "Host", "Expect",
}

// reservedHeader reports whether h names a header of reservedHeaders, in
// any case.
func reservedHeader(h string) bool {
	for _, r := range reservedHeaders {
		if strings.EqualFold(h, r) {
			return true
		}
	}
	return false
}

// validHeaderName reports whether s is an RFC 9110 token.
func validHeaderName(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		case strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0:
		default:
			return false
		}
	}
	return s != ""
}

func (t *Transport) bufferLimit() int64 {
	if t.cfg.BufferLimit == 0 {
		return DefaultBufferLimit
	}
	return t.cfg.BufferLimit
}

func (t *Transport) drainLimit() int64 {
	if t.cfg.DrainLimit == 0 {
		return DefaultDrainLimit
	}
	return t.cfg.DrainLimit
}

func (t *Transport) retryAfterSpread() float64 {
	switch {
	case t.cfg.RetryAfterSpread == 0:
		return DefaultRetryAfterSpread
	case t.cfg.RetryAfterSpread < 0:
		return 0
	}
	return t.cfg.RetryAfterSpread
}

func (t *Transport) maxRetryAfter() time.Duration {
	if t.cfg.MaxRetryAfter == 0 {
		return DefaultMaxRetryAfter
	}
	return t.cfg.MaxRetryAfter
}

// snapshot returns a copy of t's configuration, the exported fields, which
// the Transport reads from after its first use: a later change of a field
// is not seen, nor raced with.
func (t *Transport) snapshot() *Transport {
	return &Transport{
		Base:               t.Base,
		MaxAttempts:        t.MaxAttempts,
		MaxTime:            t.MaxTime,
		Wait:               t.Wait,
		Jitter:             t.Jitter,
		AttemptTimeout:     t.AttemptTimeout,
		Classify:           t.Classify,
		Idempotent:         t.Idempotent,
		RetryAfterStatuses: slices.Clone(t.RetryAfterStatuses),
		ShouldRetryHeaders: slices.Clone(t.ShouldRetryHeaders),
		MaxRetryAfter:      t.MaxRetryAfter,
		RetryAfterSpread:   t.RetryAfterSpread,
		BufferLimit:        t.BufferLimit,
		DrainLimit:         t.DrainLimit,
		Budget:             t.Budget,
		Hedging:            cloneHedging(t.Hedging),
		AttemptHeader:      t.AttemptHeader,
		AttemptHeaderValue: t.AttemptHeaderValue,
		SingleAttemptBelow: t.SingleAttemptBelow,
		Trace:              t.Trace,
		Logger:             t.Logger,
		BackoffLevel:       t.BackoffLevel,
		GiveUpLevel:        t.GiveUpLevel,
	}
}
