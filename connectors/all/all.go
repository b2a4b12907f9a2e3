// Package all imports every built-in connector; cmd/switchboard blank-imports
// it, as Caddy's standard modules do.
package all

import (
	_ "github.com/switchboard-dev/switchboard/connectors/discord"  // discord.post_message
	_ "github.com/switchboard-dev/switchboard/connectors/email"    // email.send
	_ "github.com/switchboard-dev/switchboard/connectors/http"     // http.request
	_ "github.com/switchboard-dev/switchboard/connectors/hubspot"  // hubspot.upsert_contact, add_note, create_deal
	_ "github.com/switchboard-dev/switchboard/connectors/slack"    // slack.post_message
	_ "github.com/switchboard-dev/switchboard/connectors/teams"    // teams.post_message
	_ "github.com/switchboard-dev/switchboard/connectors/telegram" // telegram.send_message
	_ "github.com/switchboard-dev/switchboard/connectors/webhook"  // webhook.send
)
