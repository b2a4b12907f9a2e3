// Package latency is the latency arithmetic the benchmark programs share.
package latency

import "math"

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
