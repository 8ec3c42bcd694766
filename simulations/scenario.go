package simulations

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"time"
)

// Scenario describes a fleet, its network and what happens to it. It is
// read from YAML (see Parse and the package documentation); zero fields
// take the defaults documented on each field.
type Scenario struct {
	// Name identifies the scenario in reports. Required.
	Name string `yaml:"name"`
	// Description says what the scenario shows.
	Description string `yaml:"description"`
	// Seed is the default seed of the run's randomness (Options.Seed
	// overrides it). Default 1.
	Seed uint64 `yaml:"seed"`
	// Duration is the virtual time the scenario runs. Required.
	Duration Duration `yaml:"duration"`
	// Settle bounds the extra virtual time run after Duration, with the
	// workload stopped and every fault repaired, for the fleet to
	// converge. Default 30m.
	Settle Duration `yaml:"settle"`
	// Sample is the interval of the time series in the report. Default
	// Duration/120.
	Sample Duration `yaml:"sample"`
	// Sync tunes anti-entropy for every node.
	Sync SyncConfig `yaml:"sync"`
	// Classes are the kinds of nodes; at least one.
	Classes []Class `yaml:"classes"`
	// Partitions cut the network; they must not overlap in time.
	Partitions []Partition `yaml:"partitions"`
	// Actions are scheduled node events (crash, wipe, restart, offline,
	// online).
	Actions []Action `yaml:"actions"`
}

// SyncConfig tunes the anti-entropy loop each simulated node runs, like
// gossip.Config does for a real node.
type SyncConfig struct {
	// Interval is the mean time between the sessions a node opens, each
	// wait drawn uniformly from [Interval/2, 3*Interval/2]. Default 30s.
	Interval Duration `yaml:"interval"`
	// Tick is the session tick. Default 500ms.
	Tick Duration `yaml:"tick"`
	// IdleTicks is how many ticks without progress end a session. Default
	// 30.
	IdleTicks int `yaml:"idle_ticks"`
	// MaxOutbound caps the sessions a node initiates at once. Default 4.
	MaxOutbound int `yaml:"max_outbound"`
	// ApplyLatency is how long making a received run durable takes.
	// Default 2ms.
	ApplyLatency Duration `yaml:"apply_latency"`
	// Window, MaxBatchBytes and RunBytes are syncproto.SessionConfig's;
	// zero takes syncproto's defaults.
	Window        int  `yaml:"window"`
	MaxBatchBytes Size `yaml:"max_batch_bytes"`
	RunBytes      Size `yaml:"run_bytes"`
}

// Class is a kind of node: how many, their links, workload and faults.
type Class struct {
	// Name is referred to by Peers, Actions and Partitions. Required,
	// unique.
	Name string `yaml:"name"`
	// Count is the number of nodes. Required (at least 1).
	Count int `yaml:"count"`
	// Fixed keeps Count when Options.Nodes rescales the fleet (sinks,
	// gateways).
	Fixed bool `yaml:"fixed"`
	// Peers lists the classes this class opens sessions with. Default all.
	Peers []string `yaml:"peers"`
	// Interval overrides Sync.Interval for this class.
	Interval Duration `yaml:"interval"`
	// Link is the node's access link.
	Link Link `yaml:"link"`
	// Workload is the events the class's devices record.
	Workload Workload `yaml:"workload"`
	// Churn crashes nodes and restarts them, with or without their data.
	Churn *Churn `yaml:"churn"`
	// Offline takes online nodes offline now and then (radio loss); they
	// keep recording events.
	Offline *Outages `yaml:"offline"`
	// Online makes nodes offline by default, online only in windows (field
	// devices that reach the fleet now and then).
	Online *Outages `yaml:"online"`
	// Skew is each node's clock offset (a duration distribution, may be
	// negative); it shifts event timestamps and ids. Default none.
	Skew Dist `yaml:"skew"`
	// Drift is each node's clock rate error in parts per million (a plain
	// number distribution); it stretches its timers. Default none.
	Drift Dist `yaml:"drift"`
}

// Link is a node's access link. A frame from a to b is delayed by a draw
// of a's Latency plus a draw of b's, serialized on a's and b's
// Bandwidth; the fault probabilities of both ends combine.
type Link struct {
	// Latency is the one-way delay this end adds. Default 10ms.
	Latency Dist `yaml:"latency"`
	// Bandwidth is the capacity each way; 0 is unlimited. Default 0.
	Bandwidth Bandwidth `yaml:"bandwidth"`
	// Loss is the probability a packet (stream mode) or frame (frame mode)
	// is lost.
	Loss float64 `yaml:"loss"`
	// Duplicate, Reorder and Corrupt are per-frame probabilities, used in
	// frame mode only: a reliable stream hides them.
	Duplicate float64 `yaml:"duplicate"`
	Reorder   float64 `yaml:"reorder"`
	Corrupt   float64 `yaml:"corrupt"`
	// Mode is "stream" (default: a reliable ordered stream, as libp2p
	// gives; loss costs retransmission delay) or "frame" (faults reach the
	// session state machine as they are, like syncproto.SimNet).
	Mode string `yaml:"mode"`
}

// Workload is what each emitting device of a class records.
type Workload struct {
	// Emitters is the fraction of the class's nodes that record events.
	// Default 1 when Rate or Bursts is set.
	Emitters *float64 `yaml:"emitters"`
	// Rate is the mean rate of ingests per emitting node (Poisson).
	Rate Rate `yaml:"rate"`
	// Batch is the number of events per ingest; each ingest is one durable
	// batch with one seal. Default 1.
	Batch Dist `yaml:"batch"`
	// Payload is each event's JSON payload size. Default 128B.
	Payload Dist `yaml:"payload"`
	// Blobs attaches blob CIDs to some events.
	Blobs *Blobs `yaml:"blobs"`
	// Bursts adds, now and then, one large ingest (a device uploading
	// what it buffered).
	Bursts *Bursts `yaml:"bursts"`
	// Start and Stop bound the workload in virtual time. Default the
	// whole Duration.
	Start Duration `yaml:"start"`
	Stop  Duration `yaml:"stop"`
	// Type is the events' type. Default "reading".
	Type string `yaml:"type"`
}

// Blobs attaches Count CIDs of blobs of Size bytes to a fraction P of the
// events. Blobs travel on their own protocol; the report counts the bytes
// every node would fetch (blob_bytes) without simulating the transfer.
type Blobs struct {
	P     float64 `yaml:"p"`
	Count int     `yaml:"count"`
	Size  Size    `yaml:"size"`
}

// Bursts is an ingest of Size events, every Every (a duration
// distribution) per emitting node.
type Bursts struct {
	Every Dist `yaml:"every"`
	Size  Dist `yaml:"size"`
}

// Churn crashes a node after a draw of MTBF, keeps it down for a draw of
// Down, and restarts it; with probability Wipe its data directory is lost
// and it rejoins with a new identity.
type Churn struct {
	MTBF Dist    `yaml:"mtbf"`
	Down Dist    `yaml:"down"`
	Wipe float64 `yaml:"wipe"`
}

// Outages alternate a node between two states: after a draw of Every it
// switches for a draw of For.
type Outages struct {
	Every Dist `yaml:"every"`
	For   Dist `yaml:"for"`
}

// Partition cuts the network from At until Heal (0: never heals). Shapes:
// "halves" (Fraction of each class on the left, default 0.5), "islands"
// (Islands groups, default 3), "bridge" (halves joined only through
// Bridges nodes, default 1) and "ring" (Islands segments, each reaching
// only its two neighbours).
type Partition struct {
	At       Duration `yaml:"at"`
	Heal     Duration `yaml:"heal"`
	Shape    string   `yaml:"shape"`
	Fraction float64  `yaml:"fraction"`
	Islands  int      `yaml:"islands"`
	Bridges  int      `yaml:"bridges"`
}

// Action is a scheduled event on nodes: "crash" (down, data kept),
// "wipe" (down, data lost), "restart" (up again; a wiped node gets a new
// identity), "offline" or "online". Nodes are indexes within Class, or
// within the whole fleet when Class is empty.
type Action struct {
	At     Duration `yaml:"at"`
	Action string   `yaml:"action"`
	Class  string   `yaml:"class"`
	Nodes  []int    `yaml:"nodes"`
}

// withDefaults returns a copy of sc with defaults filled in.
func (sc Scenario) withDefaults() Scenario {
	if sc.Seed == 0 {
		sc.Seed = 1
	}
	if sc.Settle == 0 {
		sc.Settle = Duration(30 * time.Minute)
	}
	if sc.Sample == 0 {
		sc.Sample = Duration(max(time.Second, sc.Duration.D()/120))
	}
	s := &sc.Sync
	setD := func(d *Duration, v time.Duration) {
		if *d == 0 {
			*d = Duration(v)
		}
	}
	setD(&s.Interval, 30*time.Second)
	setD(&s.Tick, 500*time.Millisecond)
	setD(&s.ApplyLatency, 2*time.Millisecond)
	if s.IdleTicks == 0 {
		s.IdleTicks = 30
	}
	if s.MaxOutbound == 0 {
		s.MaxOutbound = 4
	}
	sc.Classes = slices.Clone(sc.Classes)
	for i := range sc.Classes {
		c := &sc.Classes[i]
		if c.Link.Latency.IsZero() {
			c.Link.Latency = Dist{Kind: "const", A: 0.010, unit: unitTime, parsed: true}
		}
		if c.Link.Mode == "" {
			c.Link.Mode = "stream"
		}
		w := &c.Workload
		if w.Emitters == nil && (w.Rate > 0 || w.Bursts != nil) {
			one := 1.0
			w.Emitters = &one
		}
		if w.Batch.IsZero() {
			w.Batch = Const(1)
		}
		if w.Payload.IsZero() {
			w.Payload = Const(128)
		}
		if w.Stop == 0 {
			w.Stop = sc.Duration
		}
		if w.Type == "" {
			w.Type = "reading"
		}
	}
	return sc
}

// Validate reports the first problem in sc (after defaults).
func (sc Scenario) Validate() error {
	sc = sc.withDefaults()
	switch {
	case sc.Name == "":
		return errors.New("simulations: scenario needs a name")
	case sc.Duration <= 0:
		return errors.New("simulations: scenario needs a positive duration")
	case len(sc.Classes) == 0:
		return errors.New("simulations: scenario needs at least one class")
	case sc.Sync.IdleTicks < 1 || sc.Sync.MaxOutbound < 1 || sc.Sync.Interval <= 0 || sc.Sync.Tick <= 0:
		return errors.New("simulations: sync: interval, tick, idle_ticks and max_outbound must be positive")
	}
	names := map[string]bool{}
	for i := range sc.Classes {
		if err := sc.Classes[i].validate(names); err != nil {
			return err
		}
	}
	for _, c := range sc.Classes {
		for _, p := range c.Peers {
			if !names[p] {
				return fmt.Errorf("simulations: class %s: unknown peer class %q", c.Name, p)
			}
		}
	}
	if err := validatePartitions(sc.Partitions); err != nil {
		return err
	}
	for i, a := range sc.Actions {
		if err := sc.validateAction(a); err != nil {
			return fmt.Errorf("simulations: action %d: %w", i, err)
		}
	}
	return nil
}

func (c *Class) validate(names map[string]bool) error {
	if c.Name == "" || names[c.Name] {
		return fmt.Errorf("simulations: class names must be non-empty and unique (%q)", c.Name)
	}
	names[c.Name] = true
	if c.Count < 1 {
		return fmt.Errorf("simulations: class %s: count must be at least 1", c.Name)
	}
	l := c.Link
	for _, p := range []float64{l.Loss, l.Duplicate, l.Reorder, l.Corrupt} {
		if p < 0 || p >= 1 || math.IsNaN(p) {
			return fmt.Errorf("simulations: class %s: link probabilities must be in [0, 1)", c.Name)
		}
	}
	if l.Mode != "stream" && l.Mode != "frame" {
		return fmt.Errorf("simulations: class %s: link mode %q is not stream or frame", c.Name, l.Mode)
	}
	w := c.Workload
	checks := []error{
		l.Latency.check(c.Name+": link.latency", unitTime, true),
		w.Batch.check(c.Name+": workload.batch", unitNone, true),
		w.Payload.check(c.Name+": workload.payload", unitBytes, true),
		c.Skew.check(c.Name+": skew", unitTime, false),
		c.Drift.check(c.Name+": drift", unitNone, false),
	}
	if w.Emitters != nil && (*w.Emitters < 0 || *w.Emitters > 1) {
		checks = append(checks, fmt.Errorf("simulations: class %s: workload.emitters must be in [0, 1]", c.Name))
	}
	if w.Blobs != nil && (w.Blobs.P < 0 || w.Blobs.P > 1 || w.Blobs.Count < 1 || w.Blobs.Size < 0) {
		checks = append(checks, fmt.Errorf("simulations: class %s: blobs need p in [0, 1], count >= 1", c.Name))
	}
	if b := w.Bursts; b != nil {
		checks = append(checks, b.Every.check(c.Name+": bursts.every", unitTime, true), b.Size.check(c.Name+": bursts.size", unitNone, true))
		if b.Every.IsZero() || b.Every.Mean() <= 0 {
			checks = append(checks, fmt.Errorf("simulations: class %s: bursts.every must be positive", c.Name))
		}
	}
	if ch := c.Churn; ch != nil {
		checks = append(checks, ch.MTBF.check(c.Name+": churn.mtbf", unitTime, true), ch.Down.check(c.Name+": churn.down", unitTime, true))
		if ch.MTBF.IsZero() || ch.MTBF.Mean() <= 0 || ch.Wipe < 0 || ch.Wipe > 1 {
			checks = append(checks, fmt.Errorf("simulations: class %s: churn needs a positive mtbf and wipe in [0, 1]", c.Name))
		}
	}
	for _, o := range []*Outages{c.Offline, c.Online} {
		if o != nil {
			checks = append(checks, o.Every.check(c.Name+": outages.every", unitTime, true), o.For.check(c.Name+": outages.for", unitTime, true))
			if o.Every.IsZero() || o.For.IsZero() || o.Every.Mean() <= 0 {
				checks = append(checks, fmt.Errorf("simulations: class %s: offline/online need every and for", c.Name))
			}
		}
	}
	if c.Offline != nil && c.Online != nil {
		checks = append(checks, fmt.Errorf("simulations: class %s: offline and online exclude each other", c.Name))
	}
	return errors.Join(checks...)
}

func validatePartitions(ps []Partition) error {
	sorted := slices.Clone(ps)
	slices.SortFunc(sorted, func(a, b Partition) int { return int(a.At - b.At) })
	for i, p := range sorted {
		switch p.Shape {
		case "halves", "islands", "bridge", "ring":
		default:
			return fmt.Errorf("simulations: partition shape %q is not halves, islands, bridge or ring", p.Shape)
		}
		if p.Heal != 0 && p.Heal <= p.At {
			return fmt.Errorf("simulations: partition at %v heals at %v, not after", p.At.D(), p.Heal.D())
		}
		if p.Fraction < 0 || p.Fraction >= 1 || p.Islands < 0 || p.Bridges < 0 {
			return errors.New("simulations: partition fraction must be in [0, 1), islands and bridges non-negative")
		}
		if i > 0 && (sorted[i-1].Heal == 0 || sorted[i-1].Heal > p.At) {
			return errors.New("simulations: partitions overlap in time")
		}
	}
	return nil
}

func (sc Scenario) validateAction(a Action) error {
	switch a.Action {
	case "crash", "wipe", "restart", "offline", "online":
	default:
		return fmt.Errorf("unknown action %q (crash, wipe, restart, offline, online)", a.Action)
	}
	n := 0
	if a.Class == "" {
		for _, c := range sc.Classes {
			n += c.Count
		}
	} else {
		i := slices.IndexFunc(sc.Classes, func(c Class) bool { return c.Name == a.Class })
		if i < 0 {
			return fmt.Errorf("unknown class %q", a.Class)
		}
		n = sc.Classes[i].Count
	}
	if len(a.Nodes) == 0 {
		return errors.New("no nodes")
	}
	for _, x := range a.Nodes {
		if x < 0 || x >= n {
			return fmt.Errorf("node %d outside [0, %d)", x, n)
		}
	}
	return nil
}

// Scaled returns sc with the non-fixed classes resized so that the fleet
// has about n nodes in all, proportionally; each class keeps at least one
// node. Actions on nodes beyond a shrunk class are dropped.
func (sc Scenario) Scaled(n int) Scenario {
	if n <= 0 {
		return sc
	}
	sc.Classes = slices.Clone(sc.Classes)
	fixed, scalable := 0, 0
	for _, c := range sc.Classes {
		if c.Fixed {
			fixed += c.Count
		} else {
			scalable += c.Count
		}
	}
	if scalable == 0 {
		return sc
	}
	target := max(n-fixed, 0)
	assigned, largest := 0, -1
	for i := range sc.Classes {
		c := &sc.Classes[i]
		if c.Fixed {
			continue
		}
		c.Count = max(1, int(float64(c.Count)*float64(target)/float64(scalable)))
		assigned += c.Count
		if largest < 0 || c.Count > sc.Classes[largest].Count {
			largest = i
		}
	}
	if d := target - assigned; largest >= 0 && sc.Classes[largest].Count+d >= 1 {
		sc.Classes[largest].Count += d
	}
	var acts []Action
	for _, a := range sc.Actions {
		nodes := a.Nodes
		a.Nodes = nil
		for _, k := range nodes {
			if t := a; sc.validateAction(Action{At: t.At, Action: t.Action, Class: t.Class, Nodes: []int{k}}) == nil {
				a.Nodes = append(a.Nodes, k)
			}
		}
		if len(a.Nodes) > 0 {
			acts = append(acts, a)
		}
	}
	sc.Actions = acts
	return sc
}

// Nodes is the number of nodes in the fleet.
func (sc Scenario) Nodes() int {
	n := 0
	for _, c := range sc.Classes {
		n += c.Count
	}
	return n
}
