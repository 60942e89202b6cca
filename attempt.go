package backoff

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"strconv"
	"time"
)

// inflight is what an attempt holds while it runs, for abort: its
// request while the Base sends it, its context's cancel and timeout, and
// the context it was derived from.
type inflight struct {
	out    *http.Request
	cancel context.CancelCauseFunc
	timer  *time.Timer
	parent context.Context
}

// release closes the body of the request being sent and ends the
// attempt's context.
func (a *inflight) release() {
	if a.out != nil {
		closeBody(a.out)
	}
	if a.cancel != nil {
		if a.timer != nil {
			a.timer.Stop()
		}
		a.cancel(nil)
	}
	*a = inflight{}
}

// prepare starts attempt n under ctx (derived reports whether ctx is not
// the request's own context): its timeout, its number and its request,
// which st holds until exchange sends it. It fails only when the request's
// GetBody does, having released what it started.
func (c *call) prepare(ctx context.Context, n int, derived bool, st *inflight) (*http.Request, error) {
	st.parent = ctx
	if d := c.t.cfg.AttemptTimeout; d > 0 {
		var cancel context.CancelCauseFunc
		ctx, cancel = context.WithCancelCause(ctx)
		st.cancel, st.timer = cancel, time.AfterFunc(d, func() { cancel(errAttemptTimeout) })
		derived = true
	}
	if !c.single && (n > 1 || c.vals.attempt != 0) {
		// A retry, or a first attempt in a context that another
		// Transport's attempt numbered: this call's own number.
		ctx, derived = withAttempt(ctx, c.vals, n), true
	}
	r, err := c.request(ctx, n, derived)
	if err != nil {
		st.release()
		return nil, err
	}
	st.out = r
	return r, nil
}

// exchange sends the request r, which prepare made with st, through the
// Base, and returns its response or its error, never both.
func (c *call) exchange(r *http.Request, st *inflight) (*http.Response, error) {
	var resp *http.Response
	var err error
	if in := c.t.inner; in != nil {
		// The Base is a Transport: it makes one attempt, this one retries.
		resp, err = in.roundTrip(r, true)
	} else {
		resp, err = c.t.base.RoundTrip(r)
	}
	// From here on, the attempt's context is released below or by the
	// response's body.
	cancel, timer, parent := st.cancel, st.timer, st.parent
	*st = inflight{}
	if resp != nil && resp.Body == nil {
		resp.Body = http.NoBody // http.Client tolerates a nil Body too
	}
	if resp != nil && err != nil { // a base that breaks the contract
		resp.Body.Close()
		resp = nil
	}
	if err == nil && resp == nil {
		err = errNilResponse
	}
	fired := false
	if timer != nil {
		fired = !timer.Stop()
		switch {
		case fired:
			if resp != nil {
				resp.Body.Close()
				resp = nil
			}
			if parent.Err() != nil {
				// The caller's context ended too: that is what the
				// caller must see, not the attempt's timeout.
				err = context.Cause(parent)
			} else {
				err = &attemptTimeoutError{err: err}
			}
			cancel(nil)
		case err != nil:
			cancel(nil)
		default:
			resp.Body = releaseOnClose(resp.Body, cancel)
		}
	}
	if err != nil {
		if !fired && errors.Is(err, errAttemptTimeout) {
			// Another attempt's timeout, surfacing here through a
			// connection the two shared: not this attempt's own.
			err = &sharedTimeoutError{err: err}
		}
		return nil, err
	}
	return resp, nil
}

// request returns the request of attempt n, with ctx as its context
// (derived reports whether ctx is not the request's own context):
// the caller's request itself when nothing needs to change, else a shallow
// copy (the caller's request is never modified).
func (c *call) request(ctx context.Context, n int, derived bool) (*http.Request, error) {
	req := c.req
	var body io.ReadCloser
	var getBody func() (io.ReadCloser, error)
	switch {
	case req.Body == nil || req.Body == http.NoBody:
	case req.GetBody != nil:
		if n > 1 {
			b, err := req.GetBody()
			if err != nil || b == nil {
				if b != nil {
					b.Close()
				}
				return nil, &getBodyError{err: err}
			}
			body = b
		}
	case c.t.bufferLimit() < 0 || req.ContentLength > c.t.bufferLimit():
		// One attempt only (nothing is kept): replayable refuses any retry.
	case n == 1:
		c.body = &bodyRecorder{rc: req.Body, limit: c.t.bufferLimit(), size: req.ContentLength}
		body = c.body
		// Lets a layer below read the body ahead (to sign it), and net/http
		// resend it (HTTP/2).
		getBody = c.body.getBody
	default:
		body = io.NopCloser(bytes.NewReader(c.body.bytes()))
		getBody = c.body.getBody
	}
	header := c.t.cfg.AttemptHeader
	if body == nil && header == "" && !derived {
		return req, nil
	}
	r := req.WithContext(ctx)
	if body != nil {
		r.Body = body
	}
	if getBody != nil {
		r.GetBody = getBody
	}
	if header != "" {
		r.Header = req.Header.Clone()
		if r.Header == nil {
			r.Header = make(http.Header)
		}
		if f := c.t.cfg.AttemptHeaderValue; f != nil {
			r.Header.Set(header, f(n, c.max))
		} else {
			r.Header.Set(header, strconv.Itoa(n))
		}
	}
	return r, nil
}
