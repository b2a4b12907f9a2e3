// Package latency is the latency arithmetic the benchmark programs share.
package latency

import (
	"math"
	"slices"
)

// PercentileMs is the p-th percentile (nearest rank) of sorted latencies in
// nanoseconds, in milliseconds; 0 for none.
func PercentileMs(sorted []int64, p float64) float64 {
	if len(sorted) == 0 {
		return 0
	}
	i := int(math.Ceil(p/100*float64(len(sorted)))) - 1
	i = min(max(i, 0), len(sorted)-1)
	return float64(sorted[i]) / 1e6
}

// Summary describes a set of latencies, in milliseconds.
type Summary struct {
	P50Ms, P95Ms, P99Ms, MaxMs, MeanMs float64
}

// Summarize sorts latencies (nanoseconds) in place and describes them; all
// zero for none.
func Summarize(latencies []int64) Summary {
	slices.Sort(latencies)
	var s Summary
	if len(latencies) == 0 {
		return s
	}
	var total float64
	for _, v := range latencies {
		total += float64(v)
	}
	s.P50Ms, s.P95Ms, s.P99Ms = PercentileMs(latencies, 50), PercentileMs(latencies, 95), PercentileMs(latencies, 99)
	s.MaxMs = float64(latencies[len(latencies)-1]) / 1e6
	s.MeanMs = total / float64(len(latencies)) / 1e6
	return s
}
