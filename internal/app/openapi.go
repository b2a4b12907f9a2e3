package app

import (
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/switchboard-dev/switchboard/internal/api"
)

// openapiCmd prints the API's OpenAPI 3.1 document (the one served at
// /api/openapi.json), e.g. to generate a client.
func openapiCmd(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("switchboard openapi", flag.ContinueOnError)
	fs.SetOutput(stderr)
	publicURL := fs.String("public-url", "http://127.0.0.1:8080", "the server URL the document names")
	out := fs.String("o", "", "write to this file instead of standard output")
	if err := fs.Parse(args); err != nil {
		return err
	}
	doc, err := api.Document(*publicURL)
	if err != nil {
		return err
	}
	doc = append(doc, '\n')
	if *out == "" {
		_, err = stdout.Write(doc)
		return err
	}
	if err := os.WriteFile(*out, doc, 0o644); err != nil {
		return fmt.Errorf("writing the document: %w", err)
	}
	return nil
}
