// Package mesh is rumor's network layer below the sync protocol: the libp2p
// host every device runs, the discovery of other devices, and membership
// (who is alive, their role and addresses). There is no server: every device
// is a peer and the devices form a mesh.
//
// # Lifecycle
//
//	cfg := mesh.DefaultConfig()
//	cfg.Key = deviceKey                 // Ed25519; the peer ID is the device ID
//	cfg.Peers = []string{"/ip4/10.0.0.7/tcp/4001/p2p/12D3Koo..."}
//	cfg.Secret, _ = mesh.ParseSecret(swarmKey)
//	m, err := mesh.New(ctx, cfg)
//	...
//	m.Subscribe(func(ev mesh.MemberEvent) { ... }) // joined / left / updated
//	for _, mem := range m.Members() { ... }        // live members and roles
//	m.Host().SetStreamHandler(m.Protocol("sync/1"), handler)
//	...
//	m.Close() // leaves gracefully
//
// # How the pieces fit
//
// The host speaks TCP only, secured by Noise and multiplexed by yamux, behind
// a resource manager and a connection gater (Mesh.Ban). With a mesh secret the
// host is a libp2p private network: peers without the same 32-byte PSK cannot
// even complete a handshake.
//
// Membership is hashicorp/memberlist (SWIM with Lifeguard) carried over
// libp2p streams, so one identity and one port serve everything: packets and
// streams are libp2p streams on /rumor/<mesh>/memberlist/packet/1 and
// /rumor/<mesh>/memberlist/stream/1, memberlist node names are peer IDs, and
// the transport routes by name. Each node's memberlist metadata carries its
// role and its libp2p addresses, so members learn each other's addresses
// transitively and connect directly. Memberlist traffic is encrypted with a
// key derived from the mesh secret (HKDF-SHA256) and labelled
// "rumor/<mesh>".
//
// Discovery feeds connections, and connections feed membership: a node joins
// memberlist through every mesh peer it connects to, whether a static peer
// (redialled with exponential backoff while unreachable), a peer found by
// mDNS (service "_rumor-<mesh>._udp"), or a peer that dialled in. Members
// then learn of one another and connect, so a chain a←b←c becomes a full
// mesh that survives b's death. A killed node is dropped by the live members
// within about 3 s with the default timings (see Config).
//
// The mesh name is part of every protocol ID (Mesh.Protocol), of the mDNS
// service name and of the memberlist label, so different meshes on one LAN
// never exchange anything.
package mesh
