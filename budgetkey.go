package backoff

import (
	"net/netip"
	"strings"
)

// budgetKey returns the key of a URL's host in a Budget: lower case,
// without a trailing dot, without the port when it is 80 or 443 (or
// empty), and with an IPv6 address in its canonical form, in brackets (an
// IPv4-mapped one as the IPv4 address). It allocates only for a host that
// is not in that form already.
func budgetKey(host string) string {
	name, port := splitHostPort(host)
	if port == "80" || port == "443" {
		port = ""
	}
	if isPlainName(name) {
		if port == "" {
			return name // host itself, or a prefix of it
		}
		if len(name)+1+len(port) == len(host) {
			return host
		}
		return name + ":" + port
	}
	if strings.IndexByte(name, ':') >= 0 {
		if a, err := netip.ParseAddr(name); err == nil {
			a = a.Unmap()
			if a.Is4() {
				name = a.String()
			} else {
				name = "[" + a.String() + "]"
			}
		}
	} else {
		name = strings.TrimSuffix(strings.ToLower(name), ".")
	}
	if port == "" {
		return name
	}
	return name + ":" + port
}

// splitHostPort splits a URL's host into the name (without the brackets
// of an IPv6 address) and the port, which is empty when there is none.
// Unlike net.SplitHostPort, it accepts any host and never fails.
func splitHostPort(host string) (name, port string) {
	if strings.HasPrefix(host, "[") {
		if i := strings.IndexByte(host, ']'); i > 0 {
			name, rest := host[1:i], host[i+1:]
			if strings.HasPrefix(rest, ":") {
				return name, rest[1:]
			}
			return name, ""
		}
		return host, ""
	}
	i := strings.LastIndexByte(host, ':')
	if i < 0 || strings.IndexByte(host[:i], ':') >= 0 {
		return host, "" // no port, or an IPv6 address without brackets
	}
	return host[:i], host[i+1:]
}

// isPlainName reports whether name is in its key form already: no upper
// case, no trailing dot, no colon (an IPv6 address).
func isPlainName(name string) bool {
	if name == "" || name[len(name)-1] == '.' {
		return name == ""
	}
	for i := 0; i < len(name); i++ {
		if c := name[i]; c >= 'A' && c <= 'Z' || c == ':' {
			return false
		}
	}
	return true
}
