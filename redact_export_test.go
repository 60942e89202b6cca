package backoff

// RedactURLs exposes redactURLs to the tests of package backoff_test.
var RedactURLs = redactURLs
