package backoff

import (
	"context"
	"reflect"
	"runtime"
	"slices"
	"strings"
)

// Do calls op until it succeeds or the Policy gives up, and returns its
// last result. See [Policy] for the steps of one call.
//
// A nil Policy behaves as the zero Policy. A nil op returns
// [ErrNilOperation] at once.
func (p *Policy[T]) Do(ctx context.Context, op func(context.Context) (T, error)) (T, error) {
	if op == nil {
		var zero T
		return zero, ErrNilOperation
	}
	return run(ctx, p, opCall[T](op))
}

// Run calls op until it succeeds or the Policy gives up, as [Policy.Do]
// does for operations that return only an error. Handlers see the zero T as
// the value.
func (p *Policy[T]) Run(ctx context.Context, op func(context.Context) error) error {
	if op == nil {
		return ErrNilOperation
	}
	_, err := run(ctx, p, runCall[T](op))
	return err
}

// Wrap returns a function with op's signature that calls op through the
// Policy: the analogue of Python's decorator. The Policy is copied, its
// handler slices included, so later changes to p do not affect the
// returned function. If p.Name is empty, the copy is named after op's
// function name.
//
// The Policy's wait strategy is validated once, here: if it is invalid, or
// op is nil, the returned function makes no attempt and returns the error.
func (p *Policy[T]) Wrap(op func(context.Context) (T, error)) func(context.Context) (T, error) {
	q, err := p.wrapCopy(op)
	if err != nil {
		return func(context.Context) (T, error) {
			var zero T
			return zero, err
		}
	}
	return func(ctx context.Context) (T, error) { return run(ctx, q, opCall[T](op)) }
}

// WrapRun is [Policy.Wrap] for operations that return only an error.
func (p *Policy[T]) WrapRun(op func(context.Context) error) func(context.Context) error {
	q, err := p.wrapCopy(op)
	if err != nil {
		return func(context.Context) error { return err }
	}
	return func(ctx context.Context) error {
		_, err := run(ctx, q, runCall[T](op))
		return err
	}
}

func (p *Policy[T]) wrapCopy(op any) (*Policy[T], error) {
	if reflect.ValueOf(op).IsNil() {
		return nil, ErrNilOperation
	}
	q := new(Policy[T])
	if p != nil {
		*q = *p
		// The handler slices too: a later change to p's, even of an
		// element, must not reach the wrapped function.
		q.OnSuccess = slices.Clone(p.OnSuccess)
		q.OnBackoff = slices.Clone(p.OnBackoff)
		q.OnGiveUp = slices.Clone(p.OnGiveUp)
		q.OnAttempt = slices.Clone(p.OnAttempt)
	}
	if err := q.Validate(); err != nil {
		return nil, err
	}
	if q.Name == "" {
		q.Name = funcName(op)
	}
	return q, nil
}

// funcName is the name of the function f without its package path, as in
// "main.fetch" or "client.(*API).Get-fm".
func funcName(f any) string {
	fn := runtime.FuncForPC(reflect.ValueOf(f).Pointer())
	if fn == nil {
		return "operation"
	}
	name := fn.Name()
	if i := strings.LastIndexByte(name, '/'); i >= 0 {
		name = name[i+1:]
	}
	return name
}
