// Package builtin holds the declarative connectors shipped with Switchboard
// (Pipedrive), embedded and registered on connectors.Default like the Go
// ones; a broken file stops the binary at start. Their inline tests run with
// this package's tests. internal/app imports it.
package builtin

import (
	"embed"
	"io/fs"

	"github.com/switchboard-dev/switchboard/connectors"
	"github.com/switchboard-dev/switchboard/connectors/declarative"
)

//go:embed *.yaml
var files embed.FS

// Files are the embedded connector files (pipedrive.yaml…).
func Files() fs.FS { return files }

// Connectors parses every embedded file.
func Connectors() ([]*declarative.Connector, error) {
	entries, err := fs.ReadDir(files, ".")
	if err != nil {
		return nil, err
	}
	var out []*declarative.Connector
	for _, e := range entries {
		data, err := fs.ReadFile(files, e.Name())
		if err != nil {
			return nil, err
		}
		c, err := declarative.Parse(e.Name(), data)
		if err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, nil
}

func init() {
	cs, err := Connectors()
	if err != nil {
		panic(err)
	}
	for _, c := range cs {
		connectors.Register(c)
	}
}
