package graph

import (
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/cases"
	"golang.org/x/text/runes"
	"golang.org/x/text/transform"
	"golang.org/x/text/unicode/norm"
)

// Name search normalizes names and queries the same way: compatibility decomposition
// (full-width forms become ASCII), accents removed, case folded. Words of alphabetic
// scripts are indexed whole and matched by prefix; runs of CJK characters (which have no
// spaces between words) are indexed as every single character and every pair of
// neighbouring characters, and a query matches when all its pairs are present.

var folder = cases.Fold()

// normalize returns s decomposed, without combining marks, case-folded and with runs of
// white space collapsed to one space.
func normalize(s string) string {
	if ascii, ok := normalizeASCII(s); ok {
		return ascii
	}
	if simple, ok := normalizeASCIIHan(s); ok {
		return simple
	}
	t := transform.Chain(norm.NFKD, runes.Remove(runes.In(unicode.Mn)), norm.NFC)
	out, _, err := transform.String(t, s)
	if err != nil {
		out = s
	}
	return strings.Join(strings.Fields(folder.String(out)), " ")
}

// normalizeASCII is normalize for pure ASCII text (most names), without the Unicode
// machinery: lower case and single spaces. ok is false when s is not ASCII.
func normalizeASCII(s string) (string, bool) {
	b := make([]byte, 0, len(s))
	space := true // drop leading spaces
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= 0x80:
			return "", false
		case c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f':
			if !space {
				b = append(b, ' ')
				space = true
			}
			continue
		case c >= 'A' && c <= 'Z':
			c += 'a' - 'A'
		}
		b = append(b, c)
		space = false
	}
	if len(b) > 0 && b[len(b)-1] == ' ' {
		b = b[:len(b)-1]
	}
	return string(b), true
}

// normalizeASCIIHan is normalize for text of ASCII and CJK unified ideographs only (most
// Chinese names), which decomposition, mark removal and case folding leave unchanged: the
// ASCII part is treated as normalizeASCII treats it. ok is false for any other text.
func normalizeASCIIHan(s string) (string, bool) {
	b := make([]byte, 0, len(s))
	space := true
	for _, r := range s {
		switch {
		case r >= 0x4E00 && r <= 0x9FFF || r >= 0x3400 && r <= 0x4DBF:
			b = utf8.AppendRune(b, r)
			space = false
			continue
		case r >= 0x80:
			return "", false
		case r == ' ' || r == '\t' || r == '\n' || r == '\r' || r == '\v' || r == '\f':
			if !space {
				b = append(b, ' ')
				space = true
			}
			continue
		case r >= 'A' && r <= 'Z':
			r += 'a' - 'A'
		}
		b = append(b, byte(r))
		space = false
	}
	if len(b) > 0 && b[len(b)-1] == ' ' {
		b = b[:len(b)-1]
	}
	return string(b), true
}

func isCJK(r rune) bool {
	return unicode.In(r, unicode.Han, unicode.Hiragana, unicode.Katakana, unicode.Hangul)
}

// words splits normalized text into words: letters and digits; a CJK run is one word.
func words(s string) []string {
	if out, ok := wordsASCII(s); ok {
		return out
	}
	if out, ok := wordsASCIIHan(s); ok {
		return out
	}
	return wordsUnicode(s)
}

// isHan reports whether r is a CJK unified ideograph of the ranges normalizeASCIIHan keeps.
func isHan(r rune) bool { return r >= 0x4E00 && r <= 0x9FFF || r >= 0x3400 && r <= 0x4DBF }

// wordsASCIIHan is words for text of ASCII and the CJK ideographs of isHan only (most
// Chinese names): the words are substrings of s. ok is false for any other text.
func wordsASCIIHan(s string) (out []string, ok bool) {
	start, han := -1, false
	for i, r := range s {
		h := isHan(r)
		alnum := r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r >= 'A' && r <= 'Z'
		switch {
		case r >= 0x80 && !h:
			return nil, false
		case !h && !alnum:
			if start >= 0 {
				out = append(out, s[start:i])
				start = -1
			}
			continue
		case start >= 0 && h != han:
			out = append(out, s[start:i])
			start = -1
		}
		if start < 0 {
			start, han = i, h
		}
	}
	if start >= 0 {
		out = append(out, s[start:])
	}
	return out, true
}

func wordsUnicode(s string) []string {
	var out []string
	var cur []rune
	cjk := false
	flush := func() {
		if len(cur) > 0 {
			out = append(out, string(cur))
			cur = cur[:0]
		}
	}
	for _, r := range s {
		switch {
		case isCJK(r):
			if !cjk {
				flush()
			}
			cjk = true
			cur = append(cur, r)
		case unicode.IsLetter(r) || unicode.IsDigit(r):
			if cjk {
				flush()
			}
			cjk = false
			cur = append(cur, r)
		default:
			flush()
			cjk = false
		}
	}
	flush()
	return out
}

func cjkWord(w string) bool {
	for _, r := range w {
		return isCJK(r)
	}
	return false
}

// wordsASCII is words for ASCII text, where letters and digits are [a-zA-Z0-9]: the words
// are substrings of s. ok is false when s is not ASCII.
func wordsASCII(s string) (out []string, ok bool) {
	start := -1
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 0x80 {
			return nil, false
		}
		if c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c >= 'A' && c <= 'Z' {
			if start < 0 {
				start = i
			}
			continue
		}
		if start >= 0 {
			out = append(out, s[start:i])
			start = -1
		}
	}
	if start >= 0 {
		out = append(out, s[start:])
	}
	return out, true
}

// indexTerms returns the distinct search terms stored for the names of an entity.
func indexTerms(names ...string) []string {
	norms := make([]string, len(names))
	for i, n := range names {
		norms[i] = normalize(n)
	}
	return normalizedTerms(norms)
}

// normalizedTerms is indexTerms of names already normalized.
func normalizedTerms(norms []string) []string {
	out := make([]string, 0, 16)
	var seen map[string]bool // used once out is long; a linear search is faster before
	add := func(t string) {
		if t == "" || len(t) > 128 {
			return
		}
		if seen == nil && len(out) >= 32 {
			seen = make(map[string]bool, 2*len(out))
			for _, o := range out {
				seen[o] = true
			}
		}
		if seen != nil {
			if seen[t] {
				return
			}
			seen[t] = true
		} else if slices.Contains(out, t) {
			return
		}
		out = append(out, t)
	}
	for _, n := range norms {
		for _, w := range words(n) {
			if !cjkWord(w) {
				add(w)
				continue
			}
			// Every character and every pair of neighbours, as substrings of w.
			for i, r := range w {
				one := i + utf8.RuneLen(r)
				add(w[i:one])
				if one < len(w) {
					_, n := utf8.DecodeRuneInString(w[one:])
					add(w[i : one+n])
				}
			}
		}
	}
	return out
}

// queryTerm is one term of a search query: matched as a prefix of an indexed term, or
// exactly for CJK pairs and single characters.
type queryTerm struct {
	text   string
	prefix bool
}

// queryTerms splits a search text into the terms every hit must match.
func queryTerms(text string) []queryTerm {
	var out []queryTerm
	seen := map[string]bool{}
	add := func(t string, prefix bool) {
		if !seen[t] {
			seen[t] = true
			out = append(out, queryTerm{t, prefix})
		}
	}
	for _, w := range words(normalize(text)) {
		if !cjkWord(w) {
			add(w, true)
			continue
		}
		rs := []rune(w)
		if len(rs) == 1 {
			add(w, false)
		}
		for i := 0; i+1 < len(rs); i++ {
			add(string(rs[i:i+2]), false)
		}
	}
	return out
}

// matchScore ranks how well the normalized query q matches one normalized name: 1 for
// equality, then prefix, then substring, then 0.5 when every query word is a prefix of
// some word of the name; 0 when it does not match.
func matchScore(q, name string) float64 {
	switch {
	case name == q:
		return 1
	case strings.HasPrefix(name, q):
		return 0.9
	case strings.Contains(name, q):
		return 0.75
	}
	nameWords := words(name)
	for _, t := range queryTerms(q) {
		found := false
		for _, w := range nameWords {
			if t.prefix && strings.HasPrefix(w, t.text) || !t.prefix && strings.Contains(w, t.text) {
				found = true
				break
			}
		}
		if !found {
			return 0
		}
	}
	return 0.5
}
