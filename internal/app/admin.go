package app

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/switchboard-dev/switchboard/internal/auth"
	"github.com/switchboard-dev/switchboard/internal/config"
)

// adminCmd: `switchboard admin create --email E [--name N]`, password from
// SWITCHBOARD_ADMIN_PASSWORD or the first line of standard input. Whoever
// can run the binary against the database owns the instance anyway.
func adminCmd(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] != "create" {
		return errors.New("want 'admin create --email E [--name N]'")
	}
	fs := flag.NewFlagSet("switchboard admin create", flag.ContinueOnError)
	fs.SetOutput(stderr)
	email := fs.String("email", "", "the admin's e-mail address")
	name := fs.String("name", "", "display name")
	cfg, rest, err := config.Load(fs, args[1:], os.Getenv)
	if err != nil {
		return err
	}
	if len(rest) > 0 {
		return fmt.Errorf("unexpected arguments: %v", rest)
	}
	if err := cfg.Validate(); err != nil {
		return fmt.Errorf("invalid configuration:\n%w", err)
	}
	password := os.Getenv("SWITCHBOARD_ADMIN_PASSWORD")
	if password == "" {
		fmt.Fprint(stderr, "password (at least 10 characters): ")
		line, err := bufio.NewReader(stdin).ReadString('\n')
		if err != nil && line == "" {
			return errors.New("no password given (set SWITCHBOARD_ADMIN_PASSWORD or type it)")
		}
		password = strings.TrimRight(line, "\r\n")
	}
	st, err := openStore(ctx, cfg, newLogger(cfg, stderr))
	if err != nil {
		return err
	}
	defer st.Close()
	svc := auth.New(st, auth.Options{})
	u, err := svc.CreateUser(ctx, auth.UserInput{Email: *email, Name: *name, Password: password, Role: auth.RoleAdmin})
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "created admin %s (%s)\n", u.Email, u.ID)
	return nil
}

// apiKeyCmd: `switchboard api-key create NAME [--role admin|editor|viewer]`
// prints a new key once.
func apiKeyCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] != "create" {
		return errors.New("want 'api-key create [--key-role R] NAME'")
	}
	fs := flag.NewFlagSet("switchboard api-key create", flag.ContinueOnError)
	fs.SetOutput(stderr)
	role := fs.String("key-role", auth.RoleAdmin, "the key's role: admin, editor or viewer")
	cfg, rest, err := config.Load(fs, args[1:], os.Getenv)
	if err != nil {
		return err
	}
	if len(rest) != 1 {
		return errors.New("api-key create takes exactly one NAME (flags before it)")
	}
	if err := cfg.Validate(); err != nil {
		return fmt.Errorf("invalid configuration:\n%w", err)
	}
	st, err := openStore(ctx, cfg, newLogger(cfg, stderr))
	if err != nil {
		return err
	}
	defer st.Close()
	k, secret, err := auth.New(st, auth.Options{}).NewAPIKey(ctx, rest[0], *role, "command line")
	if err != nil {
		return err
	}
	fmt.Fprintf(stderr, "created API key %q (%s, role %s); it is shown only once:\n", k.Name, k.ID, k.Role)
	fmt.Fprintln(stdout, secret)
	return nil
}
