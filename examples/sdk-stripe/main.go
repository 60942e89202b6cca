// Sdk-stripe drives stripe-go v82 through a backoff.Transport against a
// local fake of the Stripe API (form-encoded POST /v1/payment_intents,
// Stripe's JSON errors and headers), with stripe-go's own retries off
// (MaxNetworkRetries: 0 in its BackendConfig) and the Transport's on:
//
//   - stripe-go sends an Idempotency-Key with every POST, so the default
//     Idempotent rule (DefaultIdempotent) lets the Transport send a
//     payment again after a dropped connection, with the same key;
//   - Stripe-Should-Retry: false on a 500 stops any retry (1 request);
//   - Stripe-Should-Retry: true on a 409 makes it retried;
//   - with both layers on, the retries multiply: 3 of stripe-go's attempts
//     of 4 of the Transport's each.
//
// For each call it prints the requests the fake saw and the call's
// backoff.Outcome. The fake listens on 127.0.0.1 only, so the program
// needs no network access; it ends in well under a second. Run it from the
// repository's root with:
//
//	go run ./examples/sdk-stripe
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
	"syscall"
	"time"

	"github.com/stripe/stripe-go/v82"

	"github.com/f99b3bbb/backoff"
	"github.com/f99b3bbb/backoff/strategy"
)

func main() {
	if err := run(os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "sdk-stripe:", err)
		os.Exit(1)
	}
}

const apiKey = "sk_test_4eC39HqLyjWDarjtT1zdp7dc"

// newClient returns a stripe-go client for the API at url whose HTTP
// client sends through tr (nil: a plain http.Transport, stripe-go alone),
// with stripe-go making up to 1+retries attempts of each request.
//
// The recommended setting is the Transport with retries 0: one retrying
// layer, ours.
func newClient(url string, tr http.RoundTripper, retries int64) *stripe.Client {
	if tr == nil {
		tr = &http.Transport{}
	}
	backends := stripe.NewBackendsWithConfig(&stripe.BackendConfig{
		HTTPClient:        &http.Client{Transport: tr},
		MaxNetworkRetries: stripe.Int64(retries),
		URL:               stripe.String(url),
		LeveledLogger:     &stripe.LeveledLogger{Level: stripe.LevelNull},
	})
	// stripe-go sleeps 0.5s and more between its own retries; that sleep is
	// turned off here (a setting of stripe-go's meant for tests), so that
	// the demo is quick. It changes no count.
	if b, ok := backends.API.(*stripe.BackendImplementation); ok {
		b.SetNetworkRetriesSleep(false)
	}
	return stripe.NewClient(apiKey, stripe.WithBackends(backends))
}

// transport is the demo's Transport: the defaults, with the waits between
// retries shortened from 250ms, 500ms, 1s, … to at most 10ms.
func transport() *backoff.Transport {
	return &backoff.Transport{Wait: strategy.Constant{Interval: 10 * time.Millisecond}}
}

// A scenario is one call of the demo: what the fake answers, in order (the
// last answer repeats), and which layers retry.
type scenario struct {
	title   string
	answers []answer
	ours    bool  // the client sends through a backoff.Transport
	retries int64 // stripe-go's MaxNetworkRetries
}

func scenarios() []scenario {
	return []scenario{
		{"connection dropped, then 200; ours, stripe-go's retries off", []answer{drop, created}, true, 0},
		{"500 with Stripe-Should-Retry: false; ours, stripe-go's retries off", []answer{internalError}, true, 0},
		{"500 with Stripe-Should-Retry: false; stripe-go alone (MaxNetworkRetries 2)", []answer{internalError}, false, 2},
		{"409 with Stripe-Should-Retry: true, then 200; ours, stripe-go's retries off", []answer{conflict, created}, true, 0},
		{"409 with Stripe-Should-Retry: true, then 200; stripe-go alone (MaxNetworkRetries 2)", []answer{conflict, created}, false, 2},
		{"every connection dropped; both layers on (ours, MaxNetworkRetries 2)", []answer{drop}, true, 2},
		{"every connection dropped; ours, stripe-go's retries off", []answer{drop}, true, 0},
		{"every connection dropped; stripe-go alone (MaxNetworkRetries 2)", []answer{drop}, false, 2},
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

func play(w io.Writer, sc scenario) error {
	fake := &fakeStripe{answers: sc.answers}
	srv := httptest.NewServer(fake)
	defer srv.Close()
	var tr http.RoundTripper
	if sc.ours {
		t := transport()
		defer t.CloseIdleConnections()
		tr = t
	} else {
		t := &http.Transport{}
		defer t.CloseIdleConnections()
		tr = t
	}
	client := newClient(srv.URL, tr, sc.retries)

	var o backoff.Outcome
	ctx := backoff.WithOutcome(context.Background(), &o)
	pi, err := client.V1PaymentIntents.Create(ctx, &stripe.PaymentIntentCreateParams{
		Amount:   stripe.Int64(2000),
		Currency: stripe.String(string(stripe.CurrencyUSD)),
	})
	seen := fake.seen()
	if seen.bad != "" {
		return errors.New("the fake got a request unlike stripe-go's: " + seen.bad)
	}
	fmt.Fprintf(w, "   the fake saw %d %s%s, %s\n", len(seen.codes), plural(len(seen.codes), "request"), list(seen.codes), keys(seen.keys))
	fmt.Fprintf(w, "   stripe-go: %s\n", describe(pi, err))
	switch {
	case sc.ours && sc.retries > 0:
		fmt.Fprintf(w, "   outcome of stripe-go's last call: %s\n", outcome(o))
	case sc.ours:
		fmt.Fprintf(w, "   outcome:   %s\n", outcome(o))
	}
	return nil
}

// describe says what stripe-go returned, without the fake's address.
func describe(pi *stripe.PaymentIntent, err error) string {
	var serr *stripe.Error
	var uerr *url.Error
	var berr *backoff.Error
	switch {
	case err == nil:
		return fmt.Sprintf("ok, %s %s, %d %s", pi.ID, pi.Status, pi.Amount, pi.Currency)
	case errors.As(err, &serr):
		return fmt.Sprintf("*stripe.Error, status %d, type %s: %q", serr.HTTPStatusCode, serr.Type, firstWords(serr.Msg))
	case errors.As(err, &berr):
		return fmt.Sprintf("*url.Error with the Transport's *backoff.Error: reason %s after %d attempts, %s",
			string(berr.Reason), berr.Attempts, lastError(berr.Err))
	case errors.As(err, &uerr):
		return "*url.Error: " + lastError(uerr.Err)
	}
	return fmt.Sprintf("error %T", err)
}

// lastError describes a transport error, the same whether the dropped
// connection showed as an end of file or as a reset.
func lastError(err error) string {
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, syscall.ECONNRESET) {
		return "the connection closed with no response"
	}
	return err.Error()
}

// firstWords shortens a message to its first six words.
func firstWords(s string) string {
	f := strings.Fields(s)
	if len(f) <= 6 {
		return s
	}
	return strings.Join(f[:6], " ") + " …"
}

// outcome formats what the Transport recorded for a call; with stripe-go's
// retries on, the last of its calls of the Transport.
func outcome(o backoff.Outcome) string {
	s := fmt.Sprintf("attempts=%d status=%d reason=%q", o.Attempts, o.Status, string(o.Reason))
	if o.Err != nil {
		s += ", no response"
	}
	return s
}

func keys(keys []string) string {
	distinct := map[string]bool{}
	for _, k := range keys {
		distinct[k] = true
	}
	switch {
	case len(keys) == 0:
		return "no Idempotency-Key"
	case len(distinct) == 1 && len(keys) > 1:
		return "all with the same Idempotency-Key"
	case len(distinct) == 1:
		return "with an Idempotency-Key"
	}
	return fmt.Sprintf("%d distinct Idempotency-Keys", len(distinct))
}

func plural(n int, word string) string {
	if n == 1 {
		return word
	}
	return word + "s"
}

// list writes the statuses, a run of the same one as a count.
func list(codes []int) string {
	var s []string
	for i := 0; i < len(codes); {
		j := i
		for j < len(codes) && codes[j] == codes[i] {
			j++
		}
		v := "dropped"
		if codes[i] != 0 {
			v = strconv.Itoa(codes[i])
		}
		if j-i > 1 {
			v = strconv.Itoa(j-i) + " × " + v
		}
		s = append(s, v)
		i = j
	}
	if len(s) == 0 {
		return ""
	}
	return " (" + strings.Join(s, ", ") + ")"
}

// An answer writes one response of the fake, or drops the connection.
type answer func(w http.ResponseWriter, r *http.Request, key string)

// fakeStripe answers POST /v1/payment_intents as api.stripe.com does,
// with the answers of its script in turn (the last one repeats), and
// records the status (0 for a dropped connection) and Idempotency-Key of
// each request.
type fakeStripe struct {
	answers []answer

	mu    sync.Mutex
	codes []int
	keys  []string
	bad   string
}

type seen struct {
	codes []int
	keys  []string
	bad   string
}

func (f *fakeStripe) seen() seen {
	f.mu.Lock()
	defer f.mu.Unlock()
	return seen{codes: append([]int(nil), f.codes...), keys: append([]string(nil), f.keys...), bad: f.bad}
}

func (f *fakeStripe) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	// The request is recorded as it arrives, and its status as it is
	// written, before the client can see any answer: a call that has
	// returned has all its requests counted.
	key := r.Header.Get("Idempotency-Key")
	f.mu.Lock()
	n := len(f.codes)
	f.codes = append(f.codes, 0)
	if key != "" {
		f.keys = append(f.keys, key)
	}
	f.mu.Unlock()
	rec := &statusRecorder{ResponseWriter: w, record: func(code int) {
		f.mu.Lock()
		f.codes[n] = code
		f.mu.Unlock()
	}}
	if bad := check(r); bad != "" {
		f.mu.Lock()
		f.bad = bad
		f.mu.Unlock()
		stripeError(rec, http.StatusBadRequest, "invalid_request_error", bad, "")
		return
	}
	f.answers[min(n, len(f.answers)-1)](rec, r, key)
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

// Unwrap lets http.ResponseController reach the connection.
func (r *statusRecorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }

// check reports what is wrong with a request, "" if it is the payment
// intent of the demo as stripe-go sends it.
func check(r *http.Request) string {
	switch {
	case r.Method != http.MethodPost || r.URL.Path != "/v1/payment_intents":
		return "unexpected " + r.Method + " " + r.URL.Path
	case r.Header.Get("Authorization") != "Bearer "+apiKey:
		return "no API key"
	case r.Header.Get("Stripe-Version") == "":
		return "no Stripe-Version"
	case !strings.HasPrefix(r.Header.Get("Content-Type"), "application/x-www-form-urlencoded"):
		return "not form-encoded: " + r.Header.Get("Content-Type")
	}
	if err := r.ParseForm(); err != nil {
		return "unreadable form: " + err.Error()
	}
	if r.PostForm.Get("amount") != "2000" || r.PostForm.Get("currency") != "usd" {
		return "unexpected form " + r.PostForm.Encode()
	}
	return ""
}

func headers(h http.Header, key string) {
	h.Set("Content-Type", "application/json")
	h.Set("Request-Id", "req_8b6SxPz2Y4dT1q")
	h.Set("Stripe-Version", stripe.APIVersion)
	if key != "" {
		h.Set("Idempotency-Key", key)
	}
}

func created(w http.ResponseWriter, _ *http.Request, key string) {
	headers(w.Header(), key)
	w.WriteHeader(http.StatusOK)
	io.WriteString(w, paymentIntentJSON)
}

// stripeError writes Stripe's error shape, with a Stripe-Should-Retry
// header when advice is not empty.
func stripeError(w http.ResponseWriter, code int, typ, msg, advice string) {
	headers(w.Header(), "")
	if advice != "" {
		w.Header().Set("Stripe-Should-Retry", advice)
	}
	w.WriteHeader(code)
	fmt.Fprintf(w, `{
  "error": {
    "message": %q,
    "request_log_url": "https://dashboard.stripe.com/test/logs/req_8b6SxPz2Y4dT1q?t=1764633600",
    "type": %q
  }
}`, msg, typ)
}

// internalError is a failure that Stripe's idempotency layer has recorded:
// sending the request again would replay the same 500, so Stripe says not
// to.
func internalError(w http.ResponseWriter, _ *http.Request, _ string) {
	stripeError(w, http.StatusInternalServerError, "api_error",
		"An unknown error occurred", "false")
}

// conflict is Stripe's answer to a request whose Idempotency-Key is in use
// by another request still in flight: try again.
func conflict(w http.ResponseWriter, _ *http.Request, _ string) {
	stripeError(w, http.StatusConflict, "idempotency_error",
		"There is currently another in-progress request using this Stripe-Idempotency-Key (that probably means you submitted twice, and the other request is still going through). Please try again later.",
		"true")
}

// drop closes the connection without an answer, as a network failure
// after the request was sent would.
func drop(w http.ResponseWriter, _ *http.Request, _ string) {
	conn, _, err := http.NewResponseController(w).Hijack()
	if err != nil {
		w.WriteHeader(http.StatusInternalServerError)
		return
	}
	conn.Close()
}

// paymentIntentJSON is the beginning of a PaymentIntent as
// POST /v1/payment_intents returns it.
const paymentIntentJSON = `{
  "id": "pi_3QdemoKZ6o9pOdzV1x2y3z4a",
  "object": "payment_intent",
  "amount": 2000,
  "amount_capturable": 0,
  "amount_received": 0,
  "automatic_payment_methods": {"allow_redirects": "always", "enabled": true},
  "capture_method": "automatic_async",
  "client_secret": "pi_3QdemoKZ6o9pOdzV1x2y3z4a_secret_Demo0123456789",
  "confirmation_method": "automatic",
  "created": 1764633600,
  "currency": "usd",
  "livemode": false,
  "metadata": {},
  "payment_method_types": ["card", "link"],
  "status": "requires_payment_method"
}`
