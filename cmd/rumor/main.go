// Command rumor is the one binary of rumor: `rumor node` runs a device,
// the other commands talk to one.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := Run(ctx, os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "rumor:", err)
		os.Exit(1)
	}
}
