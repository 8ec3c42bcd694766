package simulations

import (
	"fmt"
)

// topology says who can reach whom: every node is in one or two groups
// (a bridge or ring node in two), and two nodes reach each other when
// they share a group. For each group and class it keeps the available
// nodes, so that picking a random reachable peer costs O(groups ×
// classes), not O(nodes).
type topology struct {
	live   [][][]int32 // [group][class] available nodes
	labels []string    // per-side series names (from the first partition)
}

// init puts every node in group 0 and labels the per-side series after
// the scenario's first partition.
func (t *topology) init(s *sim) {
	t.labels = []string{"all"}
	if len(s.sc.Partitions) > 0 {
		first := s.sc.Partitions[0]
		labels, sides := t.assign(s, &first)
		t.labels = labels
		for i, n := range s.nodes {
			n.side = sides[i]
		}
	}
	t.layout(s, nil)
}

// assign computes groups for a partition; it returns the side labels and
// each node's side.
func (t *topology) assign(s *sim, p *Partition) ([]string, []int) {
	counts := make([]int, len(s.classes))
	for i, c := range s.classes {
		counts[i] = c.Count
	}
	labels, sides, groups, ngroups := partitionGroups(counts, p)
	for i, n := range s.nodes {
		n.groups, n.ngroups = groups[i], ngroups[i]
	}
	return labels, sides
}

// partitionGroups places the nodes of classes of the given sizes (in
// fleet order) into p's groups. It returns the side labels, each node's
// side, its one or two groups and how many it has.
func partitionGroups(counts []int, p *Partition) ([]string, []int, [][2]int32, []int8) {
	var labels []string
	var sides []int
	var groups [][2]int32
	var ngroups []int8
	for ci, count := range counts {
		for k := range count {
			pos := (float64(k) + 0.5) / float64(count) // spreads each class over the sides
			var g [2]int32
			ng, side := int8(1), 0
			switch p.Shape {
			case "halves", "bridge":
				frac := p.Fraction
				if frac == 0 {
					frac = 0.5
				}
				labels = []string{"left", "right"}
				if pos >= frac {
					g[0], side = 1, 1
				}
				if p.Shape == "bridge" {
					labels = append(labels, "bridge")
					if ci == 0 && k < max(p.Bridges, 1) { // the first nodes of the first class bridge
						g, ng, side = [2]int32{0, 1}, 2, 2
					}
				}
			case "islands", "ring":
				m := p.Islands
				if m < 2 {
					m = 3
				}
				labels = labels[:0]
				for i := range m {
					labels = append(labels, fmt.Sprintf("%s-%d", map[string]string{"islands": "island", "ring": "segment"}[p.Shape], i+1))
				}
				seg := int32(min(int(pos*float64(m)), m-1))
				g[0], side = seg, int(seg)
				if p.Shape == "ring" && m > 2 {
					// group i joins segments i and i+1: a node of segment i
					// is in groups i-1 and i.
					g, ng = [2]int32{(seg + int32(m) - 1) % int32(m), seg}, 2
				}
			}
			sides, groups, ngroups = append(sides, side), append(groups, g), append(ngroups, ng)
		}
	}
	return labels, sides, groups, ngroups
}

// Reachable returns, for partition i of the (scaled) scenario, whether
// each pair of nodes (by fleet index) can reach each other while it
// lasts: the real-stack harness bans the pairs that cannot.
func (sc Scenario) Reachable(i int) [][]bool {
	counts := make([]int, len(sc.Classes))
	for k, c := range sc.Classes {
		counts[k] = c.Count
	}
	_, _, groups, ng := partitionGroups(counts, &sc.Partitions[i])
	out := make([][]bool, len(groups))
	for a := range groups {
		out[a] = make([]bool, len(groups))
		for b := range groups {
			for x := range ng[a] {
				for y := range ng[b] {
					if groups[a][x] == groups[b][y] {
						out[a][b] = true
					}
				}
			}
		}
	}
	return out
}

// layout applies a partition (nil: everyone reaches everyone), rebuilds
// the live sets and aborts the sessions the cut separates.
func (t *topology) layout(s *sim, p *Partition) {
	groups := 1
	if p == nil {
		for _, n := range s.nodes {
			n.groups, n.ngroups = [2]int32{}, 1
		}
	} else {
		t.assign(s, p)
		for _, n := range s.nodes {
			for k := range n.ngroups {
				groups = max(groups, int(n.groups[k])+1)
			}
		}
	}
	t.live = make([][][]int32, groups)
	for g := range t.live {
		t.live[g] = make([][]int32, len(s.classes))
	}
	for _, n := range s.nodes {
		n.pos = [2]int32{-1, -1}
		if n.available() {
			t.add(n)
		}
	}
	for _, n := range s.nodes {
		for _, ss := range append([]*session(nil), n.active...) {
			if !reach(ss.nodes[0], ss.nodes[1]) {
				s.abortSession(ss, errCut)
			}
		}
	}
}

func (t *topology) add(n *node) {
	for k := range n.ngroups {
		set := &t.live[n.groups[k]][n.cls.idx]
		n.pos[k] = int32(len(*set))
		*set = append(*set, n.idx)
	}
}

func (t *topology) remove(s *sim, n *node) {
	for k := range n.ngroups {
		set := &t.live[n.groups[k]][n.cls.idx]
		i := n.pos[k]
		last := (*set)[len(*set)-1]
		(*set)[i] = last
		moved := s.nodes[last]
		for j := range moved.ngroups {
			if moved.groups[j] == n.groups[k] {
				moved.pos[j] = i
			}
		}
		*set = (*set)[:len(*set)-1]
		n.pos[k] = -1
	}
}

// update puts n in or out of the live sets after its availability changed.
func (t *topology) update(s *sim, n *node) {
	in := n.pos[0] >= 0
	switch {
	case n.available() && !in:
		t.add(n)
	case !n.available() && in:
		t.remove(s, n)
	}
}

// reach reports whether a and b share a group.
func reach(a, b *node) bool {
	for i := range a.ngroups {
		for j := range b.ngroups {
			if a.groups[i] == b.groups[j] {
				return true
			}
		}
	}
	return false
}

// pick draws a random available peer of n among the classes it syncs
// with, in its groups, that has no session with n; nil if none is found
// in a few draws.
func (t *topology) pick(s *sim, n *node) *node {
	total := 0
	for k := range n.ngroups {
		for _, c := range n.cls.peers {
			total += len(t.live[n.groups[k]][c])
		}
	}
	if total == 0 {
		return nil
	}
	for range 8 {
		r := s.rng.IntN(total)
		var p *node
		for k := 0; k < int(n.ngroups) && p == nil; k++ {
			for _, c := range n.cls.peers {
				set := t.live[n.groups[k]][c]
				if r < len(set) {
					p = s.nodes[set[r]]
					break
				}
				r -= len(set)
			}
		}
		if p != n && !paired(n, p) {
			return p
		}
	}
	return nil
}

// paired reports whether a and b already have a session.
func paired(a, b *node) bool {
	for _, ss := range a.active {
		if ss.nodes[0] == b || ss.nodes[1] == b {
			return true
		}
	}
	return false
}
