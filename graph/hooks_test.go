package graph

// SetChangeLogOff turns s's change log off or on again, for the benchmarks of package
// graph_test that measure what the log costs; nothing outside tests can.
func SetChangeLogOff(s *Store, off bool) { s.noChangeLog = off }
