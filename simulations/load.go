package simulations

import (
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"sort"
	"strings"

	"github.com/goccy/go-yaml"
)

//go:embed scenarios/*.yaml
var library embed.FS

// ErrUnknownScenario is returned by Open for a name that is neither a file
// nor a scenario of the library.
var ErrUnknownScenario = errors.New("simulations: no such scenario file or library scenario")

// Parse decodes a scenario from YAML, rejecting unknown fields, and
// validates it.
func Parse(data []byte) (*Scenario, error) {
	var sc Scenario
	if err := yaml.UnmarshalWithOptions(data, &sc, yaml.Strict()); err != nil {
		return nil, fmt.Errorf("simulations: scenario: %w", err)
	}
	if err := sc.Validate(); err != nil {
		return nil, err
	}
	return &sc, nil
}

// Open returns the scenario in the file name, or, when no such file
// exists, the library scenario called name (with or without ".yaml").
func Open(name string) (*Scenario, error) {
	data, err := os.ReadFile(name)
	if errors.Is(err, fs.ErrNotExist) {
		data, err = library.ReadFile(path.Join("scenarios", strings.TrimSuffix(name, ".yaml")+".yaml"))
		if err != nil {
			return nil, fmt.Errorf("%w: %q (see `rumor sim list`)", ErrUnknownScenario, name)
		}
	} else if err != nil {
		return nil, fmt.Errorf("simulations: read scenario: %w", err)
	}
	sc, err := Parse(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return sc, nil
}

// Entry is one scenario of the built-in library.
type Entry struct {
	Name        string // the name to pass to Open
	Nodes       int    // fleet size
	Duration    Duration
	Description string
}

// Library lists the built-in scenarios (simulations/scenarios/*.yaml,
// embedded in the binary), sorted by name.
func Library() ([]Entry, error) {
	files, err := fs.Glob(library, "scenarios/*.yaml")
	if err != nil {
		return nil, err
	}
	sort.Strings(files)
	var out []Entry
	for _, f := range files {
		data, err := library.ReadFile(f)
		if err != nil {
			return nil, err
		}
		sc, err := Parse(data)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", f, err)
		}
		name := strings.TrimSuffix(path.Base(f), ".yaml")
		out = append(out, Entry{Name: name, Nodes: sc.Nodes(), Duration: sc.Duration, Description: sc.Description})
	}
	return out, nil
}
