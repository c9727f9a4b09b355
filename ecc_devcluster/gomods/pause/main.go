// Copyright 2026 The ECC Fleet authors.
// SPDX-License-Identifier: Apache-2.0

// Command pause is the sandbox process of a pod on ECC Fleet's real nodes: the container
// runtime starts it first, as PID 1 of the pod's PID namespace, and the pod's containers join
// its namespaces. It does nothing but hold them open:
//
//   - every child that exits is reaped (on SIGCHLD it collects all exited children with
//     wait4(-1, WNOHANG)), so orphans re-parented to it never stay zombies;
//   - SIGINT and SIGTERM end it with exit status 0;
//   - otherwise it blocks forever;
//   - `pause -v` prints its version and exits.
//
// Written for ECC Fleet; it uses only the standard library and is built with CGO_ENABLED=0,
// so the static binary can be the only file of a FROM-scratch image.
package main

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"runtime"
	"syscall"
)

// version is what `pause -v` reports; ecc_devcluster/binaries.py reads it from here.
const version = "v1.0.0"

func main() {
	printVersion := flag.Bool("v", false, "print the version and exit")
	flag.Parse()
	if *printVersion {
		fmt.Printf("pause %s (ecc-fleet, %s %s/%s)\n", version, runtime.Version(), runtime.GOOS, runtime.GOARCH)
		return
	}
	if os.Getpid() != 1 {
		fmt.Fprintln(os.Stderr, "pause: warning: not running as PID 1; only its own children can be reaped")
	}

	events := make(chan os.Signal, 16)
	signal.Notify(events, syscall.SIGCHLD, syscall.SIGINT, syscall.SIGTERM)
	reapExited() // children that exited before the handler was installed
	for event := range events {
		if event == syscall.SIGCHLD {
			reapExited()
			continue
		}
		// SIGINT or SIGTERM: a clean stop of the sandbox.
		os.Exit(0)
	}
}

// reapExited collects the exit status of every child that has exited, without blocking.
// One SIGCHLD may stand for several children (signals coalesce), hence the loop.
func reapExited() {
	for {
		var status syscall.WaitStatus
		pid, err := syscall.Wait4(-1, &status, syscall.WNOHANG, nil)
		if errors.Is(err, syscall.EINTR) {
			continue
		}
		if err != nil || pid <= 0 { // ECHILD: no children; 0: the others still run
			return
		}
	}
}
