package tlsconf_test

import (
	"crypto/tls"
	"crypto/x509"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/switchboard-dev/switchboard/internal/tlsconf"
	"github.com/switchboard-dev/switchboard/internal/tlsconf/tlstest"
	"github.com/switchboard-dev/switchboard/internal/waitfor"
)

func leaf(t *testing.T, c *tls.Certificate) *x509.Certificate {
	t.Helper()
	x, err := x509.ParseCertificate(c.Certificate[0])
	if err != nil {
		t.Fatal(err)
	}
	return x
}

func TestReloaderPicksUpANewCertificateWithoutRestart(t *testing.T) {
	dir := t.TempDir()
	certFile, keyFile := filepath.Join(dir, "tls.crt"), filepath.Join(dir, "tls.key")
	write := func(p tlstest.Pair) {
		if err := os.WriteFile(certFile, []byte(p.CertPEM), 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(keyFile, []byte(p.KeyPEM), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	ca := tlstest.NewCA(t, "Test CA")
	write(ca.Server(t, "first"))
	// The log says when a changed file was looked at (all calls below run
	// on this goroutine, so the buffer needs no lock).
	var logs strings.Builder
	r, err := tlsconf.NewReloader(certFile, keyFile, slog.New(slog.NewTextHandler(&logs, nil)))
	if err != nil {
		t.Fatal(err)
	}
	c, _ := r.GetCertificate(nil)
	if leaf(t, c).Subject.CommonName != "first" {
		t.Fatalf("served %s", leaf(t, c).Subject)
	}
	write(ca.Server(t, "second"))
	// Files are looked at once a second at most: wait for the new one.
	waitfor.Until(t, 10*time.Second, "the renewed certificate to be served", func() bool {
		c, _ = r.GetCertificate(nil)
		return leaf(t, c).Subject.CommonName == "second"
	})
	// A broken renewal keeps the working certificate: wait until the
	// reloader has read the broken file, then look at what it serves. (A
	// half-written pair above may have logged the same already.)
	logs.Reset()
	if err := os.WriteFile(certFile, []byte("garbage"), 0o600); err != nil {
		t.Fatal(err)
	}
	waitfor.Until(t, 10*time.Second, "the broken renewal to be read", func() bool {
		c, _ = r.GetCertificate(nil)
		return strings.Contains(logs.String(), "does not load")
	})
	if leaf(t, c).Subject.CommonName != "second" {
		t.Fatalf("after a broken renewal: %s", leaf(t, c).Subject)
	}
}

func TestCheckClient(t *testing.T) {
	ca, other := tlstest.NewCA(t, "Partner CA"), tlstest.NewCA(t, "Other CA")
	parse := func(p tlstest.Pair) []*x509.Certificate {
		c := p.TLS(t)
		return []*x509.Certificate{leaf(t, &c)}
	}
	good := parse(ca.Client(t, "acme-sender", "Acme"))
	now := time.Now()
	for _, tc := range []struct {
		name     string
		peer     []*x509.Certificate
		subjects []string
		want     string
	}{
		{"good, by CN", good, []string{"CN=acme-sender"}, ""},
		{"good, by whole subject", good, []string{"CN=acme-sender,O=Acme"}, ""},
		{"good, no subject list", good, nil, ""},
		{"none", nil, nil, "none was presented"},
		{"wrong CA", parse(other.Client(t, "acme-sender", "Acme")), nil, "not trusted"},
		{"wrong subject", parse(ca.Client(t, "mallory", "")), []string{"CN=acme-sender"}, "not in the endpoint's allowed list"},
		{"server certificate", parse(ca.Server(t, "acme-sender")), nil, "not trusted"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := tlsconf.CheckClient(tc.peer, ca.PEM, tc.subjects, now)
			if tc.want == "" && err != nil {
				t.Fatalf("refused: %v", err)
			}
			if tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)) {
				t.Fatalf("err %v, want %q", err, tc.want)
			}
		})
	}
}

func TestClientConfigNeedsCertAndKeyTogether(t *testing.T) {
	ca := tlstest.NewCA(t, "CA")
	p := ca.Client(t, "me", "")
	if _, err := tlsconf.ClientConfig(p.CertPEM, "", ""); err == nil {
		t.Fatal("a certificate without its key was accepted")
	}
	if _, err := tlsconf.ClientConfig("", "", "not pem"); err == nil {
		t.Fatal("a CA that is not PEM was accepted")
	}
	cfg, err := tlsconf.ClientConfig(p.CertPEM, p.KeyPEM, ca.PEM)
	if err != nil || len(cfg.Certificates) != 1 || cfg.RootCAs == nil {
		t.Fatalf("config %+v, %v", cfg, err)
	}
	if _, ok, err := tlsconf.FromCredentials(map[string]string{"bearer_token": "x"}); ok || err != nil {
		t.Fatal("a connection without TLS fields got a TLS configuration")
	}
}
