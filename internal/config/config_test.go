package config

import (
	"flag"
	"io"
	"strings"
	"testing"
	"time"
)

func load(t *testing.T, env map[string]string, args ...string) (Config, error) {
	t.Helper()
	fs := flag.NewFlagSet("test", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	c, _, err := Load(fs, args, func(k string) string { return env[k] })
	if err != nil {
		return c, err
	}
	return c, c.Validate()
}

func TestFlagsOverrideEnvironmentOverrideDefaults(t *testing.T) {
	c, err := load(t, map[string]string{"SWITCHBOARD_ADDR": "127.0.0.1:9000", "SWITCHBOARD_WORKERS": "4",
		"DATABASE_URL": "postgres://u:pw@h/db"}, "--workers", "8")
	if err != nil {
		t.Fatal(err)
	}
	if c.Addr != "127.0.0.1:9000" || c.Workers != 8 || c.DatabaseURL != "postgres://u:pw@h/db" {
		t.Fatalf("config = %+v", c)
	}
	if c.PublicURL != "http://127.0.0.1:9000" || c.HooksURL != c.PublicURL || c.RescueAfter != c.JobTimeout+time.Minute {
		t.Fatalf("derived settings = %q, %q, %s", c.PublicURL, c.HooksURL, c.RescueAfter)
	}
	c, err = load(t, map[string]string{"SWITCHBOARD_HOOKS_URL": "https://hooks.example.com/"}, "--public-url", "https://app.example.com")
	if err != nil || c.HooksURL != "https://hooks.example.com" || c.PublicURL != "https://app.example.com" {
		t.Fatalf("hooks-url: %q %q %v", c.HooksURL, c.PublicURL, err)
	}
	if _, err := load(t, nil, "--hooks-url", "ftp://x/y"); err == nil || !strings.Contains(err.Error(), "hooks-url") {
		t.Fatalf("a bad hooks-url: %v", err)
	}
}

func TestValidateNamesEveryBadSetting(t *testing.T) {
	_, err := load(t, map[string]string{"SWITCHBOARD_ROLE": "boss"}, "--addr", "nope", "--max-body", "99999999999", "--outbound-allow", "10.0.0.0/99")
	if err == nil {
		t.Fatal("bad settings accepted")
	}
	for _, want := range []string{"addr \"nope\"", "role \"boss\"", "max-body", "outbound-allow"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not mention %s", err, want)
		}
	}
	if _, err := load(t, map[string]string{"SWITCHBOARD_WORKERS": "many"}); err == nil || !strings.Contains(err.Error(), "SWITCHBOARD_WORKERS") {
		t.Fatalf("bad env: err = %v", err)
	}
}

func TestCommaSeparatedSettingsSkipBlankItems(t *testing.T) {
	c := Config{TrustedProxies: " 10.1.2.3/8, ,192.168.1.5,", EventsRetry: "5s, ,1m,"}
	ps, err := c.TrustedProxyPrefixes()
	if err != nil {
		t.Fatal(err)
	}
	if len(ps) != 2 || ps[0].String() != "10.0.0.0/8" || ps[1].String() != "192.168.1.5/32" {
		t.Errorf("trusted proxies %v, want [10.0.0.0/8 192.168.1.5/32]", ps)
	}
	ds, err := c.EventsRetrySchedule()
	if err != nil {
		t.Fatal(err)
	}
	if len(ds) != 2 || ds[0] != 5*time.Second || ds[1] != time.Minute {
		t.Errorf("retry schedule %v, want [5s 1m]", ds)
	}
	if _, err := (Config{TrustedProxies: "10.0.0.1, nope"}).TrustedProxyPrefixes(); err == nil || !strings.Contains(err.Error(), `"nope"`) {
		t.Errorf("a bad proxy entry: err %v, want one naming it", err)
	}
	if _, err := (Config{EventsRetry: "5s,0s"}).EventsRetrySchedule(); err == nil || !strings.Contains(err.Error(), `"0s"`) {
		t.Errorf("a zero retry delay: err %v, want one naming it", err)
	}
}
