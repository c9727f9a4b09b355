// Wrapper module of our own pause command (main.go): no dependencies, so go.sum stays empty and
// the cache key also covers go.mod and main.go (see `key_sources` in ecc_devcluster/binaries.py).
module ecc-fleet/devcluster/pause

go 1.25.0
