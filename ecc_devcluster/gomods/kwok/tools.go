//go:build tools

// Package tools only records the commands this module builds, so `go mod tidy` keeps their
// dependencies. It is never compiled (build tag "tools").
package tools

import (
	_ "sigs.k8s.io/kwok/cmd/kwok"
)
