package metrics

// Help is the help text of the metrics, by name without namespace.
var Help = help
