package store

import (
	"context"
	"fmt"
	"time"
)

// TakeRateToken takes one token from the bucket key with the generic cell
// rate algorithm: the row holds the bucket's theoretical arrival time (TAT,
// µs since the epoch). A request is allowed when max(TAT, now) + interval
// lies at most burst intervals ahead of now; then that becomes the new TAT.
// One atomic upsert decides, so every process on the database shares the
// bucket. When refused, wait says how long until a token is back.
func (s *Store) TakeRateToken(ctx context.Context, key string, now time.Time, interval time.Duration, burst int) (bool, time.Duration, error) {
	n, t := now.UnixMicro(), interval.Microseconds()
	window := int64(burst) * t
	var tat []int64
	err := s.db.WithContext(ctx).Raw(`INSERT INTO rate_limits (key, tat) VALUES (?, ?)
ON CONFLICT (key) DO UPDATE SET tat = (CASE WHEN rate_limits.tat > ? THEN rate_limits.tat ELSE ? END) + ?
WHERE (CASE WHEN rate_limits.tat > ? THEN rate_limits.tat ELSE ? END) + ? - ? <= ?
RETURNING tat`, key, n+t, n, n, t, n, n, t, window, n).Scan(&tat).Error
	if err != nil {
		return true, 0, fmt.Errorf("taking a rate limit token: %w", err)
	}
	if len(tat) == 1 {
		return true, 0, nil
	}
	var cur []int64
	if err := s.db.WithContext(ctx).Raw(`SELECT tat FROM rate_limits WHERE key = ?`, key).Scan(&cur).Error; err != nil || len(cur) == 0 {
		return false, interval, nil
	}
	wait := max(cur[0], n) + t - window - n
	return false, time.Duration(max(wait, 1)) * time.Microsecond, nil
}

// PruneRateTokens deletes buckets that were full again before the given
// time (a missing row is a full bucket).
func (s *Store) PruneRateTokens(ctx context.Context, before time.Time) (int64, error) {
	res := s.db.WithContext(ctx).Exec(`DELETE FROM rate_limits WHERE tat < ?`, before.UnixMicro())
	if res.Error != nil {
		return 0, fmt.Errorf("pruning rate limit buckets: %w", res.Error)
	}
	return res.RowsAffected, nil
}
