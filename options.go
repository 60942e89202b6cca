package backoff

import "context"

// WithIdempotent returns a context that makes a Transport treat the request
// carrying it as idempotent (true: it may be retried after a failure that
// may have reached the server, whatever its method) or not (false: only
// failures that prove it never reached the server are retried), overriding
// Transport.Idempotent.
func WithIdempotent(ctx context.Context, idempotent bool) context.Context {
	o := requestOptionsFrom(ctx)
	o.idempotent = 1
	if idempotent {
		o.idempotent = 2
	}
	return context.WithValue(ctx, requestOptionsKey{}, o)
}

type requestOptionsKey struct{}

type requestOptions struct {
	idempotent int8 // 0: the Transport's rule; 1: no; 2: yes
}

func requestOptionsFrom(ctx context.Context) requestOptions {
	o, _ := ctx.Value(requestOptionsKey{}).(requestOptions)
	return o
}
