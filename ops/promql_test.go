package ops

import (
	"fmt"
	"regexp"
	"strings"
)

// seriesNames returns the metric names an expression selects, in order:
// PromQL, or a query of a Grafana dashboard, whose variables ($job,
// ${host}, $__rate_interval) it skips. It is a lexer, not a parser: it
// skips strings, label matchers ({…}), ranges and subqueries ([…]), the
// label lists of by, without, on, ignoring, group_left and group_right,
// numbers and durations, keywords, and the names of functions and
// aggregations (an identifier followed by "("). Every other identifier is
// a metric name. A selector with no name before its braces is an error:
// the names it matches cannot be checked.
func seriesNames(expr string) ([]string, error) {
	var names []string
	s := expr
	afterName := false // the previous token was a metric name
	for i := 0; i < len(s); {
		c := s[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			i++
			continue
		case c == '#': // a comment, to the end of the line
			for i < len(s) && s[i] != '\n' {
				i++
			}
			continue
		case c == '"' || c == '\'' || c == '`':
			j, err := skipString(s, i)
			if err != nil {
				return nil, err
			}
			i = j
		case c == '{':
			if !afterName {
				return nil, fmt.Errorf("a selector without a metric name at %d in %q", i, expr)
			}
			j, err := skipGroup(s, i, '{', '}')
			if err != nil {
				return nil, err
			}
			i = j
		case c == '[':
			j, err := skipGroup(s, i, '[', ']')
			if err != nil {
				return nil, err
			}
			i = j
		case c == '$': // a Grafana variable
			i++
			if i < len(s) && s[i] == '{' {
				j, err := skipGroup(s, i, '{', '}')
				if err != nil {
					return nil, err
				}
				i = j
			} else {
				for i < len(s) && isIdentChar(s[i]) {
					i++
				}
			}
		case isDigit(c) || c == '.' && i+1 < len(s) && isDigit(s[i+1]):
			for i < len(s) && (isIdentChar(s[i]) || s[i] == '.') {
				i++
			}
		case isIdentStart(c):
			j := i
			for j < len(s) && isIdentChar(s[j]) {
				j++
			}
			word := s[i:j]
			i = j
			k := i
			for k < len(s) && strings.IndexByte(" \t\r\n", s[k]) >= 0 {
				k++
			}
			lower := strings.ToLower(word)
			switch {
			case groupingKeywords[lower]:
				if k < len(s) && s[k] == '(' {
					j, err := skipGroup(s, k, '(', ')')
					if err != nil {
						return nil, err
					}
					i = j
				}
			case keywords[lower]:
			case k < len(s) && s[k] == '(': // a function or an aggregation
			default:
				names = append(names, word)
				afterName = true
				continue
			}
		default: // operators, parentheses, commas
			i++
		}
		afterName = false
	}
	return names, nil
}

// groupingKeywords are followed by a list of label names.
var groupingKeywords = map[string]bool{
	"by": true, "without": true, "on": true, "ignoring": true, "group_left": true, "group_right": true,
}

// keywords are the other words of PromQL that are not metric names: the
// binary operators and modifiers, and the aggregations, which a grouping
// may separate from their "(".
var keywords = map[string]bool{
	"and": true, "or": true, "unless": true, "atan2": true, "bool": true, "offset": true,
	"start": true, "end": true, "inf": true, "nan": true,
	"sum": true, "min": true, "max": true, "avg": true, "group": true, "stddev": true, "stdvar": true,
	"count": true, "count_values": true, "bottomk": true, "topk": true, "quantile": true,
	"limitk": true, "limit_ratio": true,
}

func isDigit(c byte) bool {
	return '0' <= c && c <= '9'
}

func isIdentStart(c byte) bool {
	return c == '_' || c == ':' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z'
}

func isIdentChar(c byte) bool {
	return isIdentStart(c) || isDigit(c)
}

// skipString returns the index after the string literal that starts at i.
func skipString(s string, i int) (int, error) {
	quote := s[i]
	for j := i + 1; j < len(s); j++ {
		switch {
		case s[j] == '\\' && quote != '`':
			j++
		case s[j] == quote:
			return j + 1, nil
		}
	}
	return 0, fmt.Errorf("unterminated string at %d in %q", i, s)
}

// skipGroup returns the index after the closing bracket of the group that
// opens at i, strings and nested groups included.
func skipGroup(s string, i int, open, closing byte) (int, error) {
	depth := 0
	for j := i; j < len(s); {
		switch s[j] {
		case '"', '\'', '`':
			k, err := skipString(s, j)
			if err != nil {
				return 0, err
			}
			j = k
			continue
		case open:
			depth++
		case closing:
			depth--
			if depth == 0 {
				return j + 1, nil
			}
		}
		j++
	}
	return 0, fmt.Errorf("%q at %d is not closed in %q", open, i, s)
}

// Grafana's Prometheus variable queries that are not PromQL.
var (
	labelValuesOf = regexp.MustCompile(`(?s)^\s*label_values\((.*),\s*[A-Za-z_][A-Za-z0-9_]*\s*\)\s*$`)
	labelValues   = regexp.MustCompile(`^\s*label_values\(\s*[A-Za-z_][A-Za-z0-9_]*\s*\)\s*$`)
	queryResult   = regexp.MustCompile(`(?s)^\s*query_result\((.*)\)\s*$`)
)

// variableSeriesNames returns the metric names of a Grafana variable
// query: label_values(selector, label), label_values(label),
// query_result(expr), or PromQL.
func variableSeriesNames(q string) ([]string, error) {
	if m := labelValuesOf.FindStringSubmatch(q); m != nil {
		return seriesNames(m[1])
	}
	if labelValues.MatchString(q) {
		return nil, nil
	}
	if m := queryResult.FindStringSubmatch(q); m != nil {
		return seriesNames(m[1])
	}
	return seriesNames(q)
}
