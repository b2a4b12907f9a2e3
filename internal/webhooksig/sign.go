package webhooksig

import (
	"crypto/hmac"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Sign builds the headers a sender attaches so that a receiver with cfg
// accepts body at now: the signature, and the timestamp and id where the
// scheme signs them. secret is the one to sign with (for basic,
// "username:password"); empty means cfg's first secret or user. id is the
// message id, required by standard-webhooks and by an hmac template that
// uses {id}. A token in a query parameter cannot travel in a header, so that
// configuration returns an error.
func Sign(cfg Config, secret string, body []byte, now time.Time, id string) (http.Header, error) {
	cfg.Connection = ""
	switch {
	case cfg.Scheme == SchemeBasic && secret != "":
		user, pass, ok := strings.Cut(secret, ":")
		if !ok {
			return nil, errors.New("basic: secret must be username:password")
		}
		cfg.Users = []BasicUser{{Username: user, Password: pass}}
	case cfg.Scheme == SchemeBasic && len(cfg.Users) > 0:
		cfg.Users = cfg.Users[:1]
	case secret != "":
		cfg.Secrets = []string{secret}
	case len(cfg.Secrets) > 0:
		cfg.Secrets = cfg.Secrets[:1]
	}
	v, err := New(cfg)
	if err != nil {
		return nil, fmt.Errorf("signing: %w", err)
	}
	return v.sign(body, now, id)
}

func (v *Verifier) sign(body []byte, now time.Time, id string) (http.Header, error) {
	c, h := v.cfg, http.Header{}
	ts := strconv.FormatInt(now.Unix(), 10)
	mac := func(ts, id string) []byte {
		m := hmac.New(v.newHash, v.keys[0])
		writeSigned(m, v.tmpl, body, ts, id)
		return m.Sum(nil)
	}
	switch c.Scheme {
	case SchemeNone:
	case SchemeToken:
		if c.Header == "" {
			return nil, fmt.Errorf("token: the token goes in the %q query parameter, not a header", c.Query)
		}
		h.Set(c.Header, c.Prefix+c.Secrets[0])
	case SchemeBasic:
		u := c.Users[0]
		h.Set("Authorization", "Basic "+base64.StdEncoding.EncodeToString([]byte(u.Username+":"+u.Password)))
	case SchemeStandardWebhooks:
		if id == "" {
			return nil, errors.New("standard-webhooks: a message id is required")
		}
		h.Set(HeaderWebhookID, id)
		h.Set(HeaderWebhookTimestamp, ts)
		h.Set(HeaderWebhookSignature, "v1,"+base64.StdEncoding.EncodeToString(mac(ts, id)))
	case SchemeGitHub:
		h.Set(HeaderGitHubSignature, "sha256="+hex.EncodeToString(mac("", "")))
	case SchemeStripe:
		h.Set(HeaderStripeSignature, "t="+ts+",v1="+hex.EncodeToString(mac(ts, "")))
	case SchemeSlack:
		h.Set(HeaderSlackTimestamp, ts)
		h.Set(HeaderSlackSignature, "v0="+hex.EncodeToString(mac(ts, "")))
	case SchemeShopify:
		h.Set(HeaderShopifyHMAC, base64.StdEncoding.EncodeToString(mac("", "")))
	case SchemeHMAC:
		if c.TimestampUnit == "ms" {
			ts = strconv.FormatInt(now.UnixMilli(), 10)
		}
		if c.TimestampHeader == "" {
			ts = ""
		} else {
			h.Set(c.TimestampHeader, ts)
		}
		if c.IDHeader != "" {
			if id == "" {
				return nil, errors.New("hmac: the template signs {id}, so a message id is required")
			}
			h.Set(c.IDHeader, id)
		} else {
			id = ""
		}
		sum := mac(ts, id)
		enc := hex.EncodeToString(sum)
		if c.Encoding == "base64" {
			enc = base64.StdEncoding.EncodeToString(sum)
		}
		h.Set(c.Header, c.Prefix+enc)
	}
	return h, nil
}
