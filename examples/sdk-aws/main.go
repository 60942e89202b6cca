// Sdk-aws drives aws-sdk-go-v2's S3 and DynamoDB clients through a
// backoff.Transport against a local fake of both APIs (S3's REST-XML,
// path-style, and DynamoDB's JSON 1.0 protocol; every request's SigV4
// signature checked as AWS checks it), and shows:
//
//   - one retrying layer: with the SDK's retryer and the Transport both
//     on, the attempts multiply (12 requests for a call that fails
//     throughout); the settings for ours alone (Retryer: aws.NopRetryer{})
//     and for the SDK's alone (MaxAttempts: 1 on the Transport);
//   - the attempt header: the SDK signs its amz-sdk-request, so a
//     Transport that rewrites it (AttemptHeader) breaks the signature
//     unless the SDK's header is removed before signing;
//   - large uploads: the SDK gives the Transport a 5 MiB PutObject body
//     without GetBody, over the Transport's BufferLimit, so it is not sent
//     again unless BufferLimit is raised;
//   - DynamoDB's POSTs, which DefaultIdempotent does not replay: an
//     Idempotent rule (or backoff.WithIdempotent) for the reads.
//
// For each call it prints the requests the fake saw and the call's
// backoff.Outcome. The fake listens on 127.0.0.1 only, so the program
// needs no network access and no AWS account; it ends in about a second.
// Run it from the repository's root with:
//
//	go run ./examples/sdk-aws
package main

import (
	"bytes"
	"context"
	"crypto/md5"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/smithy-go"
	"github.com/aws/smithy-go/middleware"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/f99b3bbb/backoff"
	"github.com/f99b3bbb/backoff/strategy"
)

func main() {
	if err := run(os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "sdk-aws:", err)
		os.Exit(1)
	}
}

const (
	region    = "us-east-1"
	accessKey = "AKIDEXAMPLE"
	secretKey = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
	bucket    = "demo-bucket"
	table     = "users"
)

// --- The settings of the guide. ---

// noSDKRetries turns the SDK's retryer off, for a Transport that retries:
// aws.NopRetryer never retries, even when Config.RetryMaxAttempts (which
// AWS_MAX_ATTEMPTS and max_attempts set through config.LoadDefaultConfig)
// wraps it with a larger limit.
func noSDKRetries() aws.Retryer { return aws.NopRetryer{} }

// standardRetryer is the SDK's default retryer (3 attempts), with its
// waits between attempts (up to 20s, 1s and 2s at first) shortened to 10ms
// so that the demo is quick.
func standardRetryer() aws.Retryer {
	return retry.NewStandard(func(o *retry.StandardOptions) {
		o.Backoff = retry.BackoffDelayerFunc(func(int, error) (time.Duration, error) {
			return 10 * time.Millisecond, nil
		})
	})
}

// capToOne is the other way to turn the SDK's retries off that the SDK
// offers, which Config.RetryMaxAttempts silently undoes.
func capToOne() aws.Retryer { return retry.AddWithMaxAttempts(standardRetryer(), 1) }

// demoWait replaces the Transport's waits between retries (250ms, 500ms,
// 1s, …) in the demo: at most 10ms.
var demoWait = strategy.Constant{Interval: 10 * time.Millisecond}

// ours is the Transport of a client that retries with it.
func ours() *backoff.Transport { return &backoff.Transport{Wait: demoWait} }

// unsignAttemptHeader removes the SDK's amz-sdk-request header before the
// SDK signs the request, so that a Transport below the SDK can set that
// header on each attempt (AttemptHeader) without invalidating the
// signature: SigV4 signs every header present at signing time but a few,
// and amz-sdk-request is not among the exceptions.
func unsignAttemptHeader(stack *middleware.Stack) error {
	return stack.Finalize.Insert(middleware.FinalizeMiddlewareFunc("UnsignAmzSdkRequest",
		func(ctx context.Context, in middleware.FinalizeInput, next middleware.FinalizeHandler) (middleware.FinalizeOutput, middleware.Metadata, error) {
			if req, ok := in.Request.(*smithyhttp.Request); ok {
				req.Header.Del("Amz-Sdk-Request")
			}
			return next.HandleFinalize(ctx, in)
		}), "Signing", middleware.Before)
}

// dynamoReads are the DynamoDB operations that only read: sending one
// again cannot change anything.
var dynamoReads = map[string]bool{
	"DynamoDB_20120810.GetItem":          true,
	"DynamoDB_20120810.BatchGetItem":     true,
	"DynamoDB_20120810.Query":            true,
	"DynamoDB_20120810.Scan":             true,
	"DynamoDB_20120810.TransactGetItems": true,
	"DynamoDB_20120810.DescribeTable":    true,
}

// idempotentDynamoReads is an Idempotent rule for a Transport under a
// DynamoDB client: DefaultIdempotent's, and DynamoDB's reads, which are
// POSTs.
func idempotentDynamoReads(req *http.Request) bool {
	return backoff.DefaultIdempotent(req) || dynamoReads[req.Header.Get("X-Amz-Target")]
}

// --- The demo. ---

// A scenario is one call of the demo: what the fake answers, in order (the
// last answer repeats), and how the client retries.
type scenario struct {
	title   string
	answers []answer
	// transport is ours; nil means a plain http.Transport.
	transport *backoff.Transport
	// retryer is the SDK's; nil means standardRetryer.
	retryer func() aws.Retryer
	// maxAttempts is Config.RetryMaxAttempts, as AWS_MAX_ATTEMPTS sets it.
	maxAttempts int
	apiOptions  []func(*middleware.Stack) error
	// withIdempotent marks the call's context with backoff.WithIdempotent.
	withIdempotent bool
	op             operation
}

type section struct {
	title     string
	scenarios []scenario
}

func sections() []section {
	withHeader := func(t *backoff.Transport) *backoff.Transport {
		t.AttemptHeader = "Amz-Sdk-Request"
		t.AttemptHeaderValue = backoff.AttemptOfMax
		return t
	}
	bigBuffer := ours()
	bigBuffer.BufferLimit = 8 << 20
	bigBufferEarly := ours()
	bigBufferEarly.BufferLimit = 8 << 20
	single := ours()
	single.MaxAttempts = 1
	singleUpload := ours()
	singleUpload.MaxAttempts = 1
	readsIdempotent := ours()
	readsIdempotent.Idempotent = idempotentDynamoReads
	return []section{
		{"One retrying layer: S3 GetObject, the fake answering 503 SlowDown to every request", []scenario{
			{title: "both on: the SDK's standard retryer (3 attempts) over our Transport (4 attempts)",
				answers: []answer{slowDown}, transport: ours(), op: getObject},
			{title: "ours: Retryer: aws.NopRetryer{}",
				answers: []answer{slowDown}, transport: ours(), retryer: noSDKRetries, op: getObject},
			{title: "the SDK's: our Transport with MaxAttempts: 1",
				answers: []answer{slowDown}, transport: single, op: getObject},
			{title: "ours: aws.NopRetryer{} with RetryMaxAttempts: 3 (what AWS_MAX_ATTEMPTS=3 sets)",
				answers: []answer{slowDown}, transport: ours(), retryer: noSDKRetries, maxAttempts: 3, op: getObject},
			{title: "ours: retry.AddWithMaxAttempts(retry.NewStandard(), 1) with RetryMaxAttempts: 3",
				answers: []answer{slowDown}, transport: ours(), retryer: capToOne, maxAttempts: 3, op: getObject},
		}},
		{"The attempt header: S3 GetObject, the fake answering 503, 503, then 200; the SDK's retryer off", []scenario{
			{title: "ours without AttemptHeader",
				answers: []answer{slowDown, slowDown, ok}, transport: ours(), retryer: noSDKRetries, op: getObject},
			{title: `AttemptHeader: "Amz-Sdk-Request", AttemptHeaderValue: backoff.AttemptOfMax`,
				answers: []answer{slowDown, slowDown, ok}, transport: withHeader(ours()), retryer: noSDKRetries, op: getObject},
			{title: "the same, with the SDK's header removed before signing (APIOptions: unsignAttemptHeader)",
				answers: []answer{slowDown, slowDown, ok}, transport: withHeader(ours()), retryer: noSDKRetries,
				apiOptions: []func(*middleware.Stack) error{unsignAttemptHeader}, op: getObject},
		}},
		{"Large uploads: S3 PutObject of 5 MiB from a bytes.Reader, the fake answering 500 InternalError (after reading the body), then 200", []scenario{
			{title: "ours, the default BufferLimit (1 MiB)",
				answers: []answer{internalError, ok}, transport: ours(), retryer: noSDKRetries, op: putObject},
			{title: "ours, BufferLimit: 8 << 20",
				answers: []answer{internalError, ok}, transport: bigBuffer, retryer: noSDKRetries, op: putObject},
			{title: "the SDK's retryer, our Transport with MaxAttempts: 1",
				answers: []answer{internalError, ok}, transport: singleUpload, op: putObject},
			{title: "ours, BufferLimit: 8 << 20, the fake answering 503 SlowDown before the body (Expect: 100-continue)",
				answers: []answer{slowDown, ok}, transport: bigBufferEarly, retryer: noSDKRetries, op: putObject},
		}},
		{"DynamoDB GetItem (a POST), the fake answering 500 InternalServerError, then 200; the SDK's retryer off", []scenario{
			{title: "ours, the default Idempotent",
				answers: []answer{internalError, ok}, transport: ours(), retryer: noSDKRetries, op: getItem},
			{title: "ours, Idempotent: idempotentDynamoReads (GetItem, Query, Scan, …)",
				answers: []answer{internalError, ok}, transport: readsIdempotent, retryer: noSDKRetries, op: getItem},
			{title: "ours, backoff.WithIdempotent(ctx, true) on the call's context",
				answers: []answer{internalError, ok}, transport: ours(), retryer: noSDKRetries, withIdempotent: true, op: getItem},
		}},
	}
}

// run plays every scenario against a fake of its own and writes what
// happened to w.
func run(w io.Writer) error {
	n := 0
	for _, sec := range sections() {
		fmt.Fprintf(w, "== %s\n", sec.title)
		for _, sc := range sec.scenarios {
			n++
			fmt.Fprintf(w, "%d. %s\n", n, sc.title)
			if err := play(w, sc); err != nil {
				return fmt.Errorf("%s: %w", sc.title, err)
			}
		}
	}
	return nil
}

// clients are the SDK's clients of a scenario.
type clients struct {
	s3  *s3.Client
	ddb *dynamodb.Client
}

// An operation is the call of a scenario; it returns what it got.
type operation func(ctx context.Context, c clients) (string, error)

func play(w io.Writer, sc scenario) error {
	fake := &fakeAWS{answers: sc.answers}
	srv := httptest.NewServer(fake)
	defer srv.Close()

	var base http.RoundTripper
	if sc.transport != nil {
		defer sc.transport.CloseIdleConnections()
		base = sc.transport
	} else {
		t := &http.Transport{}
		defer t.CloseIdleConnections()
		base = t
	}
	seen := &inspector{next: base}
	retryer := sc.retryer
	if retryer == nil {
		retryer = standardRetryer
	}
	cfg := aws.Config{
		Region:           region,
		Credentials:      credentials.NewStaticCredentialsProvider(accessKey, secretKey, ""),
		BaseEndpoint:     aws.String(srv.URL),
		HTTPClient:       &http.Client{Transport: seen},
		Retryer:          retryer,
		RetryMaxAttempts: sc.maxAttempts,
		APIOptions:       sc.apiOptions,
	}
	c := clients{
		s3:  s3.NewFromConfig(cfg, func(o *s3.Options) { o.UsePathStyle = true }),
		ddb: dynamodb.NewFromConfig(cfg),
	}

	var o backoff.Outcome
	ctx := backoff.WithOutcome(context.Background(), &o)
	if sc.withIdempotent {
		ctx = backoff.WithIdempotent(ctx, true)
	}
	got, err := sc.op(ctx, c)

	reqs := fake.seen()
	if bad := reqs.bad(); bad != "" {
		return errors.New("the fake got a request unlike the SDK's: " + bad)
	}
	fmt.Fprintf(w, "   the fake saw %d %s%s%s\n", len(reqs), plural(len(reqs), "request"), reqs.codes(), reqs.signatures())
	fmt.Fprintf(w, "   amz-sdk-request: %s\n", reqs.attempts())
	if first, ok := seen.first(); ok && first.ContentLength > 1<<20 {
		fmt.Fprintf(w, "   the request the Transport got: ContentLength %d, GetBody set: %t\n", first.ContentLength, first.GetBody)
	}
	if err != nil {
		fmt.Fprintf(w, "   sdk: %s\n", describe(err))
	} else {
		fmt.Fprintf(w, "   sdk: ok, %s\n", got)
	}
	switch {
	case sc.transport == nil:
	case o.Attempts == 0:
		fmt.Fprintln(w, "   outcome: none, the Transport was not called")
	default:
		// The Transport fills the Outcome at the end of each of its
		// calls: with the SDK's retryer on, the last one has the word.
		last := ""
		if n := seen.count(); n > 1 {
			last = fmt.Sprintf(" (of the last of the SDK's %d attempts)", n)
		}
		fmt.Fprintf(w, "   outcome%s: attempts=%d status=%d reason=%q\n", last, o.Attempts, o.Status, string(o.Reason))
	}
	return nil
}

// describe says what the SDK returned: the API error's code, the HTTP
// status and whether the SDK's retryer ran out of attempts.
func describe(err error) string {
	var parts []string
	var api smithy.APIError
	if errors.As(err, &api) {
		parts = append(parts, "api error "+api.ErrorCode())
	}
	var resp *awshttp.ResponseError
	if errors.As(err, &resp) {
		parts = append(parts, "HTTP "+strconv.Itoa(resp.HTTPStatusCode()))
	}
	var max *retry.MaxAttemptsError
	if errors.As(err, &max) {
		parts = append(parts, fmt.Sprintf("the SDK's retryer gave up after %d attempts", max.Attempt))
	}
	if len(parts) == 0 {
		return fmt.Sprintf("error %T", err)
	}
	return strings.Join(parts, ", ")
}

// The operations.

func getObject(ctx context.Context, c clients) (string, error) {
	out, err := c.s3.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String("hello.txt")})
	if err != nil {
		return "", err
	}
	defer out.Body.Close()
	b, err := io.ReadAll(out.Body)
	if err != nil {
		return "", err
	}
	return fmt.Sprintf("%d bytes", len(b)), nil
}

// upload is the body of the large PutObject: 5 MiB of a repeated pattern.
var upload = bytes.Repeat([]byte("0123456789abcdef"), 5<<20/16)

func putObject(ctx context.Context, c clients) (string, error) {
	out, err := c.s3.PutObject(ctx, &s3.PutObjectInput{
		Bucket: aws.String(bucket),
		Key:    aws.String("big.bin"),
		Body:   bytes.NewReader(upload),
	})
	if err != nil {
		return "", err
	}
	return "ETag " + aws.ToString(out.ETag), nil
}

func getItem(ctx context.Context, c clients) (string, error) {
	out, err := c.ddb.GetItem(ctx, &dynamodb.GetItemInput{
		TableName: aws.String(table),
		Key:       map[string]types.AttributeValue{"pk": &types.AttributeValueMemberS{Value: "user#1"}},
	})
	if err != nil {
		return "", err
	}
	name, _ := out.Item["name"].(*types.AttributeValueMemberS)
	if name == nil {
		return "", errors.New("no name in the item")
	}
	return "name " + name.Value, nil
}

// inspector records the requests a RoundTripper is given.
type inspector struct {
	next http.RoundTripper

	mu   sync.Mutex
	reqs []given
}

type given struct {
	ContentLength int64
	GetBody       bool
}

func (i *inspector) RoundTrip(req *http.Request) (*http.Response, error) {
	i.mu.Lock()
	i.reqs = append(i.reqs, given{ContentLength: req.ContentLength, GetBody: req.GetBody != nil})
	i.mu.Unlock()
	return i.next.RoundTrip(req)
}

func (i *inspector) count() int {
	i.mu.Lock()
	defer i.mu.Unlock()
	return len(i.reqs)
}

func (i *inspector) first() (given, bool) {
	i.mu.Lock()
	defer i.mu.Unlock()
	if len(i.reqs) == 0 {
		return given{}, false
	}
	return i.reqs[0], true
}

func plural(n int, word string) string {
	if n == 1 {
		return word
	}
	return word + "s"
}

// runs writes a list of values, a run of the same one as a count.
func runs(vals []string) string {
	var s []string
	for i := 0; i < len(vals); {
		j := i
		for j < len(vals) && vals[j] == vals[i] {
			j++
		}
		v := vals[i]
		if j-i > 1 {
			v = strconv.Itoa(j-i) + " × " + v
		}
		s = append(s, v)
		i = j
	}
	return strings.Join(s, ", ")
}

// --- The fake. ---

// An answer writes one response of the fake. body is the request body
// when the fake read it to check the signature (DynamoDB's), else nil:
// an S3 answer reads the body itself, or leaves it unread.
type answer func(w http.ResponseWriter, r *http.Request, body []byte)

// fakeAWS answers S3's GetObject and PutObject (path-style) and
// DynamoDB's GetItem as AWS does, after checking each request's SigV4
// signature, with the answers of its script in turn (the last one
// repeats).
type fakeAWS struct {
	answers []answer

	mu   sync.Mutex
	reqs requests
}

// A request is what the fake saw of one request.
type request struct {
	code    int    // the status answered
	attempt string // the amz-sdk-request header
	badSig  bool   // the signature did not match
	problem string // why the request is unlike the SDK's, if it is
}

type requests []request

func (f *fakeAWS) seen() requests {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append(requests(nil), f.reqs...)
}

func (f *fakeAWS) update(n int, fn func(*request)) {
	f.mu.Lock()
	fn(&f.reqs[n])
	f.mu.Unlock()
}

func (f *fakeAWS) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	// The request is recorded as it arrives, and its status as it is
	// written, before the client can see any answer: a call that has
	// returned has all its requests counted.
	f.mu.Lock()
	n := len(f.reqs)
	f.reqs = append(f.reqs, request{attempt: r.Header.Get("Amz-Sdk-Request")})
	f.mu.Unlock()
	rec := &statusRecorder{ResponseWriter: w, record: func(code int) {
		f.update(n, func(q *request) { q.code = code })
	}}

	service, problem := route(r)
	if problem != "" {
		f.update(n, func(q *request) { q.problem = problem })
		s3Error(rec, http.StatusBadRequest, "InvalidRequest", problem)
		return
	}
	var body []byte
	payload := r.Header.Get("X-Amz-Content-Sha256")
	if service == "dynamodb" {
		// DynamoDB's signature covers the body's hash, which is not
		// sent: read the body to check it.
		var err error
		if body, err = io.ReadAll(r.Body); err != nil {
			return
		}
		sum := sha256.Sum256(body)
		payload = hex.EncodeToString(sum[:])
	}
	if err := verifySignature(r, service, payload); err != nil {
		f.update(n, func(q *request) { q.badSig = true })
		if service == "dynamodb" {
			dynamoError(rec, http.StatusBadRequest, "com.amazon.coral.service#InvalidSignatureException",
				"The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.")
			return
		}
		s3Error(rec, http.StatusForbidden, "SignatureDoesNotMatch",
			"The request signature we calculated does not match the signature you provided. Check your key and signing method.")
		return
	}
	f.answers[min(n, len(f.answers)-1)](rec, r, body)
}

// route tells the service of a request, or what is wrong with it.
func route(r *http.Request) (service, problem string) {
	switch {
	case r.Method == http.MethodPost && r.URL.Path == "/":
		if r.Header.Get("X-Amz-Target") != "DynamoDB_20120810.GetItem" ||
			r.Header.Get("Content-Type") != "application/x-amz-json-1.0" {
			return "", "unexpected DynamoDB request " + r.Header.Get("X-Amz-Target")
		}
		return "dynamodb", ""
	case r.Method == http.MethodGet && r.URL.Path == "/"+bucket+"/hello.txt",
		r.Method == http.MethodPut && r.URL.Path == "/"+bucket+"/big.bin":
		return "s3", ""
	}
	return "", "unexpected " + r.Method + " " + r.URL.Path
}

// verifySignature checks the SigV4 signature of r as AWS does: it signs
// again, with the same key, the request made of r's method, URL and the
// headers that r's Authorization says were signed, and compares.
func verifySignature(r *http.Request, service, payloadHash string) error {
	auth := r.Header.Get("Authorization")
	fields, ok := strings.CutPrefix(auth, "AWS4-HMAC-SHA256 ")
	if !ok {
		return errors.New("not signed with SigV4")
	}
	var signed []string
	for _, f := range strings.Split(fields, ", ") {
		if v, ok := strings.CutPrefix(f, "SignedHeaders="); ok {
			signed = strings.Split(v, ";")
		}
	}
	at, err := time.Parse("20060102T150405Z", r.Header.Get("X-Amz-Date"))
	if err != nil {
		return err
	}
	u := &url.URL{Scheme: "http", Host: r.Host, Path: r.URL.Path, RawPath: r.URL.RawPath, RawQuery: r.URL.RawQuery}
	again, err := http.NewRequest(r.Method, u.String(), nil)
	if err != nil {
		return err
	}
	again.ContentLength = r.ContentLength
	for _, h := range signed {
		if h == "host" || h == "content-length" {
			continue
		}
		again.Header[http.CanonicalHeaderKey(h)] = r.Header.Values(h)
	}
	signer := v4.NewSigner(func(o *v4.SignerOptions) { o.DisableURIPathEscaping = service == "s3" })
	creds := aws.Credentials{AccessKeyID: accessKey, SecretAccessKey: secretKey}
	if err := signer.SignHTTP(context.Background(), creds, again, payloadHash, service, region, at); err != nil {
		return err
	}
	if again.Header.Get("Authorization") != auth {
		return errors.New("signature mismatch")
	}
	return nil
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

const requestID = "4442587FB7D0A2F9"

func s3Headers(h http.Header) {
	h.Set("Server", "AmazonS3")
	h.Set("X-Amz-Request-Id", requestID)
	h.Set("X-Amz-Id-2", "vlR7PnpV2Ce81l0PRw6jlUpck7Jo5ZsQjryTjKlc5aLWGVHPZLj5NeC6qMa0emYBDXOo6QBU0Wo=")
}

func s3Error(w http.ResponseWriter, code int, errCode, msg string) {
	s3Headers(w.Header())
	w.Header().Set("Content-Type", "application/xml")
	w.WriteHeader(code)
	fmt.Fprintf(w, `<?xml version="1.0" encoding="UTF-8"?>
<Error><Code>%s</Code><Message>%s</Message><RequestId>%s</RequestId><HostId>vlR7PnpV2Ce81l0PRw6jlUpck7Jo5ZsQjryTjKlc5aLWGVHPZLj5NeC6qMa0emYBDXOo6QBU0Wo=</HostId></Error>`,
		errCode, msg, requestID)
}

func dynamoError(w http.ResponseWriter, code int, typ, msg string) {
	b := fmt.Sprintf(`{"__type":%q,"message":%q}`, typ, msg)
	dynamoHeaders(w.Header(), b)
	w.WriteHeader(code)
	io.WriteString(w, b)
}

func dynamoHeaders(h http.Header, body string) {
	h.Set("Content-Type", "application/x-amz-json-1.0")
	h.Set("X-Amzn-Requestid", "KSSGLS5J0DQRGN0MI3BJQ7FQ5VVV4KQNSO5AEMVJF66Q9ASUAAJG")
	h.Set("X-Amz-Crc32", strconv.FormatUint(uint64(crc32.ChecksumIEEE([]byte(body))), 10))
}

// slowDown is S3's throttling answer, given as soon as the request's
// headers are in: the body, if any, is never read, as with Expect:
// 100-continue S3 need not.
func slowDown(w http.ResponseWriter, _ *http.Request, _ []byte) {
	s3Error(w, http.StatusServiceUnavailable, "SlowDown", "Please reduce your request rate.")
}

// internalError is a failure after the request was received whole.
func internalError(w http.ResponseWriter, r *http.Request, _ []byte) {
	if r.Method == http.MethodPost {
		dynamoError(w, http.StatusInternalServerError, "com.amazonaws.dynamodb.v20120810#InternalServerError", "Internal server error")
		return
	}
	if _, ok := readBody(r); !ok {
		s3Error(w, http.StatusBadRequest, "XAmzContentSHA256Mismatch", "The provided 'x-amz-content-sha256' header does not match what was computed.")
		return
	}
	s3Error(w, http.StatusInternalServerError, "InternalError", "We encountered an internal error. Please try again.")
}

// readBody reads a request body whole and checks it against its signed
// SHA-256.
func readBody(r *http.Request) ([]byte, bool) {
	b, err := io.ReadAll(r.Body)
	if err != nil {
		return nil, false
	}
	sum := sha256.Sum256(b)
	return b, hex.EncodeToString(sum[:]) == r.Header.Get("X-Amz-Content-Sha256")
}

func ok(w http.ResponseWriter, r *http.Request, _ []byte) {
	switch r.Method {
	case http.MethodPost:
		b := `{"Item":{"pk":{"S":"user#1"},"name":{"S":"Ada Lovelace"}}}`
		dynamoHeaders(w.Header(), b)
		w.WriteHeader(http.StatusOK)
		io.WriteString(w, b)
	case http.MethodGet:
		const object = "hello, world\n"
		s3Headers(w.Header())
		w.Header().Set("Content-Type", "text/plain")
		w.Header().Set("Content-Length", strconv.Itoa(len(object)))
		w.Header().Set("ETag", `"22c3683b094136c3398391ae71b20f04"`)
		w.Header().Set("Last-Modified", "Mon, 01 Dec 2025 12:00:00 GMT")
		w.Header().Set("Accept-Ranges", "bytes")
		w.WriteHeader(http.StatusOK)
		io.WriteString(w, object)
	case http.MethodPut:
		b, good := readBody(r)
		if !good {
			s3Error(w, http.StatusBadRequest, "XAmzContentSHA256Mismatch", "The provided 'x-amz-content-sha256' header does not match what was computed.")
			return
		}
		sum := md5.Sum(b)
		s3Headers(w.Header())
		w.Header().Set("ETag", `"`+hex.EncodeToString(sum[:])+`"`)
		w.Header().Set("X-Amz-Server-Side-Encryption", "AES256")
		w.WriteHeader(http.StatusOK)
	}
}

func (q requests) bad() string {
	for _, r := range q {
		if r.problem != "" {
			return r.problem
		}
	}
	return ""
}

func (q requests) codes() string {
	s := make([]string, len(q))
	for i, r := range q {
		s[i] = strconv.Itoa(r.code)
	}
	if len(s) == 0 {
		return ""
	}
	return " (" + runs(s) + ")"
}

func (q requests) signatures() string {
	bad := 0
	for _, r := range q {
		if r.badSig {
			bad++
		}
	}
	switch {
	case len(q) == 0:
		return ""
	case bad == 0:
		return ", every signature valid"
	case bad == len(q):
		return ", every signature invalid"
	}
	return fmt.Sprintf(", %d of them with an invalid signature", bad)
}

func (q requests) attempts() string {
	s := make([]string, len(q))
	for i, r := range q {
		s[i] = strconv.Quote(r.attempt)
	}
	return runs(s)
}
