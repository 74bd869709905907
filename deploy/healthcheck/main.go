// Command healthcheck is the container image's HTTP health probe: "healthcheck URL [TIMEOUT]"
// exits 0 when GET URL answers 2xx and 1 otherwise (2 for bad usage). The runtime image has no
// shell, curl or wget, so compose healthchecks run this. See deploy.Probe.
package main

import (
	"context"
	"errors"
	"fmt"
	"os"

	"github.com/masspayout/masspayout/deploy"
)

func main() {
	if err := deploy.RunProbe(context.Background(), os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "healthcheck:", err)
		if errors.Is(err, deploy.ErrProbeUsage) {
			os.Exit(2)
		}
		os.Exit(1)
	}
}
