package ingest

import (
	"bufio"
	"context"
	"encoding/json"
	"slices"
	"strconv"
	"strings"

	"github.com/lodestone-kg/lodestone/graph"
)

// exportFtM writes the records sel selects as FollowTheMoney entity JSON lines, the
// inverse of the FtM import (see FormatFtM), so that importing the output into an empty
// store gives the store that was exported from an FtM import:
//
//   - An entity becomes an entity of the schema named by its kind (LegalEntity for a kind
//     that is not a node schema, e.g. Government): name = [name, aliases…], country =
//     properties.country or the lower-cased country, identifiers as the property of their
//     scheme (ftmIdentifierSchemes; identifiers of other schemes are not written), the
//     other properties as lists of strings (non-strings as JSON text), ftm:* properties
//     back as the statement metadata, and its sources as datasets ("ftm:" dropped).
//   - Each element of properties.sanctions becomes a Sanction whose entity is the entity.
//   - A relationship becomes an edge of the schema of its type (UnknownLink with role =
//     the type for a type FtM has no schema for), with share or shareMin/shareMax as
//     percentage ("25", "25-50"; exclusive bounds and confidence are not written) and
//     validFrom/validTo as startDate/endDate.
//
// Sources are not written: FtM has no record for them beyond the dataset names.
func exportFtM(ctx context.Context, store *graph.Store, w *bufio.Writer, sel graph.ExportOptions, sum *ExportSummary) error {
	sel.Passes = 1
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	return store.ExportWith(ctx, sel, func(_ int, rec graph.Record) error {
		sum.add(rec)
		switch {
		case rec.Entity != nil:
			out, sanctions := ftmFromEntity(rec.Entity)
			if err := enc.Encode(out); err != nil {
				return err
			}
			for _, s := range sanctions {
				if err := enc.Encode(s); err != nil {
					return err
				}
			}
		case rec.Relationship != nil:
			return enc.Encode(ftmFromRelationship(rec.Relationship))
		}
		return nil
	})
}

// ftmOut is an FtM entity line with its keys in the usual order.
type ftmOut struct {
	ID         string              `json:"id"`
	Schema     string              `json:"schema"`
	Properties map[string][]string `json:"properties"`
	Datasets   []string            `json:"datasets,omitempty"`
	Referents  []string            `json:"referents,omitempty"`
	FirstSeen  string              `json:"first_seen,omitempty"`
	LastSeen   string              `json:"last_seen,omitempty"`
	LastChange string              `json:"last_change,omitempty"`
	Target     *bool               `json:"target,omitempty"`
}

// ftmProps splits stored properties into FtM properties and metadata.
func ftmProps(raw json.RawMessage, out *ftmOut) map[string]any {
	props := decodeProps(raw)
	out.Properties = map[string][]string{}
	for k, v := range props {
		switch k {
		case "ftm:referents":
			out.Referents = ftmStrings(v)
		case "ftm:first_seen":
			out.FirstSeen, _ = v.(string)
		case "ftm:last_seen":
			out.LastSeen, _ = v.(string)
		case "ftm:last_change":
			out.LastChange, _ = v.(string)
		case "ftm:target":
			if b, ok := v.(bool); ok {
				out.Target = &b
			}
		case "sanctions":
		default:
			out.Properties[k] = ftmStrings(v)
		}
	}
	return props
}

func ftmDatasets(sources []string) []string {
	var out []string
	for _, s := range sources {
		out = append(out, strings.TrimPrefix(s, ftmSourcePrefix))
	}
	return out
}

func ftmFromEntity(e *graph.Entity) (*ftmOut, []*ftmOut) {
	out := &ftmOut{ID: e.ID, Schema: e.Kind, Datasets: ftmDatasets(e.Sources)}
	if !ftmNodeSchemata[out.Schema] {
		out.Schema = "LegalEntity"
	}
	props := ftmProps(e.Properties, out)
	out.Properties["name"] = append([]string{e.Name}, e.Aliases...)
	if _, ok := out.Properties["country"]; !ok && e.Country != "" {
		out.Properties["country"] = []string{strings.ToLower(e.Country)}
	}
	byScheme := map[string]string{}
	for p, s := range ftmIdentifierSchemes {
		byScheme[s] = p
	}
	for _, id := range e.Identifiers {
		if p, ok := byScheme[id.Scheme]; ok && !slices.Contains(out.Properties[p], id.Value) {
			out.Properties[p] = append(out.Properties[p], id.Value)
		}
	}
	var sanctions []*ftmOut
	list, _ := props["sanctions"].([]any)
	for i, x := range list {
		m, ok := x.(map[string]any)
		if !ok {
			continue
		}
		s := &ftmOut{Schema: "Sanction", Properties: map[string][]string{"entity": {e.ID}}}
		for k, v := range m {
			switch k {
			case "id":
				s.ID, _ = v.(string)
			case "datasets":
				s.Datasets = ftmStrings(v)
			default:
				s.Properties[k] = ftmStrings(v)
			}
		}
		if s.ID == "" {
			s.ID = e.ID + "-sanction-" + strconv.Itoa(i+1)
		}
		sanctions = append(sanctions, s)
	}
	return out, sanctions
}

func ftmFromRelationship(r *graph.Relationship) *ftmOut {
	out := &ftmOut{ID: r.ID, Datasets: ftmDatasets(r.Sources)}
	ftmProps(r.Properties, out)
	edge, schema := ftmEdge{"subject", "object", "UNKNOWN_LINK"}, "UnknownLink"
	for name, e := range ftmEdgeSchemata {
		if e.typ == r.Type {
			edge, schema = e, name
		}
	}
	if schema == "UnknownLink" && r.Type != "UNKNOWN_LINK" {
		if _, ok := out.Properties["role"]; !ok {
			out.Properties["role"] = []string{r.Type}
		}
	}
	out.Schema = schema
	out.Properties[edge.source] = []string{r.From}
	out.Properties[edge.target] = []string{r.To}
	pct := func(f float64) string { return strconv.FormatFloat(f*100, 'g', 12, 64) }
	switch {
	case r.Share != nil:
		out.Properties["percentage"] = []string{pct(*r.Share)}
	case r.ShareMin != nil && r.ShareMax != nil:
		out.Properties["percentage"] = []string{pct(*r.ShareMin) + "-" + pct(*r.ShareMax)}
	}
	if _, ok := out.Properties["startDate"]; !ok && !r.ValidFrom.IsZero() {
		out.Properties["startDate"] = []string{r.ValidFrom.String()}
	}
	if _, ok := out.Properties["endDate"]; !ok && !r.ValidTo.IsZero() {
		out.Properties["endDate"] = []string{r.ValidTo.String()}
	}
	return out
}
