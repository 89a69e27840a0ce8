package ingest

import (
	"bytes"
	"embed"
	"fmt"
	"strconv"
	"strings"
	"sync"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"golang.org/x/text/language"
	"golang.org/x/text/message"
)

// bodsSchemaFS holds the normative BODS 0.4 JSON schema (Apache-2.0, Open Ownership; see
// bodsschema/LICENSE-data-standard.md), from openownership/data-standard at d97e798.
//
//go:embed bodsschema/*.json
var bodsSchemaFS embed.FS

var (
	bodsSchemaOnce sync.Once
	bodsSchema     *jsonschema.Schema
	bodsSchemaErr  error
	bodsPrinter    = message.NewPrinter(language.English)
)

// statementSchema compiles the BODS 0.4 Statement schema once.
func statementSchema() (*jsonschema.Schema, error) {
	bodsSchemaOnce.Do(func() {
		c := jsonschema.NewCompiler()
		c.AssertFormat()
		for _, f := range []string{"statement", "entity-record", "person-record", "relationship-record", "components"} {
			raw, err := bodsSchemaFS.ReadFile("bodsschema/" + f + ".json")
			if err != nil {
				bodsSchemaErr = err
				return
			}
			doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(raw))
			if err != nil {
				bodsSchemaErr = fmt.Errorf("ingest: BODS schema %s: %w", f, err)
				return
			}
			id, _ := doc.(map[string]any)["$id"].(string)
			if err := c.AddResource(id, doc); err != nil {
				bodsSchemaErr = err
				return
			}
		}
		bodsSchema, bodsSchemaErr = c.Compile("urn:statement#/$defs/Statement")
	})
	return bodsSchema, bodsSchemaErr
}

// schemaError turns a validation error into the field and message of its first leaf.
func schemaError(err error) (field, msg string) {
	ve, ok := err.(*jsonschema.ValidationError)
	if !ok {
		return "", err.Error()
	}
	for len(ve.Causes) > 0 {
		ve = ve.Causes[0]
	}
	return instancePath(ve.InstanceLocation), ve.ErrorKind.LocalizedString(bodsPrinter)
}

// instancePath writes a JSON Pointer's tokens as a field path: recordDetails.interests[0].share.
func instancePath(tokens []string) string {
	var b strings.Builder
	for _, t := range tokens {
		if _, err := strconv.Atoi(t); err == nil {
			fmt.Fprintf(&b, "[%s]", t)
			continue
		}
		if b.Len() > 0 {
			b.WriteByte('.')
		}
		b.WriteString(t)
	}
	return b.String()
}
