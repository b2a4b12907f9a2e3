package store

import "context"

// GetWorkflowWithCurrent returns a workflow and its current version: what
// editing, duplicating, replaying on the current version and manual runs
// all start from.
func (s *Store) GetWorkflowWithCurrent(ctx context.Context, id string) (*Workflow, *WorkflowVersion, error) {
	w, err := s.GetWorkflow(ctx, id)
	if err != nil {
		return nil, nil, err
	}
	v, err := s.GetCurrentVersion(ctx, w)
	if err != nil {
		return nil, nil, err
	}
	return w, v, nil
}
