package backoff

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"slices"
	"sync"
)

// getBodyError is the error of an attempt whose request body could not be
// had again from the request's GetBody.
type getBodyError struct{ err error }

func (e *getBodyError) Error() string {
	if e.err == nil {
		return "backoff: request GetBody returned a nil body and a nil error"
	}
	return "backoff: request GetBody failed: " + e.err.Error()
}

func (e *getBodyError) Unwrap() error { return e.err }

// bodyRecorder passes a request body through to the first attempt and keeps
// what it reads, up to a limit, so that later attempts can send it again.
// The base transport may read it from another goroutine, even after its
// RoundTrip has returned, while the call inspects what was kept.
//
// rmu serialises the reads of the original body (by Read and by getBody);
// mu guards the state, and is never held while the original body is read,
// so that complete and bytes never wait for a read that blocks.
type bodyRecorder struct {
	rc    io.ReadCloser
	limit int64
	size  int64 // the request's ContentLength; 0 or -1 if unknown

	rmu sync.Mutex

	mu     sync.Mutex
	buf    []byte // what was read from rc, while !over
	ahead  []byte // bytes getBody read from rc that Read has not yet returned
	over   bool   // more than limit bytes were read
	eof    bool   // rc returned io.EOF
	err    error  // rc's read error, or an invalid count it returned
	closed bool   // by the attempt's transport
	ended  bool   // the call ended
	shut   bool   // rc is closed: once closed and ended
}

func (b *bodyRecorder) Read(p []byte) (int, error) {
	b.rmu.Lock()
	defer b.rmu.Unlock()
	b.mu.Lock()
	if len(b.ahead) > 0 {
		// Read ahead by getBody: serve it first.
		n := copy(p, b.ahead)
		b.ahead = b.ahead[n:]
		b.mu.Unlock()
		return n, nil
	}
	switch {
	case b.err != nil:
		err := b.err
		b.mu.Unlock()
		return 0, err
	case b.eof:
		b.mu.Unlock()
		return 0, io.EOF
	}
	b.mu.Unlock()

	n, err := b.rc.Read(p)
	b.mu.Lock()
	defer b.mu.Unlock()
	if n < 0 || n > len(p) {
		b.err = invalidCountError(n, len(p))
		b.buf = nil
		return 0, b.err
	}
	b.keep(p[:n])
	switch {
	case err == io.EOF:
		b.eof = true
	case err != nil:
		b.err = err
	}
	return n, err
}

// keep appends p to what is kept, or drops it all once over the limit. It
// requires b.mu.
func (b *bodyRecorder) keep(p []byte) {
	if b.over {
		return
	}
	if int64(len(b.buf))+int64(len(p)) > b.limit {
		b.over, b.buf = true, nil
		return
	}
	b.buf = append(b.buf, p...)
}

func invalidCountError(n, size int) error {
	return fmt.Errorf("backoff: request body's Read returned an invalid count %d for a %d-byte buffer", n, size)
}

// Close is the attempt's transport closing the body. The original body is
// closed once the call has ended too: until then, a body of known length
// that the transport closed before sending it whole (a server that
// answered "Expect: 100-continue" with an error, say) can still be read
// to the end for the next attempt.
func (b *bodyRecorder) Close() error {
	b.mu.Lock()
	b.closed = true
	shut := b.ended && !b.shut
	b.shut = b.shut || shut
	b.mu.Unlock()
	if shut {
		return b.rc.Close()
	}
	return nil
}

// release is the call ending: it closes the original body if the
// transport has closed the recorder, else leaves that to its Close.
func (b *bodyRecorder) release() {
	b.mu.Lock()
	b.ended = true
	shut := b.closed && !b.shut
	b.shut = b.shut || shut
	b.mu.Unlock()
	if shut {
		b.rc.Close()
	}
}

// finish reports whether the whole body is kept, reading the rest of a body
// of known length that the attempt did not send whole (a server that
// answered "Expect: 100-continue" with an error, or answered before the
// upload ended), as getBody does: the bytes read ahead are still served to
// the attempt's transport, if it reads on. A body of unknown length is not
// read on: its source may block, or never end.
func (b *bodyRecorder) finish() bool {
	if b.complete() {
		return true
	}
	b.mu.Lock()
	known := b.size > 0
	b.mu.Unlock()
	if !known {
		return false
	}
	_, err := b.getBody()
	return err == nil
}

// complete reports whether the whole body was read and kept: up to io.EOF,
// or up to the request's ContentLength, which net/http may send without
// making the read that returns io.EOF.
func (b *bodyRecorder) complete() bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.whole()
}

// whole is complete with b.mu held.
func (b *bodyRecorder) whole() bool {
	if b.over || b.err != nil {
		return false
	}
	return b.eof || b.size > 0 && int64(len(b.buf)) == b.size
}

// getBody is the GetBody of the first attempt's request, offered unless
// its ContentLength is over the limit. It returns a copy of the body; if
// the body has not yet been read whole, it first reads the rest of it (up
// to the limit, or to its ContentLength), which the recorder's own Read
// then returns before reading on. It fails if the body is over the limit,
// was closed before it was read whole, or could not be read. A layer below
// the Transport may call it before sending the body (to sign it, say), and
// net/http calls it to send the request again on a new connection (an
// HTTP/2 stream refused, a connection lost before the request was written).
func (b *bodyRecorder) getBody() (io.ReadCloser, error) {
	b.mu.Lock()
	if b.whole() {
		// Kept already: no need to wait for a read of the first attempt
		// that may still be blocked (on an io.EOF that comes late).
		defer b.mu.Unlock()
		return io.NopCloser(bytes.NewReader(b.buf)), nil
	}
	b.mu.Unlock()
	b.rmu.Lock()
	defer b.rmu.Unlock()
	b.mu.Lock()
	defer b.mu.Unlock()
	for !b.whole() {
		switch {
		case b.over:
			return nil, fmt.Errorf("backoff: request body not kept: it is over the Transport's BufferLimit of %d bytes", b.limit)
		case b.err != nil:
			return nil, fmt.Errorf("backoff: request body not kept: reading it failed: %w", b.err)
		case b.shut || b.closed && b.size <= 0:
			// A body of unknown length is not read on once the
			// transport closed it: its source may block, or never end.
			return nil, errBodyClosed
		}
		b.readAhead()
	}
	return io.NopCloser(bytes.NewReader(b.buf)), nil
}

var errBodyClosed = errors.New("backoff: request body not kept: it was closed before it was read whole")

// readAhead reads the original body once into b.buf (growing it as
// needed, never past the limit by more than a byte, nor past the
// ContentLength) and records what comes of it. The bytes read are also
// added to b.ahead, for Read to return. It requires b.rmu and b.mu, and
// releases b.mu while it reads: holding b.rmu, it is the only writer of
// b.buf, and it reads into b.buf's spare capacity, which no copy handed
// out covers.
func (b *bodyRecorder) readAhead() {
	want := b.limit + 1 - int64(len(b.buf)) // at most one byte over
	if b.size > 0 {
		want = min(want, b.size-int64(len(b.buf)))
	}
	if want <= 0 {
		want = 1 // a body longer than its ContentLength
	}
	want = min(want, 32<<10)
	start := len(b.buf) - len(b.ahead)
	b.buf = slices.Grow(b.buf, int(want))
	p := b.buf[len(b.buf) : len(b.buf)+int(want)]
	b.mu.Unlock()
	n, err := b.rc.Read(p)
	b.mu.Lock()
	if n < 0 || n > len(p) {
		b.err = invalidCountError(n, len(p))
		return
	}
	b.buf = b.buf[:len(b.buf)+n]
	b.ahead = b.buf[start:]
	if int64(len(b.buf)) > b.limit {
		// Over the limit: stop keeping, but the bytes read ahead are
		// still the first attempt's to send.
		b.over, b.buf = true, nil
	}
	switch {
	case err == io.EOF:
		b.eof = true
	case err != nil:
		b.err = err
	}
}

func (b *bodyRecorder) bytes() []byte {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf
}
