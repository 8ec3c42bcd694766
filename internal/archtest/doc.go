// Package archtest holds the test that keeps rumor's dependency direction
// pointing inward: crdt, cas, event and the clock import nothing of ours;
// store sits on crdt and event; the sync protocol on crdt and event; the
// gossip binding never imports store, node or api; api never imports node.
package archtest
