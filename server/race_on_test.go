//go:build race

package server

// raceEnabled is true under the race detector, which makes code 5–20 times slower: tests
// that assert CPU time, memory or latency then check the answers only.
const raceEnabled = true
