#!/usr/bin/env bash
# Checks everything in ops/: the rules with the pinned promtool (syntax,
# then the unit tests of rules_test.yml), and the Go tests of this module
# (the dashboard's JSON and structure, the metric names of the rules and
# the dashboard against metrics/help.go, an alert's annotations, runbook
# and tests). Run from anywhere: ops/check.sh
set -euo pipefail
cd "$(dirname "$0")"

./promtool.sh check rules prometheus/rules.yml
./promtool.sh test rules prometheus/rules_test.yml
go test -count=1 ./...
