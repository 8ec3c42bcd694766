package event

import "sync"

// maxInterned bounds the device ids the process keeps one shared string
// for (about 100 bytes each): a mesh has far fewer devices, and past the
// bound decoding still works, only without sharing.
const maxInterned = 1 << 16

// devices maps a device id to the one string every decoder returns for
// it, so that events of one origin decoded from different frames share
// their Device string and comparing two of them stops at the pointer.
var devices = struct {
	sync.RWMutex
	m map[string]string
}{m: map[string]string{}}

// internDevice returns the process's string for the device id b.
func internDevice(b []byte) string {
	devices.RLock()
	s, ok := devices.m[string(b)]
	devices.RUnlock()
	if ok {
		return s
	}
	s = string(b)
	devices.Lock()
	defer devices.Unlock()
	if old, ok := devices.m[s]; ok {
		return old
	}
	if len(devices.m) < maxInterned {
		devices.m[s] = s
	}
	return s
}
