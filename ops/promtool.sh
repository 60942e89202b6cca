#!/usr/bin/env bash
# Runs promtool, pinned to the Prometheus release below, built from the Go
# module proxy by go run: nothing to install but Go. Any promtool command:
#
#	ops/promtool.sh check rules ops/prometheus/rules.yml
#	ops/promtool.sh test rules ops/prometheus/rules_test.yml
#
# The first run builds promtool (measured: 6m37s on 2 busy cores, with
# empty module and build caches); later runs take seconds, from the Go
# build cache. The build tag remove_all_sd leaves out the service
# discoveries of the cloud providers, which the rule commands do not use:
# without it the first build took 14m46s. README.md says more.
set -euo pipefail

PROMTOOL=github.com/prometheus/prometheus/cmd/promtool@v0.316.0

# go run pkg@version ignores the workspace; GOWORK=off makes sure of it.
GOWORK=off exec go run -tags remove_all_sd "$PROMTOOL" "$@"
