//go:build race

package ingest

// raceEnabled is true under the race detector, which makes code 5–20 times slower: the
// tests that measure memory on large graphs skip then.
const raceEnabled = true
