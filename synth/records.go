package synth

import (
	"encoding/json"
	"strconv"

	"github.com/lodestone-kg/lodestone/graph"
)

// generator emits the records of one plan. Each step resets r to the stream of the item
// it makes; cross-references (an operator's country, a person's country) come from hash,
// never from r, so that no item's draws depend on another's.
type generator struct {
	*plan
	emit func(graph.Record) error
	r    *stream
	// owners is scratch space for the owners of one company.
	owners []owner
}

// Date ranges (days since 1970-01-01). Every date the generator writes is in the past.
// Entities start before the relationships that refer to them: companies are incorporated
// in 1980–1994 and facilities commissioned in 1985–2004, while OWNS start in 1995 or later
// and OPERATES and SUPPLIES in 2005 or later.
var (
	day1980     = graph.MustParseDate("1980-01-01").Days()
	day1985     = graph.MustParseDate("1985-01-01").Days()
	day1994     = graph.MustParseDate("1994-12-31").Days()
	day1995     = graph.MustParseDate("1995-01-01").Days()
	day2004     = graph.MustParseDate("2004-12-31").Days()
	day2005     = graph.MustParseDate("2005-01-01").Days()
	day2020     = graph.MustParseDate("2020-01-15").Days()
	dayLastFrom = graph.MustParseDate("2023-12-31").Days() // latest start of an ended fact
	dayLast     = graph.MustParseDate("2025-06-30").Days() // latest date of all
)

// day returns a date drawn uniformly from [lo, hi].
func (g *generator) day(lo, hi int32) graph.Date {
	return graph.DateFromDays(lo + int32(g.r.IntN(int(hi-lo)+1)))
}

// ended returns a validTo after from and no later than dayLast.
func (g *generator) ended(from graph.Date) graph.Date {
	lo := from.Days() + 30
	return graph.DateFromDays(lo + int32(g.r.IntN(int(dayLast-lo)+1)))
}

// cite returns the id of a source of the given kind, chosen by x.
func (g *generator) cite(kind int, x uint64) []string {
	n := g.cfg.Sources
	if n < numSourceKinds {
		return []string{sourceID(int(x % uint64(n)))}
	}
	per := (n - kind + numSourceKinds - 1) / numSourceKinds
	return []string{sourceID(kind + numSourceKinds*int(x%uint64(per)))}
}

func (g *generator) entity(e *graph.Entity) error { return g.emit(graph.Record{Entity: e}) }

func (g *generator) rel(r *graph.Relationship) error {
	return g.emit(graph.Record{Relationship: r})
}

func (g *generator) sources() error {
	for i := range g.cfg.Sources {
		kind := sourceKinds[i%numSourceKinds]
		id := sourceID(i)
		err := g.emit(graph.Record{Source: &graph.Source{
			ID:        id,
			Title:     kind.title + " no. " + strconv.Itoa(i/numSourceKinds+1),
			Publisher: kind.publisher,
			URL:       "https://example.org/lodestone-synth/" + id,
			Published: graph.DateFromDays(day2020 + int32(i*97%1800)),
		}})
		if err != nil {
			return err
		}
	}
	return nil
}

func (g *generator) countries() error {
	for i, c := range countries {
		e := &graph.Entity{
			ID:      "country-" + lower(c.code),
			Kind:    "Country",
			Name:    c.name,
			Country: c.code,
			Sources: g.cite(srcReport, uint64(i)),
		}
		if i == cn {
			e.Aliases = []string{"People's Republic of China", "中国"}
		}
		if err := g.entity(e); err != nil {
			return err
		}
	}
	return nil
}

func (g *generator) materials() error {
	for i, m := range materials {
		err := g.entity(&graph.Entity{
			ID:      "material-" + m.slug,
			Kind:    "Material",
			Name:    m.name,
			Aliases: []string{m.slug},
			Sources: g.cite(srcReport, uint64(i)),
		})
		if err != nil {
			return err
		}
	}
	return nil
}

func (g *generator) governments() error {
	for i := range g.nGovs {
		ci, ord := govCountry(i), i/len(countries)
		c := countries[ci]
		e := &graph.Entity{
			ID:      govID(i),
			Kind:    "Government",
			Country: c.code,
			Sources: g.cite(srcRegistry, hash(g.cfg.Seed, streamGovernment, i)),
		}
		switch {
		case ci == cn && ord == 0:
			e.Name = "State-owned Assets Supervision and Administration Commission of the State Council"
			e.Aliases = []string{"SASAC", "国务院国有资产监督管理委员会"}
		case ci == cn:
			k := (ord - 1) % len(cnProvinces)
			e.Name = cnProvinces[k] + " State-owned Assets Supervision and Administration Commission"
			e.Aliases = []string{cnProvincesZh[k] + "人民政府国有资产监督管理委员会"}
			if round := (ord - 1) / len(cnProvinces); round > 0 {
				e.Name += " (prefecture office " + strconv.Itoa(round) + ")"
				e.Aliases[0] += strconv.Itoa(round)
			}
		case ord == 0:
			e.Name = "Government of " + c.name
		default:
			e.Name = c.name + " State Investment Agency " + strconv.Itoa(ord)
		}
		if err := g.entity(e); err != nil {
			return err
		}
	}
	return nil
}

func (g *generator) persons() error {
	for i := range g.nPersons {
		ci := g.personCountry(i)
		g.r.reset(streamPerson, i)
		e := &graph.Entity{ID: personID(i), Kind: graph.KindPerson, Country: countries[ci].code}
		switch countries[ci].code {
		case "CN":
			s, n := g.r.IntN(len(cnSurnames)), g.r.IntN(len(cnGiven))
			e.Name = cnSurnames[s] + " " + cnGiven[n]
			e.Aliases = []string{cnSurnamesZh[s] + cnGivenZh[n]}
		case "JP":
			e.Name = jpSurnames[g.r.IntN(len(jpSurnames))] + " " + jpGiven[g.r.IntN(len(jpGiven))]
		case "KR":
			e.Name = krSurnames[g.r.IntN(len(krSurnames))] + " " + krGiven[g.r.IntN(len(krGiven))]
		default:
			e.Name = otherGiven[g.r.IntN(len(otherGiven))] + " " + otherSurname[g.r.IntN(len(otherSurname))]
		}
		e.Sources = g.cite(srcRegistry, g.r.Uint64())
		if err := g.entity(e); err != nil {
			return err
		}
	}
	return nil
}

// companies emits the companies, then the hub.
func (g *generator) companies() error {
	for c := range g.cfg.Companies {
		_, d, _, _ := g.place(c)
		ci := g.companyCountry(c)
		ctry := countries[ci]
		g.r.reset(streamCompany, c)
		st := g.r.IntN(len(ctry.stems))
		ind := holdingWords + g.r.IntN(len(industries)-holdingWords)
		if x := g.r.IntN(10); d == 1 && x < 6 {
			ind = x % holdingWords
		}
		num := strconv.Itoa(c)
		short := ctry.stems[st] + " " + industries[ind] + " " + num
		e := &graph.Entity{
			ID:      CompanyID(c),
			Kind:    "Company",
			Name:    short + " " + ctry.suffix,
			Aliases: []string{short},
			Country: ctry.code,
		}
		if ci == cn && g.r.IntN(10) < 9 {
			e.Aliases = append(e.Aliases, ctry.zh[st]+industriesZh[ind]+num+"有限公司")
		}
		if g.r.IntN(10) < 3 {
			e.Aliases = append(e.Aliases, initials(ctry.stems[st]+" "+industries[ind])+" "+num)
		}
		if g.r.IntN(100) < 35 {
			e.Identifiers = append(e.Identifiers, graph.Identifier{Scheme: "LEI", Value: lei(g.r)})
		}
		if ci == cn && g.r.IntN(100) < 40 {
			e.Identifiers = append(e.Identifiers, graph.Identifier{Scheme: "CN-USCC", Value: uscc(g.r)})
		}
		if ex, ok := tickerExchange[ctry.code]; ok && d == 1 && g.r.IntN(100) < 30 {
			e.Identifiers = append(e.Identifiers, graph.Identifier{Scheme: "TICKER", Value: ticker(g.r, ex)})
		}
		if g.r.IntN(2) == 0 {
			e.ValidFrom = g.day(day1980, day1994)
		}
		e.Sources = g.cite(srcRegistry, g.r.Uint64())
		if err := g.entity(e); err != nil {
			return err
		}
	}
	if g.cfg.HubDegree == 0 {
		return nil
	}
	return g.entity(&graph.Entity{
		ID:         HubID,
		Kind:       "Company",
		Name:       "Omni Hub Trading Co., Ltd.",
		Aliases:    []string{"Omni Hub", "万通枢纽贸易有限公司"},
		Country:    "CN",
		Properties: json.RawMessage(`{"synthetic":"hub"}`),
		Sources:    g.cite(srcRegistry, 0),
	})
}

func (g *generator) facilities() error {
	for f := range g.stageStart[numStages] {
		s, k := g.facilityStage(f)
		ci := g.facilityCountry(f)
		ctry := countries[ci]
		g.r.reset(streamFacility, f)
		noun, nounZh := stages[s].noun, stages[s].nounZh
		if s == stageEndUse && g.r.IntN(10) < 3 {
			noun, nounZh = "Wind Turbine Plant", "风机厂"
		}
		num := strconv.Itoa(k)
		e := &graph.Entity{ID: facilityID(s, k), Kind: "Facility", Country: ctry.code}
		if ci == cn {
			city := g.r.IntN(len(cnCities))
			e.Name = cnCities[city] + " " + noun + " " + num
			e.Aliases = []string{cnCitiesZh[city] + nounZh + num}
		} else {
			e.Name = ctry.stems[g.r.IntN(len(ctry.stems))] + " " + noun + " " + num
		}
		capacity := int(float64(stages[s].capacity) * (0.2 + 2.8*g.r.Float64()))
		e.Properties = facilityProps(stages[s].name, capacity)
		if g.r.IntN(2) == 0 {
			e.ValidFrom = g.day(day1985, day2004)
		}
		e.Sources = g.cite(srcSurvey, g.r.Uint64())
		if err := g.entity(e); err != nil {
			return err
		}
	}
	return nil
}

// owner is one owner of a company: a company, a person or a government, by index.
type owner struct {
	kind int
	i    int
}

const (
	ownerCompany = iota
	ownerPerson
	ownerGov
)

func (o owner) id() string {
	switch o.kind {
	case ownerPerson:
		return personID(o.i)
	case ownerGov:
		return govID(o.i)
	}
	return CompanyID(o.i)
}

// Shares are drawn in basis points, so that sums are exact.
const (
	unit     = 10000 // a whole company
	hubStake = 100   // the hub's stake in each company it holds
)

// shareBands are the disclosed ranges (in basis points) a stake may be reported as.
var shareBands = [][2]int{{500, 1000}, {1000, 2500}, {2500, 5000}, {5000, 7500}, {7500, 10000}}

// owns emits the OWNS relationships into every company (its owners, a cross-holding, the
// hub's stake), then the one into the hub. The shares (or shareMax) into a company sum to
// at most one: the cross-holding and the hub's stake are set aside before the owners'
// stakes are drawn.
func (g *generator) owns() error {
	for c := range g.cfg.Companies {
		if err := g.ownsOf(c); err != nil {
			return err
		}
	}
	if g.cfg.HubDegree == 0 {
		return nil
	}
	return g.rel(&graph.Relationship{
		ID: "own-" + HubID + "-1", Type: graph.TypeOwns, From: CompanyID(g.hubOwner), To: HubID,
		Share: share(unit), Sources: g.cite(srcRegistry, 0),
	})
}

func (g *generator) ownsOf(c int) error {
	k, d, lo, hi := g.place(c)
	py := g.pyrs[k]
	g.r.reset(streamOwners, c)
	id := CompanyID(c)
	budget := unit
	if g.isHubTarget(c) {
		budget -= hubStake
	}
	holder, holderStake := -1, 0
	if g.r.Float64() < g.cfg.CrossHoldingRate {
		if holder = g.crossHolder(k, d, c, lo, hi); holder >= 0 {
			holderStake = 50 + g.r.IntN(951)
			budget -= holderStake
		}
	}

	count := 1
	switch x := g.r.IntN(100); {
	case x >= 80:
		count = 3
	case x >= 45:
		count = 2
	}
	list := g.owners[:0]
	if d == 1 {
		home := int(py.home)
		govRate := 10
		if home == cn {
			govRate = 45
		}
		if g.r.IntN(100) < govRate {
			nGov := (g.nGovs - home + len(countries) - 1) / len(countries)
			list = append(list, owner{ownerGov, home + len(countries)*g.r.IntN(nGov)})
		}
		for tries := 0; len(list) < count && tries < 2*count; tries++ {
			list = appendNew(list, owner{ownerPerson, g.pickPerson(home)})
		}
	} else {
		plo, phi := g.level(k, d-1)
		wp, w := phi-plo, hi-lo
		list = append(list, owner{ownerCompany, plo + (c-lo)*wp/w})
		// A co-owner that turns out a duplicate, or is not found, is simply left out.
		for range count - 1 {
			if g.r.IntN(10) < 7 && wp >= 2 {
				list = appendNew(list, owner{ownerCompany, plo + g.r.IntN(wp)})
			} else if o := g.otherPyramid(k, d-1); o >= 0 {
				list = appendNew(list, owner{ownerCompany, o})
			}
		}
	}
	g.owners = list

	total := budget
	if len(list) > 1 || g.r.IntN(100) >= 35 {
		total = budget * (40 + g.r.IntN(61)) / 100
	}
	var weights [3]float64
	sum := 0.0
	for i := range list {
		if i == 0 {
			weights[i] = 1.5 + 2*g.r.Float64()
		} else {
			weights[i] = 0.3 + 0.9*g.r.Float64()
		}
		sum += weights[i]
	}
	for i, o := range list {
		bp := max(1, int(float64(total)*weights[i]/sum))
		r := &graph.Relationship{ID: "own-" + id + "-" + strconv.Itoa(i+1), Type: graph.TypeOwns, From: o.id(), To: id}
		switch x := g.r.IntN(100); {
		case x < 6: // undisclosed
		case x < 13 && bp >= shareBands[0][1]:
			b := len(shareBands) - 1
			for shareBands[b][1] > bp {
				b--
			}
			r.ShareMin, r.ShareMax = share(shareBands[b][0]), share(shareBands[b][1])
		default:
			r.Share = share(bp)
		}
		if i > 0 && g.r.IntN(100) < 8 {
			r.ValidFrom = g.day(day1995, dayLastFrom)
			r.ValidTo = g.ended(r.ValidFrom)
		} else if g.r.IntN(10) < 6 {
			r.ValidFrom = g.day(day1995, dayLast)
		}
		if g.r.IntN(100) < 5 {
			r.Confidence = fraction(50 + g.r.IntN(50))
		}
		r.Sources = g.cite(srcRegistry, g.r.Uint64())
		if err := g.rel(r); err != nil {
			return err
		}
	}
	if holder >= 0 {
		r := &graph.Relationship{
			ID: "own-" + id + "-x", Type: graph.TypeOwns, From: CompanyID(holder), To: id,
			Share: share(holderStake), Sources: g.cite(srcRegistry, g.r.Uint64()),
		}
		if g.r.IntN(2) == 0 {
			r.ValidFrom = g.day(day2005, dayLast)
		}
		if err := g.rel(r); err != nil {
			return err
		}
	}
	if g.isHubTarget(c) {
		return g.rel(&graph.Relationship{
			ID: "own-" + id + "-hub", Type: graph.TypeOwns, From: HubID, To: id,
			Share: share(hubStake), Sources: g.cite(srcRegistry, uint64(c)),
		})
	}
	return nil
}

// crossHolder picks the cross-holder of company c (pyramid k, level d, level bounds
// lo..hi): mostly a descendant of c along primary-parent links, 1 to 3 levels down (an
// OWNS cycle), otherwise another company of c's level. It returns -1 when c has neither.
func (g *generator) crossHolder(k, d, c, lo, hi int) int {
	if g.r.IntN(10) < 7 {
		cur := c
		for steps := 1 + g.r.IntN(3); steps > 0 && d < int(g.pyrs[k].depth); steps-- {
			clo, chi := g.level(k, d)
			nlo, nhi := g.level(k, d+1)
			w, wn, j := chi-clo, nhi-nlo, cur-clo
			// The children of j are the companies j' of the next level whose primary
			// parent j'*w/wn is j.
			a, b := ceilDiv(j*wn, w), ceilDiv((j+1)*wn, w)
			if a >= b {
				break
			}
			cur, d = nlo+a+g.r.IntN(b-a), d+1
		}
		if cur != c {
			return cur
		}
	}
	if hi-lo < 2 {
		return -1
	}
	x := lo + g.r.IntN(hi-lo-1)
	if x >= c {
		x++
	}
	return x
}

// otherPyramid returns a random company of level d of a pyramid other than k, or -1
// when a few tries find no pyramid that deep.
func (g *generator) otherPyramid(k, d int) int {
	for range 8 {
		q := g.r.IntN(len(g.pyrs))
		if q != k && int(g.pyrs[q].depth) >= d {
			lo, hi := g.level(q, d)
			return lo + g.r.IntN(hi-lo)
		}
	}
	return -1
}

// pickPerson returns a random person, preferring one from country home.
func (g *generator) pickPerson(home int) int {
	p := 0
	for range 4 {
		if p = g.r.IntN(g.nPersons); g.personCountry(p) == home {
			break
		}
	}
	return p
}

// appendNew appends o to list unless it is already there.
func appendNew(list []owner, o owner) []owner {
	for _, x := range list {
		if x == o {
			return list
		}
	}
	return append(list, o)
}

// operates emits one OPERATES per facility, from a company of the facility's country
// when a few random tries find one.
func (g *generator) operates() error {
	n := g.cfg.Companies
	for f := range g.stageStart[numStages] {
		s, k := g.facilityStage(f)
		ci := g.facilityCountry(f)
		g.r.reset(streamOperates, f)
		c := 0
		for range 12 {
			if c = g.r.IntN(n); g.companyCountry(c) == ci {
				break
			}
		}
		id := facilityID(s, k)
		r := &graph.Relationship{ID: "op-" + id, Type: graph.TypeOperates, From: CompanyID(c), To: id}
		if g.r.IntN(2) == 0 {
			r.ValidFrom = g.day(day2005, dayLast)
		}
		r.Sources = g.cite(srcSurvey, g.r.Uint64())
		if err := g.rel(r); err != nil {
			return err
		}
	}
	return nil
}

// supplies emits, for every facility past the mines, 1 to 5 SUPPLIES from facilities of
// the stage before (big suppliers, the low indexes, are favoured), and now and then a
// recycling SUPPLIES of magnet scrap into a separation plant; then the hub's SUPPLIES.
func (g *generator) supplies() error {
	var from [5]int
	for f := g.stageStart[1]; f < g.stageStart[numStages]; f++ {
		s, k := g.facilityStage(f)
		id := facilityID(s, k)
		g.r.reset(streamSupplies, f)
		count := 1
		switch x := g.r.IntN(100); {
		case x >= 90:
			count = 5
		case x >= 77:
			count = 4
		case x >= 52:
			count = 3
		case x >= 20:
			count = 2
		}
		lo, hi := g.stageStart[s-1], g.stageStart[s]
		n := 0
	pick:
		for range count {
			u := g.r.Float64()
			x := lo + int(float64(hi-lo)*u*u)
			for _, y := range from[:n] {
				if x == y {
					continue pick // a duplicate supplier is left out
				}
			}
			from[n] = x
			n++
		}
		for i, x := range from[:n] {
			mat := inputMaterial(s, g.r)
			if err := g.supply(id+"-"+strconv.Itoa(i+1), x, id, mat, stages[s].input, false); err != nil {
				return err
			}
		}
		if s == stageSeparation && g.r.Float64() < g.cfg.RecyclingRate {
			mlo, mhi := g.stageStart[stageMagnet], g.stageStart[stageMagnet+1]
			x := mlo + g.r.IntN(mhi-mlo)
			if err := g.supply(id+"-r", x, id, matMagnet, stages[s].input/10, true); err != nil {
				return err
			}
		}
	}
	nonMine := g.stageStart[numStages] - g.stageStart[1]
	step := max(1, nonMine/max(1, g.hubSupplies))
	for t := range g.hubSupplies {
		f := g.stageStart[1] + t*step%nonMine
		s, k := g.facilityStage(f)
		g.r.reset(streamHub, t)
		err := g.rel(&graph.Relationship{
			ID: padded("sup-hub-", t+1, 7), Type: graph.TypeSupplies, From: HubID, To: facilityID(s, k),
			Properties: supplyProps(materials[inputMaterial(s, g.r)].slug, 10, false),
			Sources:    g.cite(srcTrade, uint64(t)),
		})
		if err != nil {
			return err
		}
	}
	return nil
}

// supply emits one SUPPLIES from facility f to the facility id; its volumeTpa is drawn
// around typical, and left out for 5 % of them.
func (g *generator) supply(suffix string, f int, to string, mat, typical int, recycled bool) error {
	s, k := g.facilityStage(f)
	volume := -1
	if g.r.IntN(100) >= 5 {
		volume = max(1, int(float64(typical)*(0.1+1.9*g.r.Float64())))
	}
	r := &graph.Relationship{
		ID: "sup-" + suffix, Type: graph.TypeSupplies, From: facilityID(s, k), To: to,
		Properties: supplyProps(materials[mat].slug, volume, recycled),
	}
	switch x := g.r.IntN(100); {
	case x < 4:
		r.ValidFrom = g.day(day2005, dayLastFrom)
		r.ValidTo = g.ended(r.ValidFrom)
	case x < 44:
		r.ValidFrom = g.day(day2005, dayLast)
	}
	if g.r.IntN(10) < 3 {
		r.Confidence = fraction(60 + g.r.IntN(36))
	}
	r.Sources = g.cite(srcTrade, g.r.Uint64())
	return g.rel(r)
}

// inputMaterial returns what a facility of stage s receives; a magnet plant takes NdPr
// metal or NdFeB alloy.
func inputMaterial(s int, r *stream) int {
	switch s {
	case stageSeparation:
		return matConcentrate
	case stageMetalAlloy:
		return matOxide
	case stageMagnet:
		return matMetal + r.IntN(2)
	case stageMotor:
		return matMagnet
	}
	return matMotor
}

func facilityProps(stage string, capacity int) json.RawMessage {
	b := make([]byte, 0, 48)
	b = append(b, `{"stage":"`...)
	b = append(b, stage...)
	b = append(b, `","capacityTpa":`...)
	b = strconv.AppendInt(b, int64(capacity), 10)
	return append(b, '}')
}

// supplyProps returns the properties of a SUPPLIES; volume < 0 leaves volumeTpa out.
func supplyProps(material string, volume int, recycled bool) json.RawMessage {
	b := make([]byte, 0, 64)
	b = append(b, `{"material":"`...)
	b = append(b, material...)
	b = append(b, '"')
	if volume >= 0 {
		b = append(b, `,"volumeTpa":`...)
		b = strconv.AppendInt(b, int64(volume), 10)
	}
	if recycled {
		b = append(b, `,"recycled":true`...)
	}
	return append(b, '}')
}

// share returns bp basis points as a fraction.
func share(bp int) *float64 {
	v := float64(bp) / unit
	return &v
}

// fraction returns pct per cent as a fraction.
func fraction(pct int) *float64 {
	v := float64(pct) / 100
	return &v
}

func ceilDiv(a, b int) int { return (a + b - 1) / b }

// initials returns the upper-case initials of the words of s: "Zhaobao Magnetics" → "ZM".
func initials(s string) string {
	var b []byte
	word := true
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == ' ' || c == '-':
			word = true
		case word:
			if 'a' <= c && c <= 'z' {
				c -= 'a' - 'A'
			}
			b = append(b, c)
			word = false
		}
	}
	return string(b)
}

// lei returns a well-formed Legal Entity Identifier: a 4-character LOU prefix, "00", 12
// random characters and the two ISO 7064 MOD 97-10 check digits.
func lei(r *stream) string {
	const alnum = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
	lous := [...]string{"5493", "2138", "5299", "9845", "3003", "8156", "3157", "9695"}
	b := make([]byte, 20)
	copy(b, lous[r.IntN(len(lous))])
	b[4], b[5] = '0', '0'
	for i := 6; i < 18; i++ {
		b[i] = alnum[r.IntN(len(alnum))]
	}
	m := 0
	for _, c := range b[:18] {
		if c >= 'A' {
			m = (m*100 + int(c-'A') + 10) % 97
		} else {
			m = (m*10 + int(c-'0')) % 97
		}
	}
	check := 98 - m*100%97
	b[18], b[19] = byte('0'+check/10), byte('0'+check%10)
	return string(b)
}

// uscc returns an 18-character string shaped like a Chinese unified social credit code.
func uscc(r *stream) string {
	const chars = "0123456789ABCDEFGHJKLMNPQRTUWXY"
	regions := [...]string{"150200", "360700", "330200", "350200", "510100", "440300"}
	b := make([]byte, 0, 18)
	b = append(b, "91"...)
	b = append(b, regions[r.IntN(len(regions))]...)
	for len(b) < 18 {
		b = append(b, chars[r.IntN(len(chars))])
	}
	return string(b)
}

// ticker returns a listing on exchange ex: digits in Asia, letters elsewhere.
func ticker(r *stream, ex string) string {
	switch ex {
	case "SSE":
		return ex + ":" + strconv.Itoa(600000+r.IntN(4000))
	case "KRX":
		return ex + ":" + padded("", r.IntN(400000), 6)
	case "TSE":
		return ex + ":" + strconv.Itoa(1300+r.IntN(8700))
	}
	b := []byte(ex + ":")
	for range 3 + r.IntN(2) {
		b = append(b, byte('A'+r.IntN(26)))
	}
	return string(b)
}
