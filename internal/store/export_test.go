package store

import "time"

// SetLookupClock replaces the clock of s's cached lookups.
func SetLookupClock(s *Store, now func() time.Time) { s.lookups.now = now }
