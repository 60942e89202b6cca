package backoff

import (
	"context"
	"fmt"
	"log/slog"
	"strconv"
	"time"
)

// logBackoff writes the backoff line of an event, if a logger is set:
// "Backing off NAME(...) for 250ms (ERROR)", Python backoff's line with a
// Go duration.
func (p *Policy[T]) logBackoff(ctx context.Context, d *Details[T]) {
	if p.Logger == nil {
		return
	}
	level := levelOf(p.BackoffLevel, slog.LevelInfo)
	if !p.Logger.Enabled(ctx, level) {
		return
	}
	msg := "Backing off " + d.Name + "(...) for " + logDuration(d.Wait) + " (" + detail(d) + ")"
	p.Logger.LogAttrs(ctx, level, msg, attrs(d)...)
}

// logGiveUp writes the give-up line of an event, if a logger is set:
// "Giving up NAME(...) after 3 attempts (ERROR)".
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
	msg := "Giving up " + d.Name + "(...) after " + attemptsText(d.Attempts) + " (" + detail(d) + ")"
	p.Logger.LogAttrs(ctx, level, msg, attrs(d)...)
}

// levelOf returns l's level, or def when l is nil or holds a nil value.
func levelOf(l slog.Leveler, def slog.Level) slog.Level {
	if l == nil || nilValue(l) {
		return def
	}
	return l.Level()
}

// logDuration formats a wait for a log line: to the millisecond from 1ms
// up ("250ms", "1.5s"), to the microsecond below.
func logDuration(d time.Duration) string {
	if d >= time.Millisecond || d <= -time.Millisecond {
		return d.Round(time.Millisecond).String()
	}
	return d.Round(time.Microsecond).String()
}

// attemptsText is "1 attempt" or "N attempts".
func attemptsText(n int) string {
	if n == 1 {
		return "1 attempt"
	}
	return strconv.Itoa(n) + " attempts"
}

// detail is the part of a log line in parentheses: the error, or the value,
// as Python's default handlers print them. The URLs in it are cut down to
// scheme://host (see logText).
func detail[T any](d *Details[T]) string {
	if d.Err != nil {
		return logText(d.Err)
	}
	return redactURLs(fmt.Sprint(d.Value), true)
}

// attrs are the structured attributes of a log line.
func attrs[T any](d *Details[T]) []slog.Attr {
	a := make([]slog.Attr, 0, 5)
	a = append(a,
		slog.String("target", d.Name),
		slog.Int("attempts", d.Attempts),
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
	return a
}
