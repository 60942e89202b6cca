module github.com/f99b3bbb/backoff/ops

go 1.25.0

require go.yaml.in/yaml/v3 v3.0.5
