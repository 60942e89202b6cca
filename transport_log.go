package backoff

import (
	"context"
	"log/slog"
	"net/http"
	"strconv"
)

// logEvent writes the log line of a backoff or give-up event, if the
// Transport has a Logger.
func (t *Transport) logEvent(ctx context.Context, e *Event) {
	if t.cfg.Logger == nil {
		return
	}
	level := levelOf(t.cfg.BackoffLevel, slog.LevelInfo)
	var msg string
	switch {
	case e.Reason == "":
		msg = "Backing off " + target(e.Request) + " for " + logDuration(e.Wait) + " after " + attemptsText(e.Attempt)
	case e.Reason == ErrBudget:
		level = slog.LevelWarn
		msg = "Retry budget exhausted for " + target(e.Request) + " after " + attemptsText(e.Attempt)
	case e.Reason == ErrCanceled:
		msg = "Giving up " + target(e.Request) + " after " + attemptsText(e.Attempt)
	default:
		level = levelOf(t.cfg.GiveUpLevel, slog.LevelError)
		msg = "Giving up " + target(e.Request) + " after " + attemptsText(e.Attempt)
	}
	if !t.cfg.Logger.Enabled(ctx, level) {
		return
	}
	msg += " (" + outcomeText(e) + ")"
	t.cfg.Logger.LogAttrs(ctx, level, msg, eventAttrs(e)...)
}

// logHedge writes the log line of a hedge, at slog.LevelDebug, if the
// Transport has a Logger: "Hedging GET https://api.example after 15ms
// (attempt 2)".
func (t *Transport) logHedge(ctx context.Context, e *Event) {
	if t.cfg.Logger == nil || !t.cfg.Logger.Enabled(ctx, slog.LevelDebug) {
		return
	}
	method, host := methodHost(e.Request)
	t.cfg.Logger.LogAttrs(ctx, slog.LevelDebug,
		"Hedging "+target(e.Request)+" after "+logDuration(e.Elapsed)+" (attempt "+strconv.Itoa(e.Attempt)+")",
		slog.String("method", method),
		slog.String("host", host),
		slog.Int("attempts", e.Attempt),
		slog.Duration("elapsed", e.Elapsed),
		slog.Int("hedges", e.Hedges),
	)
}

// methodHost returns the method of req (GET for the empty one) and the
// host of its URL, as log lines give them.
func methodHost(req *http.Request) (method, host string) {
	method = req.Method
	if method == "" {
		method = http.MethodGet
	}
	if req.URL != nil {
		host = req.URL.Host
	}
	return method, host
}

// target names a request in a log line: its method and scheme://host,
// never its path, query or user info.
func target(req *http.Request) string {
	method, _ := methodHost(req)
	if req.URL == nil {
		return method
	}
	scheme := req.URL.Scheme
	if scheme == "" {
		scheme = "http"
	}
	return method + " " + scheme + "://" + req.URL.Host
}

// outcomeText is an attempt's outcome for a log line: its error (URLs cut
// down to scheme://host), or its status.
func outcomeText(e *Event) string {
	switch {
	case e.Err != nil:
		return logText(e.Err)
	case e.Response != nil:
		return strconv.Itoa(e.Response.StatusCode) + " " + http.StatusText(e.Response.StatusCode)
	}
	return "no response"
}

// eventAttrs are the structured attributes of a log line.
func eventAttrs(e *Event) []slog.Attr {
	a := make([]slog.Attr, 0, 8)
	method, host := methodHost(e.Request)
	a = append(a,
		slog.String("method", method),
		slog.String("host", host),
		slog.Int("attempts", e.Attempt),
		slog.Duration("elapsed", e.Elapsed),
	)
	if e.Reason != "" {
		a = append(a, slog.String("reason", string(e.Reason)))
	} else {
		a = append(a, slog.Duration("wait", e.Wait))
	}
	if e.Response != nil {
		a = append(a, slog.Int("status", e.Response.StatusCode))
	}
	if e.Err != nil {
		a = append(a, slog.String("error", logText(e.Err)))
	}
	if e.RetryAfter != 0 {
		a = append(a, slog.Duration("retry_after", e.RetryAfter))
	}
	return a
}
