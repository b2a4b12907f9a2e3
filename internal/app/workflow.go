package app

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/switchboard-dev/switchboard/internal/flows"
	"github.com/switchboard-dev/switchboard/internal/workflow"
)

func workflowCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) < 1 || (args[0] != "import" && args[0] != "export") {
		return errors.New("want 'workflow import FILE' or 'workflow export ID'")
	}
	cmd := args[0]
	cfg, rest, err := loadConfig("workflow "+cmd, args[1:], stderr)
	if err != nil {
		return err
	}
	if len(rest) != 1 {
		return fmt.Errorf("workflow %s takes exactly one argument", cmd)
	}
	log := newLogger(cfg, stderr)
	st, err := openStore(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer st.Close()
	ring, err := keyring(cfg, log)
	if err != nil {
		return err
	}
	if err := sealDocuments(ctx, st, ring, log); err != nil {
		return err
	}
	svc := flows.New(st, registry(), cfg.HooksURL)
	if cmd == "export" {
		v, err := svc.Get(ctx, rest[0])
		if err != nil {
			return err
		}
		_, err = fmt.Fprintf(stdout, "%s\n", v.Document)
		return err
	}
	raw, err := os.ReadFile(rest[0])
	if err != nil {
		return fmt.Errorf("reading %s: %w", rest[0], err)
	}
	v, err := svc.Create(ctx, raw, true)
	if ve, ok := workflow.AsValidation(err); ok {
		for _, fe := range ve.Errors {
			fmt.Fprintf(stderr, "  %s\n", fe.Error())
		}
		return fmt.Errorf("%s is not a valid workflow (%d problem(s))", rest[0], len(ve.Errors))
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "imported %q as %s (version %d, active)\n", v.Name, v.ID, v.Version)
	if v.WebhookURL != "" {
		fmt.Fprintf(stdout, "webhook URL: %s\n", v.WebhookURL)
	}
	return nil
}
