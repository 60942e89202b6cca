module github.com/f99b3bbb/backoff/examples/prometheus

go 1.25.0

// The root and metrics modules are not released yet: build against the
// working copy.
replace (
	github.com/f99b3bbb/backoff => ../../
	github.com/f99b3bbb/backoff/metrics => ../../metrics
)

require (
	github.com/f99b3bbb/backoff v0.0.0-00010101000000-000000000000
	github.com/f99b3bbb/backoff/metrics v0.0.0-00010101000000-000000000000
	github.com/prometheus/client_golang v1.24.0
)

require (
	github.com/beorn7/perks v1.0.1 // indirect
	github.com/cespare/xxhash/v2 v2.3.0 // indirect
	github.com/hashicorp/go-cleanhttp v0.5.2 // indirect
	github.com/munnerz/goautoneg v0.0.0-20191010083416-a7dc8b61c822 // indirect
	github.com/prometheus/client_model v0.6.3 // indirect
	github.com/prometheus/common v0.71.0 // indirect
	github.com/prometheus/procfs v0.22.0 // indirect
	golang.org/x/sys v0.47.0 // indirect
	google.golang.org/protobuf v1.36.12 // indirect
)
