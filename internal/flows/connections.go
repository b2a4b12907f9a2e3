package flows

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/switchboard-dev/switchboard/connectors"
	"github.com/switchboard-dev/switchboard/internal/store"
	"github.com/switchboard-dev/switchboard/internal/workflow"
)

// CheckConnections reports every action step that needs a connection and has
// none, or names one that does not exist or belongs to another connector.
// Such a document still saves (a draft), but validation reports it and
// activation refuses it: every run would fail at that step.
func (s *Service) CheckConnections(ctx context.Context, doc *workflow.Document) error {
	var errs []*workflow.FieldError
	var walk func(prefix string, steps []workflow.Step) error
	walk = func(prefix string, steps []workflow.Step) error {
		for i := range steps {
			st := &steps[i]
			path := fmt.Sprintf("%s[%d]", prefix, i)
			for j := range st.Paths {
				if err := walk(fmt.Sprintf("%s.paths[%d].steps", path, j), st.Paths[j].Steps); err != nil {
					return err
				}
			}
			if err := walk(path+".steps", st.Steps); err != nil {
				return err
			}
			if st.Type != "action" {
				continue
			}
			msg, err := s.connectionProblem(ctx, st)
			if err != nil {
				return err
			}
			if msg != "" {
				errs = append(errs, &workflow.FieldError{Path: path + ".connection", Step: st.ID, Message: msg})
			}
		}
		return nil
	}
	if err := walk("steps", doc.Steps); err != nil {
		return err
	}
	if len(errs) == 0 {
		return nil
	}
	return &workflow.ValidationError{Errors: errs}
}

func (s *Service) connectionProblem(ctx context.Context, st *workflow.Step) (string, error) {
	connID, _, _ := strings.Cut(st.Action, ".")
	conn, ok := s.reg.Get(connID)
	if !ok {
		return "", nil // Validate already reports an unknown action
	}
	spec := conn.Spec()
	if st.Connection == "" {
		if spec.Auth.Kind == connectors.AuthNone || spec.Auth.Optional {
			return "", nil
		}
		return fmt.Sprintf("step %s (%s) needs a %s connection; choose one in the step", st.ID, st.Action, spec.Name), nil
	}
	c, err := s.st.GetConnectionByName(ctx, st.Connection)
	if errors.Is(err, store.ErrNotFound) {
		return fmt.Sprintf("step %s names the connection %q, and no connection has that name", st.ID, st.Connection), nil
	}
	if err != nil {
		return "", fmt.Errorf("looking up connection %q: %w", st.Connection, err)
	}
	if c.Connector != connID {
		return fmt.Sprintf("step %s names the connection %q, which is for %s, not %s", st.ID, st.Connection, c.Connector, spec.Name), nil
	}
	return "", nil
}
