package graph

import (
	"strings"
	"testing"
)

// TestParseDateSaysWhatIsWrong checks that ParseDate's error names the calendar fault
// when the form is right and the form when it is not.
func TestParseDateSaysWhatIsWrong(t *testing.T) {
	tests := []struct{ in, says string }{
		{"2024-02-30", "February 2024 has 29 days"},
		{"2025-02-29", "February 2025 has 28 days"},
		{"2025-04-31", "April 2025 has 30 days"},
		{"2025-13-01", "there is no month 13"},
		{"2025-01-00", "there is no day 0"},
		{"30/11/2024", "use YYYY-MM-DD"},
		{"2024-2-3", "use YYYY-MM-DD"},
		{"2024-02-03T00:00:00Z", "use YYYY-MM-DD"},
		{"", "use YYYY-MM-DD"},
	}
	for _, tt := range tests {
		_, err := ParseDate(tt.in)
		if err == nil || !strings.Contains(err.Error(), tt.says) {
			t.Errorf("ParseDate(%q) = %v, want an error saying %q", tt.in, err, tt.says)
		}
	}
	if d, err := ParseDate("2024-02-29"); err != nil || d.String() != "2024-02-29" {
		t.Errorf("ParseDate(2024-02-29) = %v, %v", d, err)
	}
}
