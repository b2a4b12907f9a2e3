// Command orders is the worked example of a Switchboard WebAssembly plugin:
// one action that pages through a list API whose requests must carry an
// HMAC-SHA256 signature. Build it with the standard Go toolchain:
//
//	GOOS=wasip1 GOARCH=wasm go build -buildmode=c-shared -o orders.wasm ./examples/plugins/orders
//
// (or 'make plugins'), then upload orders.wasm as an admin:
//
//	curl -H 'Authorization: Bearer sbk_…' -H 'Content-Type: application/wasm' \
//	     --data-binary @orders.wasm http://127.0.0.1:8080/api/v1/connectors
package main

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"

	"github.com/switchboard-dev/switchboard/connectors/wasm/sdk"
)

func init() {
	sdk.Register(sdk.Spec{
		ID: "acme_orders", Name: "Acme Orders (plugin)", Icon: "package", Version: "1.0.0",
		Description: "Lists orders from an Acme shop API, page by page, with HMAC-signed requests.",
		Auth: sdk.Auth{Kind: "token", Fields: []sdk.Field{
			{Key: "api_token", Label: "API token", Type: "string", Required: true, Secret: true,
				Help: "Sent as a bearer token; the host adds it, the plugin never sees it in a header"},
			{Key: "signing_secret", Label: "Signing secret", Type: "string", Required: true, Secret: true,
				Help: "Signs every request (X-Acme-Signature: hex HMAC-SHA256 of method, path and timestamp)"},
		}},
		Actions: []sdk.Action{{
			ID: "list_orders", Name: "List orders",
			Description: "Fetches every page of orders (up to a limit) and returns them as one list.",
			Input: []sdk.Field{
				{Key: "base_url", Label: "API base URL", Type: "string", Required: true, Help: "e.g. https://shop.example/api"},
				{Key: "status", Label: "Status", Type: "select", Default: "open", Options: []sdk.Option{
					{Value: "open", Label: "Open"}, {Value: "shipped", Label: "Shipped"}, {Value: "any", Label: "Any"}}},
				{Key: "max_pages", Label: "At most this many pages", Type: "number", Default: 10},
			},
			SampleOutput: map[string]any{"count": 2, "pages": 1, "orders": []any{map[string]any{"id": "o-1", "total": 12.5}}},
			Run:          listOrders,
		}},
	})
}

// main is never called: the host initialises the plugin as a reactor
// (-buildmode=c-shared) and calls its exports.
func main() {}

type page struct {
	Orders   []map[string]any `json:"orders"`
	NextPage int              `json:"next_page"` // 0: last page
}

func listOrders(c *sdk.Call) (any, error) {
	base, err := url.Parse(c.String("base_url"))
	if err != nil || base.Host == "" {
		return nil, sdk.BadInput(fmt.Errorf("base_url %q is not an absolute URL", c.String("base_url")))
	}
	secret := c.Secrets["signing_secret"]
	if secret == "" {
		return nil, sdk.BadInput(errors.New("the connection has no signing secret"))
	}
	status := c.String("status")
	if status == "" {
		status = "open"
	}
	maxPages := int(c.Number("max_pages"))
	if maxPages <= 0 {
		maxPages = 10
	}
	var all []map[string]any
	pages := 0
	for p := 1; p != 0 && pages < maxPages; pages++ {
		u := base.JoinPath("orders")
		if !strings.HasPrefix(u.Path, "/") { // a base URL without a path
			u.Path = "/" + u.Path
		}
		u.RawQuery = url.Values{"page": {strconv.Itoa(p)}, "status": {status}}.Encode()
		ts := strconv.FormatInt(sdk.Now().Unix(), 10)
		resp, err := sdk.Do(sdk.Request{Method: "GET", URL: u.String(), Auth: true, Headers: map[string][]string{
			"X-Acme-Timestamp": {ts},
			"X-Acme-Signature": {sign(secret, "GET", u.RequestURI(), ts)},
			"Accept":           {"application/json"},
		}})
		if err != nil {
			return nil, err
		}
		if err := sdk.ForStatus(resp); err != nil {
			return nil, err
		}
		var pg page
		if err := resp.JSON(&pg); err != nil {
			return nil, sdk.Permanent(err)
		}
		all = append(all, pg.Orders...)
		sdk.Log(sdk.LevelDebug, "fetched a page", "page", p, "orders", len(pg.Orders))
		p = pg.NextPage
	}
	return map[string]any{"orders": all, "count": len(all), "pages": pages}, nil
}

// sign is the Acme scheme: hex(HMAC-SHA256(secret, METHOD "\n" request-URI "\n" timestamp)).
func sign(secret, method, uri, ts string) string {
	m := hmac.New(sha256.New, []byte(secret))
	fmt.Fprintf(m, "%s\n%s\n%s", method, uri, ts)
	return hex.EncodeToString(m.Sum(nil))
}
