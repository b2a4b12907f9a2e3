package engine

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/switchboard-dev/switchboard/internal/store"
)

// RetentionKey is the instance setting that overrides the configured
// retention while the instance runs (the admin area changes it).
const RetentionKey = "retention"

// RetentionSetting is the stored form of the retention setting.
type RetentionSetting struct {
	MaxAge  string `json:"max_age" description:"how long run history is kept, as a Go duration (720h); 0 keeps it forever"`
	MaxRuns int    `json:"max_runs" minimum:"0" description:"newest runs kept per workflow (0: no limit)"`
}

// Check parses the setting; the error names the bad field.
func (r RetentionSetting) Check() (Retention, map[string]string) {
	problems := map[string]string{}
	var out Retention
	d, err := time.ParseDuration(r.MaxAge)
	switch {
	case r.MaxAge == "0":
		d, err = 0, nil
	case err != nil:
		problems["max_age"] = "must be a duration such as 720h or 30m (0 keeps history forever)"
	case d < 0 || (d > 0 && d < time.Minute):
		problems["max_age"] = "must be 0 or at least 1m"
	}
	out.MaxAge = d
	if r.MaxRuns < 0 {
		problems["max_runs"] = "must be 0 (no limit) or more"
	}
	out.MaxRuns = r.MaxRuns
	if len(problems) > 0 {
		return Retention{}, problems
	}
	return out, nil
}

// LoadRetention returns the retention in force: the stored setting when an
// admin saved one, else def (the configuration). set says which.
func LoadRetention(ctx context.Context, st *store.Store, def Retention) (r Retention, set bool, err error) {
	s, err := st.GetSetting(ctx, RetentionKey)
	if errors.Is(err, store.ErrNotFound) {
		return def, false, nil
	}
	if err != nil {
		return def, false, err
	}
	var rs RetentionSetting
	if err := json.Unmarshal(s.Value, &rs); err != nil {
		return def, false, fmt.Errorf("reading the retention setting: %w", err)
	}
	r, problems := rs.Check()
	if problems != nil {
		return def, false, fmt.Errorf("the stored retention setting is invalid: %v", problems)
	}
	r.Interval = def.Interval
	return r, true, nil
}
