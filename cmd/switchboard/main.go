// Command switchboard is the whole product in one binary.
package main

import (
	"os"
	_ "time/tzdata" // IANA zones for schedules and date helpers, even in minimal images

	_ "github.com/switchboard-dev/switchboard/connectors/all" // built-in connectors
	"github.com/switchboard-dev/switchboard/internal/app"
)

func main() { os.Exit(app.Main(os.Args[1:], os.Stdout, os.Stderr)) }
