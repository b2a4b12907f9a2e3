package webhook

import (
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/switchboard-dev/switchboard/internal/store"
)

// ErrBodyCut says a recorded request's body was kept only in part (it was
// larger than the inbox keeps), so it cannot be sent again or used as sample.
var ErrBodyCut = errors.New("the inbox kept only part of this request's body")

// TriggerFromInbound rebuilds, from a request the inbox recorded, the trigger
// data the webhook gave (or would have given) its run: the inbox's "use as
// sample data" and "send it again through the workflow". Headers and query are
// as recorded, credentials already redacted.
func TriggerFromInbound(in *store.InboundRequest) (map[string]any, error) {
	if in.BodySize > len(in.BodyRaw) {
		return nil, fmt.Errorf("%w (%d of %d bytes): %w", ErrBodyCut, len(in.BodyRaw), in.BodySize, store.ErrConflict)
	}
	headers := map[string]any{}
	if len(in.Headers) > 0 {
		if err := json.Unmarshal(in.Headers, &headers); err != nil {
			return nil, fmt.Errorf("reading recorded headers: %w", err)
		}
	}
	query := map[string]any{}
	if len(in.Query) > 0 {
		if err := json.Unmarshal(in.Query, &query); err != nil {
			return nil, fmt.Errorf("reading recorded query: %w", err)
		}
	}
	ct, _ := headers["content-type"].(string)
	body, err := parseBody(ct, in.BodyRaw)
	if err != nil {
		return nil, fmt.Errorf("the recorded body does not parse (%v): %w", err, store.ErrConflict)
	}
	return store.CleanValue(map[string]any{
		"body": body, "raw": rawText(in.BodyRaw), "headers": headers, "query": query,
		"method": in.Method, "received_at": in.ReceivedAt.UTC().Format(time.RFC3339Nano),
	}).(map[string]any), nil
}
