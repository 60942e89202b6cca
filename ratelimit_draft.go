package backoff

import (
	"strings"
	"time"
)

// The RateLimit field of the IETF drafts (draft-ietf-httpapi-ratelimit-headers):
// the current list of service limits, draft 07's dictionary, and the
// scanner of their structured-field syntax (RFC 9651).

// limitList reads the lines of the current draft's RateLimit field: every
// well-formed line, each a list of service-limit items.
func limitList(lines []string) (time.Duration, limitVerdict) {
	var all limitItems
	for _, line := range lines {
		if items, ok := parseLimitList(line); ok {
			all.merge(items)
		}
	}
	return all.answer()
}

// limitItems sums up the valid service-limit items seen.
type limitItems struct {
	valid   bool          // at least one valid item
	usedUp  bool          // an item with r=0 and a t
	noReset bool          // an item with r=0 and no t
	wait    time.Duration // the largest t of the used-up items
}

func (a *limitItems) merge(b limitItems) {
	a.valid = a.valid || b.valid
	a.usedUp = a.usedUp || b.usedUp
	a.noReset = a.noReset || b.noReset
	a.wait = max(a.wait, b.wait)
}

func (a *limitItems) add(r, t string, hasT bool) {
	rem, ok := parseDecimal(r)
	if !ok {
		return
	}
	var reset decimal
	if hasT {
		if reset, ok = parseDecimal(t); !ok {
			return
		}
	}
	a.valid = true
	switch {
	case !rem.isZero(): // quota left
	case hasT:
		a.usedUp = true
		a.wait = max(a.wait, reset.duration())
	default:
		a.noReset = true
	}
}

func (a *limitItems) answer() (time.Duration, limitVerdict) {
	switch {
	case a.usedUp:
		return a.wait, usedUp
	case a.noReset || !a.valid:
		return 0, noAnswer
	}
	return 0, quotaLeft
}

// parseLimitList parses one line of the current draft's RateLimit field,
// a structured-field list: items (any bare item names the policy) with
// parameters, of which r and t are read. It reports false for a line that
// is not a list.
func parseLimitList(line string) (limitItems, bool) {
	var items limitItems
	p := sfScanner{s: line}
	if p.done() {
		return items, false
	}
	for {
		if _, ok := p.bareItem(); !ok {
			return items, false
		}
		var r, t string
		var hasR, hasT bool
		for p.eat(';') {
			k, v, ok := p.param()
			if !ok {
				return items, false
			}
			switch k {
			case "r":
				r, hasR = v, true
			case "t":
				t, hasT = v, true
			}
		}
		if hasR {
			items.add(r, t, hasT)
		}
		if p.done() {
			return items, true
		}
		if !p.eat(',') || p.done() {
			return items, false
		}
	}
}

// limitDict reads the lines of draft 07's RateLimit field: the first
// that is a dictionary with a valid remaining, and a valid reset if
// remaining is 0.
func limitDict(lines []string) (time.Duration, limitVerdict) {
	for _, line := range lines {
		remaining, reset, ok := parseLimitDict(line)
		if !ok {
			continue
		}
		if d, v := remainingDelta(remaining, reset); v != noAnswer {
			return d, v
		}
	}
	return 0, noAnswer
}

// parseLimitDict parses one line of draft 07's RateLimit field, a
// structured-field dictionary, and returns the values of its remaining and
// reset keys ("" when absent). It reports false for a line that is not a
// dictionary.
func parseLimitDict(line string) (remaining, reset string, ok bool) {
	p := sfScanner{s: line}
	if p.done() {
		return "", "", false
	}
	for {
		k, v, ok := p.param() // a member is a key and a value, like a parameter
		if !ok {
			return "", "", false
		}
		for p.eat(';') {
			if _, _, ok := p.param(); !ok {
				return "", "", false
			}
		}
		switch k {
		case "remaining":
			remaining = v
		case "reset":
			reset = v
		}
		if p.done() {
			return remaining, reset, true
		}
		if !p.eat(',') || p.done() {
			return "", "", false
		}
	}
}

// sfScanner reads a structured field value (RFC 9651) leniently: optional
// white space is allowed around every delimiter, any number of digits in a
// number, and nothing is unescaped or allocated: values are substrings of
// s.
type sfScanner struct {
	s string
	i int
}

func (p *sfScanner) ows() {
	for p.i < len(p.s) && (p.s[p.i] == ' ' || p.s[p.i] == '\t') {
		p.i++
	}
}

// done skips white space and reports whether nothing is left.
func (p *sfScanner) done() bool {
	p.ows()
	return p.i == len(p.s)
}

// eat skips white space and the byte c, if c is next.
func (p *sfScanner) eat(c byte) bool {
	p.ows()
	if p.i < len(p.s) && p.s[p.i] == c {
		p.i++
		return true
	}
	return false
}

// param reads a key and, after "=", its bare item; a key alone has the
// value "?1" (Boolean true).
func (p *sfScanner) param() (key, value string, ok bool) {
	if key, ok = p.key(); !ok {
		return "", "", false
	}
	if !p.eat('=') {
		return key, "?1", true
	}
	p.ows()
	value, ok = p.bareItem()
	return key, value, ok
}

// key reads ( lcalpha / "*" ) *( lcalpha / DIGIT / "_" / "-" / "." / "*" ).
func (p *sfScanner) key() (string, bool) {
	p.ows()
	start := p.i
	for p.i < len(p.s) {
		c := p.s[p.i]
		if !('a' <= c && c <= 'z' || c == '*' ||
			p.i > start && ('0' <= c && c <= '9' || c == '_' || c == '-' || c == '.')) {
			break
		}
		p.i++
	}
	return p.s[start:p.i], p.i > start
}

// bareItem reads a string, token, number, byte sequence or Boolean and
// returns its text, quotes and all.
func (p *sfScanner) bareItem() (string, bool) {
	if p.i == len(p.s) {
		return "", false
	}
	start := p.i
	var ok bool
	switch c := p.s[p.i]; {
	case c == '"':
		ok = p.skipString()
	case c == '-' || '0' <= c && c <= '9':
		ok = p.skipNumber()
	case c == ':':
		ok = p.skipBytes()
	case c == '?':
		ok = p.skipBoolean()
	case c == '*' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z':
		ok = p.skipToken()
	}
	return p.s[start:p.i], ok
}

func (p *sfScanner) skipString() bool {
	for p.i++; p.i < len(p.s); p.i++ {
		switch c := p.s[p.i]; {
		case c == '"':
			p.i++
			return true
		case c == '\\':
			p.i++
			if p.i == len(p.s) || p.s[p.i] != '"' && p.s[p.i] != '\\' {
				return false
			}
		case c < 0x20 || c > 0x7e:
			return false
		}
	}
	return false
}

// skipNumber reads ["-"] 1*DIGIT ["." 1*DIGIT]; the caller checks its
// value.
func (p *sfScanner) skipNumber() bool {
	if p.s[p.i] == '-' {
		p.i++
	}
	if !p.skipDigits() {
		return false
	}
	if p.i < len(p.s) && p.s[p.i] == '.' {
		p.i++
		return p.skipDigits()
	}
	return true
}

func (p *sfScanner) skipDigits() bool {
	start := p.i
	for p.i < len(p.s) && '0' <= p.s[p.i] && p.s[p.i] <= '9' {
		p.i++
	}
	return p.i > start
}

// skipBytes reads ":" *base64 ":".
func (p *sfScanner) skipBytes() bool {
	for p.i++; p.i < len(p.s); p.i++ {
		switch c := p.s[p.i]; {
		case c == ':':
			p.i++
			return true
		case !('A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' ||
			c == '+' || c == '/' || c == '='):
			return false
		}
	}
	return false
}

func (p *sfScanner) skipBoolean() bool {
	if p.i+1 < len(p.s) && (p.s[p.i+1] == '0' || p.s[p.i+1] == '1') {
		p.i += 2
		return true
	}
	return false
}

// skipToken reads ( ALPHA / "*" ) *( tchar / ":" / "/" ).
func (p *sfScanner) skipToken() bool {
	for p.i++; p.i < len(p.s); p.i++ {
		c := p.s[p.i]
		if !('A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' ||
			strings.IndexByte("!#$%&'*+-.^_`|~:/", c) >= 0) {
			break
		}
	}
	return true
}
