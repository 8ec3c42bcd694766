// Package simulations is rumor's deterministic fleet simulator.
package simulations
