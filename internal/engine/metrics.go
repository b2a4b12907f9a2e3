package engine

import (
	"context"
	"fmt"
)

// CountJobsByState counts queue jobs per state (for /metrics). River's
// tables are the engine's: no other package reads them.
func (e *Engine) CountJobsByState(ctx context.Context) (map[string]int64, error) {
	rows, err := e.st.SQLDB().QueryContext(ctx, "SELECT state, count(*) FROM river_job GROUP BY state")
	if err != nil {
		return nil, fmt.Errorf("counting queue jobs: %w", err)
	}
	defer rows.Close()
	out := map[string]int64{}
	for rows.Next() {
		var state string
		var n int64
		if err := rows.Scan(&state, &n); err != nil {
			return nil, fmt.Errorf("counting queue jobs: %w", err)
		}
		out[state] = n
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("counting queue jobs: %w", err)
	}
	return out, nil
}
