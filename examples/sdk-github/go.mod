module github.com/f99b3bbb/backoff/examples/sdk-github

go 1.25.0

replace github.com/f99b3bbb/backoff => ../..

require (
	github.com/f99b3bbb/backoff v0.0.0-00010101000000-000000000000
	github.com/google/go-github/v84 v84.0.0
	go.uber.org/goleak v1.3.0
)

require (
	github.com/google/go-querystring v1.2.0 // indirect
	github.com/hashicorp/go-cleanhttp v0.5.2 // indirect
)
