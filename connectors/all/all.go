// Package all imports every built-in connector; cmd/switchboard blank-imports
// it, as Caddy's standard modules do.
package all

import (
	"github.com/switchboard-dev/switchboard/connectors"
	"github.com/switchboard-dev/switchboard/connectors/discord"  // discord.post_message
	"github.com/switchboard-dev/switchboard/connectors/email"    // email.send
	"github.com/switchboard-dev/switchboard/connectors/http"     // http.request
	"github.com/switchboard-dev/switchboard/connectors/hubspot"  // hubspot.upsert_contact, add_note, create_deal
	"github.com/switchboard-dev/switchboard/connectors/slack"    // slack.post_message
	"github.com/switchboard-dev/switchboard/connectors/teams"    // teams.post_message
	"github.com/switchboard-dev/switchboard/connectors/telegram" // telegram.send_message
	"github.com/switchboard-dev/switchboard/connectors/webhook"  // webhook.send
)

// Compile-time guards for every built-in, in one place rather than beside each
// init: a changed SDK interface breaks the build here. A new built-in is added
// to the import list and to these lists.
var (
	_ = []connectors.Connector{
		discord.Connector{}, email.Connector{}, http.Connector{}, hubspot.Connector{},
		slack.Connector{}, teams.Connector{}, telegram.Connector{}, webhook.Connector{},
	}
	_ = []connectors.ConnectionTester{
		discord.Connector{}, email.Connector{}, hubspot.Connector{},
		slack.Connector{}, teams.Connector{}, telegram.Connector{},
	}
)
