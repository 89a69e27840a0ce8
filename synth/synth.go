// Package synth generates synthetic knowledge graphs shaped like the rare-earth magnet
// value chain, deterministically and in streaming fashion, for benchmarks and load tests.
//
// A graph of N companies holds about 1.5 N entities and 3 N relationships:
//
//   - Companies co-0000000 … in ownership pyramids. Top-level owners (Person and
//     Government entities) hold the level-1 companies of a pyramid; every company of level
//     d ≥ 2 is held by a company of level d-1 of its pyramid (its primary parent) and maybe
//     by one or two more companies of level d-1, of its own or another pyramid. The level
//     of a company is therefore exactly the length of its shortest OWNS walk from an entity
//     that has no owners. Most pyramids are 1 to 4 levels deep; DeepPyramidRate of them are
//     10 to MaxPyramidDepth levels deep, and pyramid 0 has MaxPyramidDepth levels (given
//     enough companies).
//   - A few cross-holdings: a company holds at most 10 % of one of its ancestors (an OWNS
//     cycle) or of a company of the same level of its pyramid.
//   - Facilities at six stages (mine, separation, metal-alloy, magnet, motor, end-use:
//     10, 12, 15, 20, 20 and 23 % of them), each OPERATED by a company, linked by 1 to 5
//     SUPPLIES into each facility from the stage before, with a rare recycling link from
//     a magnet plant back to a separation plant.
//   - Country entities for the 16 countries used, six Material entities, and a few dozen
//     Source records that every entity and relationship cites.
//
// Shares are whole basis points, and the shares (or, for a range, the shareMax) of all
// the OWNS relationships into an entity, whatever their dates, sum to at most 1. All dates
// lie between 1980-01-01 and 2025-06-30.
//
// Nothing depends on the clock or on map order: the same Config gives the same records,
// byte for byte, on every run. Each entity and relationship is computed from a random
// stream keyed by (Seed, its kind, its index), so the generator keeps only a skeleton of
// about 5 bytes a company and streams the rest: a million companies take tens of MB.
package synth

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"

	"github.com/lodestone-kg/lodestone/graph"
)

// Defaults of Config's fields.
const (
	DefaultMaxPyramidDepth      = 12
	DefaultDeepPyramidRate      = 0.01
	DefaultCrossHoldingRate     = 0.02
	DefaultFacilitiesPerCompany = 0.4
	DefaultRecyclingRate        = 0.01
	DefaultSources              = 40
)

// HubID is the id of the hub company that Config.HubDegree adds.
const HubID = "co-hub"

// ErrInvalidConfig is wrapped by the errors of Generate and WriteJSONL about a Config.
var ErrInvalidConfig = errors.New("synth: invalid config")

// Config describes a synthetic graph. The zero value of every field but Companies means
// its default; Companies must be set.
type Config struct {
	// Companies is the number of companies, CompanyID(0) … CompanyID(Companies-1); at
	// least 1. The hub, when there is one, comes on top.
	Companies int
	// Seed selects the graph: the same Config gives the same records, byte for byte.
	Seed int64
	// MaxPyramidDepth is the number of levels of the deepest ownership pyramids
	// (default 12, at most 100). Pyramid 0 has that many levels when there are enough
	// companies.
	MaxPyramidDepth int
	// DeepPyramidRate is the probability that a pyramid other than pyramid 0 is 10 to
	// MaxPyramidDepth levels deep, when MaxPyramidDepth ≥ 10 (default 0.01; negative for
	// none; at most 1).
	DeepPyramidRate float64
	// CrossHoldingRate is the probability that a company has a cross-holding among its
	// owners: a stake of 0.5 % to 10 % held by one of its descendants or by a company of the
	// same level of its pyramid (default 0.02; negative for none; at most 1).
	CrossHoldingRate float64
	// FacilitiesPerCompany is the number of facilities per company (default 0.4); every
	// stage has at least one facility.
	FacilitiesPerCompany float64
	// RecyclingRate is the probability that a separation plant also takes magnet scrap from
	// a magnet plant, closing a supply cycle (default 0.01; negative for none; at most 1).
	RecyclingRate float64
	// HubDegree, when > 0, adds the company HubID with exactly HubDegree outgoing
	// relationships, for pathological-query tests: ⌈HubDegree/2⌉ OWNS of 1 % (capped at
	// Companies, spread evenly over the companies) and SUPPLIES for the rest (spread
	// evenly over the facilities past the mines, more than one per facility when there are
	// more of them than facilities). The hub itself is wholly owned by the company at the
	// bottom of pyramid 0, so it shortens nobody's ownership depth.
	HubDegree int
	// Sources is the number of Source records (default 40).
	Sources int
}

// withDefaults returns c with its defaults filled in, or an error wrapping
// ErrInvalidConfig.
func (c Config) withDefaults() (Config, error) {
	bad := func(format string, args ...any) (Config, error) {
		return c, fmt.Errorf("%w: "+format, append([]any{ErrInvalidConfig}, args...)...)
	}
	switch {
	case c.Companies < 1:
		return bad("Companies is %d; it must be at least 1", c.Companies)
	case c.MaxPyramidDepth < 0 || c.MaxPyramidDepth > 100:
		return bad("MaxPyramidDepth is %d; it must be within 1..100 (0 for the default)", c.MaxPyramidDepth)
	case c.FacilitiesPerCompany < 0:
		return bad("FacilitiesPerCompany is %v; it must not be negative", c.FacilitiesPerCompany)
	case c.HubDegree < 0:
		return bad("HubDegree is %d; it must not be negative", c.HubDegree)
	case c.Sources < 0:
		return bad("Sources is %d; it must not be negative", c.Sources)
	}
	for _, r := range []struct {
		name string
		v    *float64
		def  float64
	}{
		{"DeepPyramidRate", &c.DeepPyramidRate, DefaultDeepPyramidRate},
		{"CrossHoldingRate", &c.CrossHoldingRate, DefaultCrossHoldingRate},
		{"RecyclingRate", &c.RecyclingRate, DefaultRecyclingRate},
	} {
		switch {
		case *r.v == 0:
			*r.v = r.def
		case *r.v < 0:
			*r.v = 0
		case *r.v > 1 || math.IsNaN(*r.v):
			return bad("%s is %v; it must be a probability (negative for none)", r.name, *r.v)
		}
	}
	if c.MaxPyramidDepth == 0 {
		c.MaxPyramidDepth = DefaultMaxPyramidDepth
	}
	if c.FacilitiesPerCompany == 0 {
		c.FacilitiesPerCompany = DefaultFacilitiesPerCompany
	}
	if c.Sources == 0 {
		c.Sources = DefaultSources
	}
	return c, nil
}

// Generate calls emit for every record of the graph cfg describes: all sources first,
// then all entities (countries, materials, governments, persons, companies, the hub,
// facilities), then all relationships (OWNS, then OPERATES, then SUPPLIES), so that
// everything a record cites comes before it. Each record is freshly allocated, so emit
// may keep it. Generate stops at the first error of emit and returns it; a bad cfg gives
// an error wrapping ErrInvalidConfig before any record is emitted.
func Generate(cfg Config, emit func(graph.Record) error) error {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return err
	}
	g := &generator{plan: newPlan(cfg), emit: emit, r: newStream(cfg.Seed)}
	for _, step := range []func() error{
		g.sources, g.countries, g.materials, g.governments, g.persons, g.companies, g.facilities,
		g.owns, g.operates, g.supplies,
	} {
		if err := step(); err != nil {
			return err
		}
	}
	return nil
}

// WriteJSONL writes Generate's records to w as JSONL, one json.Marshal'ed graph.Record
// a line, through a bufio.Writer that it flushes at the end. It returns the first error of
// Generate, json.Marshal or w.
func WriteJSONL(w io.Writer, cfg Config) error {
	bw := bufio.NewWriterSize(w, 256<<10)
	err := Generate(cfg, func(rec graph.Record) error {
		b, err := json.Marshal(rec)
		if err != nil {
			return err
		}
		if _, err := bw.Write(b); err != nil {
			return err
		}
		return bw.WriteByte('\n')
	})
	if err != nil {
		return err
	}
	return bw.Flush()
}

// CompanyID returns the id of company i, for i in [0, Companies): "co-" and i zero-padded
// to 7 digits ("co-0000042"); wider when i needs more digits.
func CompanyID(i int) string { return padded("co-", i, 7) }

// DeepCompanies returns, in index order, the companies at the bottom level of every
// pyramid at least min(10, MaxPyramidDepth) levels deep: each has a shortest OWNS walk of
// that many relationships or more from the nearest entity without owners. Pyramid 0 is
// always among them when it has its full MaxPyramidDepth levels. It returns nil for a bad
// cfg.
func DeepCompanies(cfg Config) []string {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil
	}
	p := newPlan(cfg)
	threshold := min(deepLevel, cfg.MaxPyramidDepth)
	var ids []string
	for k, py := range p.pyrs {
		if int(py.depth) >= threshold {
			lo, hi := p.level(k, int(py.depth))
			for c := lo; c < hi; c++ {
				ids = append(ids, CompanyID(c))
			}
		}
	}
	return ids
}

// EndUseFacilities returns, in order, the ids of all facilities of stage end-use: the
// last links of the supply chains, which supply nobody. It returns nil for a bad cfg.
func EndUseFacilities(cfg Config) []string {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil
	}
	p := newPlan(cfg)
	n := p.stageStart[stageEndUse+1] - p.stageStart[stageEndUse]
	ids := make([]string, n)
	for k := range ids {
		ids[k] = facilityID(stageEndUse, k)
	}
	return ids
}

// facilityID returns the id of the k-th facility of stage s: "fac-magnet-000042".
func facilityID(s, k int) string { return padded("fac-"+stages[s].name+"-", k, 6) }

func personID(i int) string { return padded("person-", i, 7) }

func govID(g int) string {
	return padded("gov-"+lower(countries[govCountry(g)].code)+"-", g/len(countries), 3)
}

func sourceID(i int) string { return padded("src-synth-", i+1, 3) }

// padded returns prefix followed by i zero-padded to width digits.
func padded(prefix string, i, width int) string {
	b := make([]byte, 0, len(prefix)+width+2)
	b = append(b, prefix...)
	var d [20]byte
	digits := strconv.AppendInt(d[:0], int64(i), 10)
	for range width - len(digits) {
		b = append(b, '0')
	}
	return string(append(b, digits...))
}

func lower(code string) string {
	b := []byte(code)
	for i, c := range b {
		if 'A' <= c && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
	return string(b)
}
