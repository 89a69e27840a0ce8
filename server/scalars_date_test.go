package server

import (
	"strings"
	"testing"

	"github.com/lodestone-kg/lodestone/graph"
)

// TestBadDateSaysWhatIsWrong checks that a date the server cannot read, given literally
// or as a variable, is refused as INVALID_INPUT and that the message says what is wrong:
// the day when the day does not exist, the form when the form is. (extensions.field is
// not checked: graphql-go hands argument-coercion errors to server/errors.go without
// the argument's name.)
func TestBadDateSaysWhatIsWrong(t *testing.T) {
	ts := newTestServer(t, Config{})
	tests := []struct {
		name, query string
		vars        map[string]any
		field, says string
	}{
		{"literal day", `{ owners(of: "nzb", asOf: "2024-02-30") { direct } }`, nil, "asOf", "February 2024 has 29 days"},
		{"literal form", `{ owners(of: "nzb", asOf: "30/11/2024") { direct } }`, nil, "asOf", "use YYYY-MM-DD"},
		{"variable day", `query($d: Date) { owners(of: "nzb", asOf: $d) { direct } }`, map[string]any{"d": "2025-02-29"}, "d", "February 2025 has 28 days"},
		{"variable form", `query($d: Date) { owners(of: "nzb", asOf: $d) { direct } }`, map[string]any{"d": "30/11/2024"}, "d", "use YYYY-MM-DD"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, out := ts.post(t, tt.query, tt.vars, nil)
			if len(out.Errors) != 1 {
				t.Fatalf("%s: errors %+v, want one", tt.query, out.Errors)
			}
			e := out.Errors[0]
			if e.Extensions["code"] != graph.EINVALID || !strings.Contains(e.Message, tt.says) {
				t.Errorf("%s %v: error = %+v, want INVALID_INPUT saying %q", tt.query, tt.vars, e, tt.says)
			}
		})
	}
}
