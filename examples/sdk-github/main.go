// Sdk-github drives go-github v84 through a backoff.Transport against a
// local fake of the GitHub REST API, and shows what the Transport does with
// GitHub's two rate limits:
//
//   - the secondary rate limit, a 403 with Retry-After: with 403 among
//     RetryAfterStatuses the Transport waits the second it is told and the
//     call succeeds;
//   - the primary rate limit, a 403 or 429 with X-RateLimit-Remaining: 0
//     and an X-RateLimit-Reset an hour away: the Transport gives up at once
//     (reason retry_after) after a single request, and go-github returns
//     its *github.RateLimitError.
//
// For each call it prints the requests the fake saw and the call's
// backoff.Outcome, read from the context passed to go-github. The fake
// listens on 127.0.0.1 only; the program needs no network access and ends
// in about a second. Run it from the repository's root with:
//
//	go run ./examples/sdk-github
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/google/go-github/v84/github"

	"github.com/f99b3bbb/backoff"
	"github.com/f99b3bbb/backoff/strategy"
)

func main() {
	if err := run(os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "sdk-github:", err)
		os.Exit(1)
	}
}

// recommended is the Transport for a GitHub client: the defaults, with the
// 403s of GitHub's rate limits honoured like 429 and 503. Only the waits
// between retries that no server asked for are shortened here (the default
// is 250ms, 500ms, 1s, …), so that the demo is quick.
func recommended() *backoff.Transport {
	return &backoff.Transport{
		RetryAfterStatuses: []int{403, 429, 503},
		Wait:               demoWait,
	}
}

// demoWait is the wait strategy of every Transport of the demo.
var demoWait = strategy.Constant{Interval: 10 * time.Millisecond}

// A scenario is one call of the demo: what the fake answers, in order (the
// last answer repeats), and the Transport the client uses.
type scenario struct {
	title     string
	answers   []answer
	transport *backoff.Transport
	// again makes a second call through the same client after the first.
	again bool
}

func scenarios() []scenario {
	return []scenario{
		{
			title:     "secondary rate limit (403, Retry-After: 1), default Transport",
			answers:   []answer{secondaryLimit, ok},
			transport: &backoff.Transport{Wait: demoWait},
		},
		{
			title:     "secondary rate limit (403, Retry-After: 1), RetryAfterStatuses: []int{403, 429, 503}",
			answers:   []answer{secondaryLimit, ok},
			transport: recommended(),
		},
		{
			title:     "primary rate limit (403, X-RateLimit-Remaining: 0, reset in 1h), RetryAfterStatuses: []int{403, 429, 503}",
			answers:   []answer{primaryLimit403},
			transport: recommended(),
			again:     true,
		},
		{
			title:     "primary rate limit (429, X-RateLimit-Remaining: 0, reset in 1h), RetryAfterStatuses: []int{403, 429, 503}",
			answers:   []answer{primaryLimit429},
			transport: recommended(),
		},
		{
			title:     "primary rate limit (429, X-RateLimit-Remaining: 0, reset in 1h), MaxRetryAfter: -1 (server waits ignored)",
			answers:   []answer{primaryLimit429},
			transport: &backoff.Transport{MaxRetryAfter: -1, Wait: demoWait},
		},
	}
}

// run plays every scenario against a fake of its own and writes what
// happened to w.
func run(w io.Writer) error {
	for i, sc := range scenarios() {
		fmt.Fprintf(w, "%d. %s\n", i+1, sc.title)
		if err := play(w, sc); err != nil {
			return fmt.Errorf("%s: %w", sc.title, err)
		}
	}
	return nil
}

const (
	owner = "octocat"
	repo  = "Hello-World"
)

func play(w io.Writer, sc scenario) error {
	fake := &fakeGitHub{answers: sc.answers}
	srv := httptest.NewServer(fake)
	defer srv.Close()
	defer sc.transport.CloseIdleConnections()

	client := github.NewClient(&http.Client{Transport: sc.transport}).WithAuthToken("ghp_demo")
	base, err := url.Parse(srv.URL + "/")
	if err != nil {
		return err
	}
	client.BaseURL = base

	calls := 1
	if sc.again {
		calls = 2
	}
	for call := 1; call <= calls; call++ {
		seen := fake.count()
		var o backoff.Outcome
		ctx := backoff.WithOutcome(context.Background(), &o)
		r, _, err := client.Repositories.Get(ctx, owner, repo)
		statuses := fake.statuses()[seen:]
		fmt.Fprintf(w, "   call %d: the fake saw %d %s%s\n", call, len(statuses), plural(len(statuses), "request"), list(statuses))
		fmt.Fprintf(w, "     go-github: %s\n", describe(r, err))
		fmt.Fprintf(w, "     outcome:   %s\n", outcome(o))
	}
	if gap, ok := fake.gap(); ok {
		fmt.Fprintf(w, "   the retry came %s after the 403 that asked for 1s\n", atLeast(gap, time.Second))
	}
	return nil
}

// describe says what go-github returned, without the fake's address.
func describe(r *github.Repository, err error) string {
	var rle *github.RateLimitError
	var abuse *github.AbuseRateLimitError
	switch {
	case err == nil:
		return "ok, " + r.GetFullName()
	case errors.As(err, &rle):
		reset := strings.TrimSuffix(time.Until(rle.Rate.Reset.Time).Round(time.Minute).String(), "0m0s")
		return fmt.Sprintf("*github.RateLimitError, status %d, %d of %d left, reset in %s: %q",
			rle.Response.StatusCode, rle.Rate.Remaining, rle.Rate.Limit, reset, firstWords(rle.Message))
	case errors.As(err, &abuse):
		return fmt.Sprintf("*github.AbuseRateLimitError, status %d, RetryAfter %v: %q",
			abuse.Response.StatusCode, abuse.GetRetryAfter(), firstWords(abuse.Message))
	}
	return "error: " + err.Error()
}

// firstWords shortens a message to its first five words.
func firstWords(s string) string {
	f := strings.Fields(s)
	if len(f) <= 5 {
		return s
	}
	return strings.Join(f[:5], " ") + " …"
}

// outcome formats what the Transport recorded for a call.
func outcome(o backoff.Outcome) string {
	if o.Attempts == 0 {
		return "none: the Transport was not called"
	}
	return fmt.Sprintf("attempts=%d status=%d reason=%q waited %s", o.Attempts, o.Status, string(o.Reason), approx(o.Waited))
}

// approx rounds a wait so that the output is the same on every run: the
// small waits of the demo's strategy vary with jitter, and a server-given
// wait of 1s is spread upward by up to a fifth.
func approx(d time.Duration) string {
	if d < 500*time.Millisecond {
		return "under 0.5s"
	}
	return "about " + d.Round(time.Second).String()
}

func atLeast(d, floor time.Duration) string {
	if d >= floor {
		return "at least " + floor.String()
	}
	return "only " + d.String()
}

func plural(n int, word string) string {
	if n == 1 {
		return word
	}
	return word + "s"
}

func list(codes []int) string {
	if len(codes) == 0 {
		return ""
	}
	s := make([]string, len(codes))
	for i, c := range codes {
		s[i] = strconv.Itoa(c)
	}
	return " (" + strings.Join(s, ", ") + ")"
}

// An answer writes one response of the fake.
type answer func(w http.ResponseWriter, now time.Time)

// fakeGitHub answers GET /repos/octocat/Hello-World as api.github.com
// does, with the answers of its script in turn (the last one repeats),
// and records the status and time of each request.
type fakeGitHub struct {
	answers []answer

	mu    sync.Mutex
	codes []int
	times []time.Time
}

func (f *fakeGitHub) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	// The request is recorded as it arrives, and its status as it is
	// written, before the client can see any answer: a call that has
	// returned has all its requests counted.
	now := time.Now()
	f.mu.Lock()
	n := len(f.codes)
	f.codes = append(f.codes, 0)
	f.times = append(f.times, now)
	f.mu.Unlock()
	rec := &statusRecorder{ResponseWriter: w, record: func(code int) {
		f.mu.Lock()
		f.codes[n] = code
		f.mu.Unlock()
	}}
	switch {
	case r.Method != http.MethodGet || r.URL.Path != "/repos/"+owner+"/"+repo:
		notFound(rec, now)
	case r.Header.Get("Authorization") != "Bearer ghp_demo":
		rec.WriteHeader(http.StatusUnauthorized)
	default:
		f.answers[min(n, len(f.answers)-1)](rec, now)
	}
}

func (f *fakeGitHub) count() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.codes)
}

func (f *fakeGitHub) statuses() []int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]int(nil), f.codes...)
}

// gap is the time between the first request that got a secondary-limit
// 403 and the request after it.
func (f *fakeGitHub) gap() (time.Duration, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for i := 0; i+1 < len(f.codes); i++ {
		if f.codes[i] == http.StatusForbidden {
			return f.times[i+1].Sub(f.times[i]), true
		}
	}
	return 0, false
}

// statusRecorder records the status of a response when it is written.
type statusRecorder struct {
	http.ResponseWriter
	record func(code int)
	done   bool
}

func (r *statusRecorder) WriteHeader(code int) {
	if !r.done {
		r.done = true
		r.record(code)
	}
	r.ResponseWriter.WriteHeader(code)
}

// rateHeaders sets GitHub's rate-limit fields of the core resource.
func rateHeaders(h http.Header, limit, remaining int, reset time.Time) {
	h.Set("X-RateLimit-Limit", strconv.Itoa(limit))
	h.Set("X-RateLimit-Remaining", strconv.Itoa(remaining))
	h.Set("X-RateLimit-Reset", strconv.FormatInt(reset.Unix(), 10))
	h.Set("X-RateLimit-Used", strconv.Itoa(limit-remaining))
	h.Set("X-RateLimit-Resource", "core")
}

func jsonHeaders(h http.Header, now time.Time) {
	h.Set("Content-Type", "application/json; charset=utf-8")
	h.Set("Date", now.UTC().Format(http.TimeFormat))
	h.Set("X-GitHub-Api-Version-Selected", "2022-11-28")
	h.Set("X-GitHub-Media-Type", "github.v3; format=json")
	h.Set("X-GitHub-Request-Id", "C0DE:1F2E:3A4B5C:6D7E8F:6741A2B3")
}

func ok(w http.ResponseWriter, now time.Time) {
	h := w.Header()
	jsonHeaders(h, now)
	rateHeaders(h, 5000, 4998, now.Add(42*time.Minute))
	h.Set("Cache-Control", "private, max-age=60, s-maxage=60")
	h.Set("ETag", `W/"8a6c3a3fb7a7d8c4a1e7d1d0b6f3e2c1"`)
	h.Set("Vary", "Accept, Authorization, Cookie, X-GitHub-OTP")
	w.WriteHeader(http.StatusOK)
	io.WriteString(w, repositoryJSON)
}

// secondaryLimit is GitHub's answer to too many requests in a short time:
// a 403 with Retry-After (60 at GitHub, 1 here) while the primary quota
// still has requests left.
func secondaryLimit(w http.ResponseWriter, now time.Time) {
	h := w.Header()
	jsonHeaders(h, now)
	rateHeaders(h, 5000, 4999, now.Add(42*time.Minute))
	h.Set("Retry-After", "1")
	w.WriteHeader(http.StatusForbidden)
	io.WriteString(w, `{"message":"You have exceeded a secondary rate limit. Please wait a few minutes before you try again. If you reach out to GitHub Support for help, please include the request ID C0DE:1F2E:3A4B5C:6D7E8F:6741A2B3.","documentation_url":"https://docs.github.com/free-pro-team@latest/rest/overview/rate-limits-for-the-rest-api#about-secondary-rate-limits","status":"403"}`)
}

func primaryLimit403(w http.ResponseWriter, now time.Time) {
	primaryLimit(w, now, http.StatusForbidden)
}

func primaryLimit429(w http.ResponseWriter, now time.Time) {
	primaryLimit(w, now, http.StatusTooManyRequests)
}

// primaryLimit is GitHub's answer once the hourly quota is used up: no
// Retry-After, X-RateLimit-Remaining: 0 and the reset in epoch seconds,
// here an hour away.
func primaryLimit(w http.ResponseWriter, now time.Time, code int) {
	h := w.Header()
	jsonHeaders(h, now)
	rateHeaders(h, 5000, 0, now.Add(time.Hour))
	w.WriteHeader(code)
	fmt.Fprintf(w, `{"message":"API rate limit exceeded for user ID 583231. If you reach out to GitHub Support for help, please include the request ID C0DE:1F2E:3A4B5C:6D7E8F:6741A2B3.","documentation_url":"https://docs.github.com/rest/overview/rate-limits-for-the-rest-api","status":"%d"}`, code)
}

func notFound(w http.ResponseWriter, now time.Time) {
	jsonHeaders(w.Header(), now)
	w.WriteHeader(http.StatusNotFound)
	io.WriteString(w, `{"message":"Not Found","documentation_url":"https://docs.github.com/rest/repos/repos#get-a-repository","status":"404"}`)
}

// repositoryJSON is the beginning of GET /repos/octocat/Hello-World as
// api.github.com answers it.
const repositoryJSON = `{
  "id": 1296269,
  "node_id": "MDEwOlJlcG9zaXRvcnkxMjk2MjY5",
  "name": "Hello-World",
  "full_name": "octocat/Hello-World",
  "private": false,
  "owner": {
    "login": "octocat",
    "id": 583231,
    "node_id": "MDQ6VXNlcjU4MzIzMQ==",
    "avatar_url": "https://avatars.githubusercontent.com/u/583231?v=4",
    "url": "https://api.github.com/users/octocat",
    "html_url": "https://github.com/octocat",
    "type": "User",
    "site_admin": false
  },
  "html_url": "https://github.com/octocat/Hello-World",
  "description": "My first repository on GitHub!",
  "fork": false,
  "url": "https://api.github.com/repos/octocat/Hello-World",
  "created_at": "2011-01-26T19:01:12Z",
  "updated_at": "2025-11-30T22:51:07Z",
  "pushed_at": "2024-09-20T09:23:35Z",
  "homepage": "",
  "size": 1,
  "stargazers_count": 3012,
  "watchers_count": 3012,
  "language": null,
  "forks_count": 3171,
  "open_issues_count": 1735,
  "default_branch": "master",
  "visibility": "public"
}`
