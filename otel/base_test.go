package backoffotel_test

import (
	"net/http"
	"testing"
	"testing/synctest"

	"go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp"
	metricnoop "go.opentelemetry.io/otel/metric/noop"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
	"go.opentelemetry.io/otel/trace"

	backoffotel "github.com/f99b3bbb/backoff/otel"
)

// resendCounts returns the http.request.resend_count of each span, -1 for a
// span without one.
func resendCounts(spans []sdktrace.ReadOnlySpan) []int {
	var out []int
	for _, s := range spans {
		n := -1
		for _, a := range s.Attributes() {
			if a.Key == semconv.HTTPRequestResendCountKey {
				n = int(a.Value.AsInt64())
			}
		}
		out = append(out, n)
	}
	return out
}

func TestResendCount(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		e := newEnv(t)
		base := answers(503, 502, 200)
		tr := e.transport(otelhttp.NewTransport(e.inst.Base(base),
			otelhttp.WithTracerProvider(e.tp),
			otelhttp.WithMeterProvider(metricnoop.NewMeterProvider())))
		code, call := e.do(t, tr, "GET", "https://api.example.com/v1/items", "")
		if code != 200 {
			t.Fatalf("status %d, want 200", code)
		}
		attempts := e.childSpans(call.SpanContext())
		if len(attempts) != 3 {
			t.Fatalf("%d spans under the call's, want 3 (one per attempt)", len(attempts))
		}
		for i, s := range attempts {
			if s.SpanKind() != trace.SpanKindClient {
				t.Errorf("span %d: kind %v, want client", i, s.SpanKind())
			}
		}
		if got := resendCounts(attempts); got[0] != -1 || got[1] != 1 || got[2] != 2 {
			t.Errorf("resend counts %v, want none, 1, 2", got)
		}
		// The caller's span has the waits, and no resend count.
		if got := resendCounts([]sdktrace.ReadOnlySpan{call}); got[0] != -1 {
			t.Errorf("the call's span has resend count %d", got[0])
		}
		if n := len(call.Events()); n != 2 {
			t.Errorf("the call's span has %d events, want 2 waits", n)
		}
	})
}

func TestBaseOff(t *testing.T) {
	base := answers(200)
	inst, err := backoffotel.New() // no TracerProvider
	if err != nil {
		t.Fatal(err)
	}
	if rt := inst.Base(base); rt != http.RoundTripper(base) {
		t.Errorf("Base without TracerProvider = %T, want the RoundTripper given", rt)
	}
	var none *backoffotel.Instrumentation
	if rt := none.Base(base); rt != http.RoundTripper(base) {
		t.Errorf("nil Base = %T, want the RoundTripper given", rt)
	}
	if none.Base(nil) == nil {
		t.Error("Base(nil) is nil")
	}
}

func TestNilAndOff(t *testing.T) {
	var none *backoffotel.Instrumentation
	if none.Trace() != nil {
		t.Error("a nil Instrumentation has hooks")
	}
	inst, err := backoffotel.New()
	if err != nil {
		t.Fatal(err)
	}
	if inst.Trace() != nil {
		t.Error("an Instrumentation without providers has hooks")
	}
	inst, err = backoffotel.New(backoffotel.WithMeterProvider(nil), backoffotel.WithTracerProvider(nil), nil)
	if err != nil || inst.Trace() != nil {
		t.Errorf("nil providers: %v, hooks %v", err, inst.Trace())
	}
	// Metrics only: no wait hook.
	e := newEnv(t)
	inst, err = backoffotel.New(backoffotel.WithMeterProvider(e.mp))
	if err != nil {
		t.Fatal(err)
	}
	if tr := inst.Trace(); tr == nil || tr.OnBackoff != nil || tr.OnAttempt == nil || tr.OnGiveUp == nil {
		t.Errorf("metrics only: hooks %+v", tr)
	}
	// Spans only: no attempt hook.
	inst, err = backoffotel.New(backoffotel.WithTracerProvider(e.tp))
	if err != nil {
		t.Fatal(err)
	}
	if tr := inst.Trace(); tr == nil || tr.OnBackoff == nil || tr.OnAttempt != nil || tr.OnGiveUp == nil {
		t.Errorf("spans only: hooks %+v", tr)
	}
}

func TestWithoutRequestDuration(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		e := newEnv(t, backoffotel.WithoutRequestDuration())
		e.do(t, e.transport(answers(503, 200)), "GET", "https://api.example.com/", "")
		e.wantPoints(t, duration, nil)
		e.wantPoints(t, retries, map[string]string{"http.request.method=GET": "1/1"})
	})
}

// A call whose span is not recording gets no events, and costs no
// attributes.
func TestSpanNotRecording(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		e := newEnv(t)
		req, _ := http.NewRequest("GET", "https://api.example.com/", nil)
		resp, err := e.transport(answers(503, 200)).RoundTrip(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if n := len(e.spans.Ended()); n != 0 {
			t.Errorf("%d spans", n)
		}
		e.wantPoints(t, retries, map[string]string{"http.request.method=GET": "1/1"})
	})
}
