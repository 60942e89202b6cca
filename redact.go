package backoff

import (
	"errors"
	"net/url"
	"strconv"
	"strings"
)

// redactURLs returns s with every URL in it cut down. A URL is found by its
// "://" and runs from there to the next white space, control character,
// quote, backquote or angle bracket; its authority ends at the first '/',
// '?' or '#', and its user info at the authority's last '@'.
//
// With full set, each URL is cut to scheme://host[:port]: its user info,
// path, query and fragment are dropped (a trailing run of punctuation, as
// in "GET http://host/path: ...", is kept). Otherwise only passwords are
// replaced by "***", as url.URL.Redacted does, and the rest is kept.
//
// It returns s itself, without allocating, when there is nothing to cut.
func redactURLs(s string, full bool) string {
	var b strings.Builder // empty until something is cut
	last := 0             // s[last:] is still to be copied
	for i := 0; ; {
		k := strings.Index(s[i:], "://")
		if k < 0 {
			break
		}
		start := i + k + 3 // the authority's first byte
		end := start
		for end < len(s) && !endsURL(s[end]) {
			end++
		}
		rest := s[start:end]
		auth := len(rest)
		if j := strings.IndexAny(rest, "/?#"); j >= 0 {
			auth = j
		}
		at := strings.LastIndexByte(rest[:auth], '@')
		var cut, keep string // rest[:len(cut)] is replaced by keep
		if full {
			trail := rest[auth:]
			trail = trail[len(strings.TrimRight(trail, ".,;:!)]}")):]
			if at < 0 && len(trail) == len(rest)-auth {
				i = end // nothing to drop
				continue
			}
			cut, keep = rest, rest[at+1:auth]+trail
			i = end // whatever the rest held is gone
		} else {
			i = start // a URL may hide in the path or the query
			if at < 0 {
				continue
			}
			colon := strings.IndexByte(rest[:at], ':')
			if colon < 0 || rest[colon+1:at] == "***" {
				continue // no password, or already redacted
			}
			cut, keep = rest[:at], rest[:colon+1]+"***"
			i = start + at
		}
		if b.Cap() == 0 {
			b.Grow(len(s) + 4) // enough unless short passwords become "***"
		}
		b.WriteString(s[last:start])
		b.WriteString(keep)
		last = start + len(cut)
	}
	if b.Cap() == 0 {
		return s
	}
	b.WriteString(s[last:])
	return b.String()
}

// endsURL reports whether c cannot be part of a URL in an error's text.
func endsURL(c byte) bool {
	return c <= ' ' || c == 0x7f || c == '"' || c == '\'' || c == '`' || c == '<' || c == '>'
}

// logText is the text of err as log lines show it: every URL in it cut
// down to scheme://host, and the URL of a *url.Error without a scheme
// ("host/path?query") cut down to its host.
func logText(err error) string {
	s := err.Error()
	var ue *url.Error
	if errors.As(err, &ue) && ue.URL != "" && !strings.Contains(ue.URL, "://") {
		host := ue.URL
		if j := strings.IndexAny(host, "/?#"); j >= 0 {
			host = host[:j]
		}
		host = host[strings.LastIndexByte(host, '@')+1:]
		s = strings.ReplaceAll(s, strconv.Quote(ue.URL), strconv.Quote(host))
	}
	return redactURLs(s, true)
}
