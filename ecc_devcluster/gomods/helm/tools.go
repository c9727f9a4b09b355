//go:build tools

// Package tools only records the commands this module builds, so `go mod tidy` keeps their
// dependencies. It is never compiled (build tag "tools").
package tools

import (
	_ "helm.sh/helm/v3/cmd/helm"
)
