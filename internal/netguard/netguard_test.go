package netguard

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"os"
	"strings"
	"testing"
)

func TestClassifiesSharedAddressTable(t *testing.T) {
	raw, err := os.ReadFile("testdata/ssrf-addresses.json")
	if err != nil {
		t.Fatalf("reading the address table (a copy of shared/testdata/ssrf-addresses.json): %v", err)
	}
	var table struct{ Deny, Allow []string }
	if err := json.Unmarshal(raw, &table); err != nil {
		t.Fatal(err)
	}
	if len(table.Deny) == 0 || len(table.Allow) == 0 {
		t.Fatal("address table is empty")
	}
	var p Policy
	for _, s := range table.Deny {
		if p.Allowed(netip.MustParseAddr(s)) {
			t.Errorf("%s: allowed, want denied", s)
		}
	}
	for _, s := range table.Allow {
		if !p.Allowed(netip.MustParseAddr(s)) {
			t.Errorf("%s: denied, want allowed", s)
		}
	}
}

func TestRefusesNameResolvingToLoopback(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { io.WriteString(w, "secret") }))
	defer srv.Close()
	u, _ := url.Parse(srv.URL)
	c := NewClient(Options{}, nil)
	_, err := c.Get("http://localhost:" + u.Port() + "/")
	if !errors.Is(err, ErrBlocked) {
		t.Fatalf("GET localhost: err = %v, want ErrBlocked", err)
	}
}

func TestAllowListOpensLoopbackOnPurpose(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { io.WriteString(w, "ok") }))
	defer srv.Close()
	p, err := ParseAllowList("127.0.0.1/32, example.internal")
	if err != nil {
		t.Fatal(err)
	}
	resp, err := NewClient(Options{Policy: p}, nil).Get(srv.URL)
	if err != nil {
		t.Fatalf("allowed GET failed: %v", err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if string(b) != "ok" {
		t.Fatalf("body = %q", b)
	}
	if _, err := ParseAllowList("10.0.0.0/99"); err == nil {
		t.Fatal("bad CIDR accepted")
	}
}

func TestRefusesRedirectToMetadataAddress(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "http://169.254.169.254/latest/meta-data/", http.StatusFound)
	}))
	defer srv.Close()
	p, _ := ParseAllowList("127.0.0.1")
	_, err := NewClient(Options{Policy: p}, nil).Get(srv.URL)
	if !errors.Is(err, ErrBlocked) {
		t.Fatalf("redirect to metadata: err = %v, want ErrBlocked", err)
	}
}

func TestResponseStopsAtCap(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		chunk := strings.Repeat("x", 1<<20)
		for i := 0; i < 10; i++ {
			io.WriteString(w, chunk)
		}
	}))
	defer srv.Close()
	p, _ := ParseAllowList("127.0.0.1")
	resp, err := NewClient(Options{Policy: p, MaxBodyBytes: 1 << 20}, nil).Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	n, err := io.Copy(io.Discard, resp.Body)
	if !errors.Is(err, ErrTooLarge) {
		t.Fatalf("err = %v, want ErrTooLarge", err)
	}
	if n != 1<<20 {
		t.Fatalf("read %d bytes, want exactly the cap %d", n, 1<<20)
	}
}

func TestRefusesNonHTTPSchemes(t *testing.T) {
	_, err := NewClient(Options{}, nil).Get("file:///etc/passwd")
	if err == nil {
		t.Fatal("file: URL fetched")
	}
}
