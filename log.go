package backoff

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
)

// logBackoff writes the backoff line of an event, if a logger is set.
func (p *Policy[T]) logBackoff(ctx context.Context, d *Details[T]) {
	if p.Logger == nil {
		return
	}
	level := levelOf(p.BackoffLevel, slog.LevelInfo)
	if !p.Logger.Enabled(ctx, level) {
		return
	}
	msg := fmt.Sprintf("Backing off %s(...) for %.1fs (%s)", d.Name, d.Wait.Seconds(), detail(d))
	p.Logger.LogAttrs(ctx, level, msg, attrs(d)...)
}

// logGiveUp writes the give-up line of an event, if a logger is set.
func (p *Policy[T]) logGiveUp(ctx context.Context, d *Details[T]) {
	if p.Logger == nil {
		return
	}
	level := slog.LevelError
	if d.Reason == ErrCanceled {
		level = levelOf(p.BackoffLevel, slog.LevelInfo)
	} else {
		level = levelOf(p.GiveUpLevel, level)
	}
	if !p.Logger.Enabled(ctx, level) {
		return
	}
	msg := fmt.Sprintf("Giving up %s(...) after %d tries (%s)", d.Name, d.Tries, detail(d))
	p.Logger.LogAttrs(ctx, level, msg, attrs(d)...)
}

// levelOf returns l's level, or def when l is nil or holds a nil value.
func levelOf(l slog.Leveler, def slog.Level) slog.Level {
	if l == nil || nilValue(l) {
		return def
	}
	return l.Level()
}

// detail is the part of a log line in parentheses: the error, the HTTP
// status, or the value, as Python's default handlers print them. The URLs
// in an error or a value are cut down to scheme://host (see logText).
func detail[T any](d *Details[T]) string {
	switch {
	case d.Err != nil:
		return logText(d.Err)
	case d.StatusCode != 0:
		return strconv.Itoa(d.StatusCode) + " " + http.StatusText(d.StatusCode)
	case d.Request != nil:
		return "response"
	}
	return redactURLs(fmt.Sprint(d.Value), true)
}

// attrs are the structured attributes of a log line.
func attrs[T any](d *Details[T]) []slog.Attr {
	a := make([]slog.Attr, 0, 10)
	a = append(a,
		slog.String("target", d.Name),
		slog.Int("tries", d.Tries),
		slog.Duration("elapsed", d.Elapsed),
	)
	if d.Reason != "" {
		a = append(a, slog.String("reason", string(d.Reason)))
	} else {
		a = append(a, slog.Duration("wait", d.Wait))
	}
	if d.Err != nil {
		a = append(a, slog.String("error", logText(d.Err)))
	}
	if d.Method != "" {
		a = append(a, slog.String("method", d.Method), slog.String("host", d.Host))
	}
	if d.StatusCode != 0 {
		a = append(a, slog.Int("status", d.StatusCode))
	}
	if d.RetryAfter != 0 {
		a = append(a, slog.Duration("retry_after", d.RetryAfter))
	}
	return a
}
