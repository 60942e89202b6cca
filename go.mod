module github.com/f99b3bbb/backoff

go 1.25
