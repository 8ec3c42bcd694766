package node

// hlcAhead is how many seconds the node's hybrid logical clock reads ahead
// of its physical clock: 0 unless it followed a peer whose clock is ahead
// (within MaxClockSkew) or issued more than 4096 ids in a millisecond.
func (n *Node) hlcAhead() float64 {
	ahead := n.store.HLC().MS - n.cfg.Clock.Now().UnixMilli()
	return float64(max(ahead, 0)) / 1000
}
