package schedule

import (
	"context"

	"github.com/switchboard-dev/switchboard/internal/engine"
)

// FromEngine is the Source over the engine's schedules (the engine's
// *Schedules is the Firer as it is); the adapter lives here so the engine
// imports no trigger.
func FromEngine(s *engine.Schedules) Source { return engineSource{s} }

type engineSource struct{ s *engine.Schedules }

func (e engineSource) Schedules(ctx context.Context) ([]Entry, error) {
	list, err := e.s.List(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]Entry, len(list))
	for i, l := range list {
		out[i] = Entry{WorkflowID: l.WorkflowID, Spec: l.Cron, Timezone: l.Timezone, Misfire: l.Misfire, LastFired: l.LastFired}
	}
	return out, nil
}

var _ Firer = (*engine.Schedules)(nil)
