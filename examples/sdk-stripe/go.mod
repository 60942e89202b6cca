module github.com/f99b3bbb/backoff/examples/sdk-stripe

go 1.25.0

replace github.com/f99b3bbb/backoff => ../..

require (
	github.com/f99b3bbb/backoff v0.0.0-00010101000000-000000000000
	github.com/stripe/stripe-go/v82 v82.5.1
	go.uber.org/goleak v1.3.0
)

require github.com/hashicorp/go-cleanhttp v0.5.2 // indirect
