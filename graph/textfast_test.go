package graph

import (
	"slices"
	"testing"
)

// FuzzWordsASCIIHan: the ASCII-and-Han fast path of words agrees with the general path.
func FuzzWordsASCIIHan(f *testing.F) {
	fuzzWordsFastPath(f, "wordsASCIIHan", wordsASCIIHan, "永兴新材料399477有限公司 yongxing new materials 399477", "a中b㐀c 龥9,x")
}

// termsByRunes is normalizedTerms as it was written first, with CJK terms cut from a
// []rune: the reference for FuzzNormalizedTerms.
func termsByRunes(norms []string) []string {
	var out []string
	add := func(t string) {
		if t != "" && len(t) <= 128 && !slices.Contains(out, t) {
			out = append(out, t)
		}
	}
	for _, n := range norms {
		for _, w := range wordsUnicode(n) {
			if !cjkWord(w) {
				add(w)
				continue
			}
			rs := []rune(w)
			for i := range rs {
				add(string(rs[i]))
				if i+1 < len(rs) {
					add(string(rs[i : i+2]))
				}
			}
		}
	}
	return out
}

// FuzzNormalizedTerms: the search terms of names are what the rune-by-rune reference
// gives, in the same order.
func FuzzNormalizedTerms(f *testing.F) {
	f.Add("Yongxing New Materials 399477 Co., Ltd.", "永兴新材料399477有限公司")
	f.Add("北方稀土 北方", "ｱｲｳ 한국어 かな")
	f.Fuzz(func(t *testing.T, a, b string) {
		norms := []string{normalize(a), normalize(b)}
		if got, want := normalizedTerms(norms), termsByRunes(norms); !slices.Equal(got, want) {
			t.Errorf("normalizedTerms(%q) = %q, want %q", norms, got, want)
		}
	})
}
