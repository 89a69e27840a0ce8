package synth

import (
	"math"
	"math/rand/v2"
	"sort"
)

// plan is the skeleton of a graph: how companies fall into ownership pyramids and levels,
// how many persons, governments and facilities there are, and which companies the hub
// holds. Everything else about an entity or relationship is recomputed on demand from a
// random stream keyed by (Seed, what, index), so the plan is all the generator keeps: about
// 5 bytes a company.
type plan struct {
	cfg Config
	// pyrs are the ownership pyramids in company order; bounds holds, for pyramid p,
	// depth+1 company indexes from pyrs[p].bounds on: level d (1-based) of p is companies
	// [bounds[b+d-1], bounds[b+d]).
	pyrs   []pyramid
	bounds []int32
	// nPersons and nGovs count the Person and Government entities (top-level owners).
	nPersons, nGovs int
	// stageStart[s] is the first facility of stage s in the global facility order;
	// stageStart[numStages] is the number of facilities.
	stageStart [numStages + 1]int
	// hubOwns and hubSupplies split HubDegree; the hub holds a stake in every company
	// whose index is a multiple of hubStep below hubOwns*hubStep. hubOwner is the company
	// at the bottom of pyramid 0 that owns the hub.
	hubOwns, hubSupplies, hubStep, hubOwner int
}

// pyramid is one ownership pyramid: top-level owners hold its level-1 companies, and the
// companies of level d are held by companies of level d-1.
type pyramid struct {
	start  int32 // first company
	bounds int32 // offset of its level boundaries in plan.bounds
	depth  uint8
	home   uint8 // index in countries of the country most of its companies are in
}

// Random stream identifiers: every kind of item draws from its own stream, so that what
// one item looks like never depends on how many draws another one made.
const (
	streamLayout uint64 = iota + 1
	streamCompany
	streamCompanyCountry
	streamOwners
	streamPerson
	streamGovernment
	streamFacility
	streamOperates
	streamSupplies
	streamHub
)

// newPlan lays out cfg, which must already have its defaults.
func newPlan(cfg Config) *plan {
	n := cfg.Companies
	p := &plan{cfg: cfg}
	r := newStream(cfg.Seed)
	r.reset(streamLayout, 0)
	maxDepth := cfg.MaxPyramidDepth
	for start := 0; start < n; {
		var depth int
		deep := false
		switch {
		case len(p.pyrs) == 0:
			// Pyramid 0 is always as deep as allowed: benchmarks can count on one, and
			// the hub hangs below it without shortening anybody's depth.
			depth, deep = maxDepth, true
		case maxDepth >= deepLevel && r.Float64() < cfg.DeepPyramidRate:
			depth, deep = deepLevel+r.IntN(maxDepth-deepLevel+1), true
		default:
			depth = min(shallowDepth(r), maxDepth)
		}
		home := pickWeighted(r.Uint64(), companyWeights)
		py := pyramid{start: int32(start), bounds: int32(len(p.bounds)), home: uint8(home)}
		p.bounds = append(p.bounds, int32(start))
		pos := start
		for d := 1; d <= depth && pos < n; d++ {
			w := 1
			switch {
			case d == 1 && !deep && r.IntN(10) == 0:
				w = 2
			case d > 1 && deep:
				w = 1 + r.IntN(3)
			case d > 1:
				w = 1 + r.IntN(4)
			}
			pos = min(pos+w, n)
			p.bounds = append(p.bounds, int32(pos))
			py.depth++
		}
		p.pyrs = append(p.pyrs, py)
		start = pos
	}

	p.nPersons = max(1, n/10)
	p.nGovs = max(len(countries), n/2000)

	f := max(numStages, int(math.Round(cfg.FacilitiesPerCompany*float64(n))))
	for s := range numStages {
		p.stageStart[s+1] = p.stageStart[s] + max(1, int(math.Round(float64(f*stages[s].share)/100)))
	}

	if cfg.HubDegree > 0 {
		p.hubOwns = min((cfg.HubDegree+1)/2, n)
		p.hubSupplies = cfg.HubDegree - p.hubOwns
		p.hubStep = n / p.hubOwns
		py0 := p.pyrs[0]
		p.hubOwner = int(p.bounds[int(py0.bounds)+int(py0.depth)]) - 1
	}
	return p
}

// deepLevel is the depth from which a pyramid counts as deep.
const deepLevel = 10

// shallowDepth draws the depth of an ordinary pyramid: mostly 1 to 4 levels, rarely 8.
func shallowDepth(r *stream) int {
	x := r.IntN(100)
	for d, cum := range []int{22, 52, 74, 86, 93, 97, 99, 100} {
		if x < cum {
			return d + 1
		}
	}
	return 1
}

// pyramidOf returns the index of the pyramid that holds company c.
func (p *plan) pyramidOf(c int) int {
	return sort.Search(len(p.pyrs), func(k int) bool { return int(p.pyrs[k].start) > c }) - 1
}

// level returns the bounds of level d (1-based) of pyramid k.
func (p *plan) level(k, d int) (lo, hi int) {
	b := int(p.pyrs[k].bounds)
	return int(p.bounds[b+d-1]), int(p.bounds[b+d])
}

// place locates company c: its pyramid, its level and the bounds of that level.
func (p *plan) place(c int) (k, d, lo, hi int) {
	k = p.pyramidOf(c)
	py := p.pyrs[k]
	for d = 1; d < int(py.depth); d++ {
		if c < int(p.bounds[int(py.bounds)+d]) {
			break
		}
	}
	lo, hi = p.level(k, d)
	return k, d, lo, hi
}

// companyCountry returns the index in countries of company c: its pyramid's home
// country for 85 % of companies, a weighted draw for the rest.
func (p *plan) companyCountry(c int) int {
	h := hash(p.cfg.Seed, streamCompanyCountry, c)
	if h%100 < 85 {
		return int(p.pyrs[p.pyramidOf(c)].home)
	}
	return pickWeighted(h>>8, companyWeights)
}

// personCountry returns the index in countries of person i.
func (p *plan) personCountry(i int) int {
	return pickWeighted(hash(p.cfg.Seed, streamPerson, i), companyWeights)
}

// govCountry returns the index in countries of government g; governments are dealt to
// countries in turn, so government g is the (g / len(countries))-th of its country.
func govCountry(g int) int { return g % len(countries) }

// facilityStage returns the stage of facility f and its index within the stage.
func (p *plan) facilityStage(f int) (s, k int) {
	for s = numStages - 1; s > 0 && f < p.stageStart[s]; s-- {
	}
	return s, f - p.stageStart[s]
}

// facilityCountry returns the index in countries of facility f, drawn with the weights
// of its stage.
func (p *plan) facilityCountry(f int) int {
	s, _ := p.facilityStage(f)
	return pickWeighted(hash(p.cfg.Seed, streamFacility, f), stageWeights[s])
}

// isHubTarget reports whether the hub holds a stake in company c.
func (p *plan) isHubTarget(c int) bool {
	return p.hubOwns > 0 && c%p.hubStep == 0 && c/p.hubStep < p.hubOwns
}

// companyWeights weighs countries for companies and persons.
var companyWeights = func() []int {
	w := make([]int, len(countries))
	for i, c := range countries {
		w[i] = c.company
	}
	return w
}()

// stageWeights[s] weighs countries for facilities of stage s.
var stageWeights = func() (w [numStages][]int) {
	for s := range numStages {
		w[s] = make([]int, len(countries))
		for i, c := range countries {
			w[s][i] = c.stage[s]
		}
	}
	return w
}()

// pickWeighted returns an index of w chosen by x with probability proportional to its
// weight.
func pickWeighted(x uint64, w []int) int {
	total := 0
	for _, v := range w {
		total += v
	}
	y := int(x % uint64(total))
	for i, v := range w {
		if y < v {
			return i
		}
		y -= v
	}
	return len(w) - 1
}

// stream is a PCG-backed random source that can be repositioned cheaply at the start of
// the stream of any (what, index) pair.
type stream struct {
	*rand.Rand
	pcg  rand.PCG
	seed int64
}

func newStream(seed int64) *stream {
	s := &stream{seed: seed}
	s.Rand = rand.New(&s.pcg)
	return s
}

// reset positions s at the start of the stream for item i of kind what.
func (s *stream) reset(what uint64, i int) {
	s.pcg.Seed(mix(uint64(s.seed)^what*0x9e3779b97f4a7c15), mix(uint64(i)^what<<48))
}

// hash returns one well-mixed random word for item i of kind what.
func hash(seed int64, what uint64, i int) uint64 {
	return mix(mix(uint64(seed)^what*0x9e3779b97f4a7c15) ^ uint64(i))
}

// mix is the SplitMix64 finaliser.
func mix(x uint64) uint64 {
	x += 0x9e3779b97f4a7c15
	x = (x ^ x>>30) * 0xbf58476d1ce4e5b9
	x = (x ^ x>>27) * 0x94d049bb133111eb
	return x ^ x>>31
}
