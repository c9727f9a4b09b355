//go:build tools

// Package tools only records the command this module builds, so `go mod tidy` keeps its
// dependencies. It is never compiled (build tag "tools").
package tools

import (
	_ "github.com/coredns/coredns"
)
