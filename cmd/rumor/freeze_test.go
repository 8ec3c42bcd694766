package main

import (
	"encoding/json"
	"net/http"
	"syscall"
	"testing"
	"time"
)

type statusBody struct {
	DeviceID string   `json:"device_id"`
	Addrs    []string `json:"addrs"`
	Events   uint64   `json:"events"`
	Digest   string   `json:"digest"`
}

func (p *proc) status(t *testing.T) statusBody {
	t.Helper()
	resp, err := http.Get(p.url + "/v1/status")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var st statusBody
	if err := json.NewDecoder(resp.Body).Decode(&st); err != nil {
		t.Fatal(err)
	}
	return st
}

func waitUntil(t *testing.T, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", d, what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func sameDigest(t *testing.T, events uint64, ps ...*proc) bool {
	first := ps[0].status(t)
	if first.Events != events {
		return false
	}
	for _, p := range ps[1:] {
		if p.status(t).Digest != first.Digest {
			return false
		}
	}
	return true
}

// TestFrozenNodeCatchesUp freezes one of three node processes with
// SIGSTOP while the others keep writing, then thaws it.
func TestFrozenNodeCatchesUp(t *testing.T) {
	fast := []string{"--sync-interval", "200ms"}
	n1 := startNode(t, t.TempDir(), fast...)
	addr := n1.status(t).Addrs[0]
	n2 := startNode(t, t.TempDir(), append(fast, "--peer", addr)...)
	n3 := startNode(t, t.TempDir(), append(fast, "--peer", addr)...)
	if _, err := n1.post(ndjson(20, 1)); err != nil {
		t.Fatal(err)
	}
	waitUntil(t, 20*time.Second, "three nodes to converge", func() bool { return sameDigest(t, 20, n1, n2, n3) })

	if err := n3.cmd.Process.Signal(syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	n1.post(ndjson(30, 1))
	n2.post(ndjson(15, 2))
	waitUntil(t, 20*time.Second, "the live nodes to converge", func() bool { return sameDigest(t, 65, n1, n2) })
	if err := n3.cmd.Process.Signal(syscall.SIGCONT); err != nil {
		t.Fatal(err)
	}
	waitUntil(t, 30*time.Second, "the thawed node to catch up", func() bool { return sameDigest(t, 65, n1, n2, n3) })
}

// TestKilledNodeRestartsAndCatchesUp kills one of two node processes with
// SIGKILL while both take writes, restarts it on its data directory and
// checks the two converge with every acknowledged event on both.
func TestKilledNodeRestartsAndCatchesUp(t *testing.T) {
	fast := []string{"--sync-interval", "200ms"}
	dirB := t.TempDir()
	a := startNode(t, t.TempDir(), fast...)
	addr := a.status(t).Addrs[0]
	b := startNode(t, dirB, append(fast, "--peer", addr)...)
	if _, err := b.post(ndjson(40, 1)); err != nil {
		t.Fatal(err)
	}
	waitUntil(t, 20*time.Second, "first convergence", func() bool { return sameDigest(t, 40, a, b) })
	b.cmd.Process.Signal(syscall.SIGKILL)
	b.cmd.Wait()
	if _, err := a.post(ndjson(25, 2)); err != nil {
		t.Fatal(err)
	}
	b2 := startNode(t, dirB, append(fast, "--peer", addr)...)
	if b2.id != b.id {
		t.Fatal("restarted node has a new identity")
	}
	if _, err := b2.post(ndjson(5, 3)); err != nil {
		t.Fatal(err)
	}
	waitUntil(t, 30*time.Second, "convergence after the restart", func() bool { return sameDigest(t, 70, a, b2) })
}
