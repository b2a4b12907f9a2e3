package engine_test

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"

	"github.com/switchboard-dev/switchboard/connectors"
	"github.com/switchboard-dev/switchboard/internal/connections"
	"github.com/switchboard-dev/switchboard/internal/engine"
	"github.com/switchboard-dev/switchboard/internal/netguard"
	"github.com/switchboard-dev/switchboard/internal/secrets"
	"github.com/switchboard-dev/switchboard/internal/store"
	"github.com/switchboard-dev/switchboard/internal/store/storetest"
	"github.com/switchboard-dev/switchboard/internal/tlsconf"
	"github.com/switchboard-dev/switchboard/internal/tlsconf/tlstest"
)

func TestHTTPRequestPresentsTheConnectionsClientCertificate(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, dialect string) {
		ctx := context.Background()
		ca := tlstest.NewCA(t, "Partner CA")
		// A partner API that accepts only clients with a certificate from ca.
		partner := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			_, _ = io.WriteString(w, `{"hello":"`+r.TLS.PeerCertificates[0].Subject.CommonName+`"}`)
		}))
		pool := x509.NewCertPool()
		pool.AddCert(ca.Cert)
		partner.TLS = &tls.Config{ClientAuth: tls.RequireAndVerifyClientCert, ClientCAs: pool,
			Certificates: []tls.Certificate{ca.Server(t, "partner.test").TLS(t)}}
		partner.StartTLS()
		t.Cleanup(partner.Close)

		st := storetest.Open(t, dialect)
		_, err := engine.MigrateQueue(ctx, st)
		storetest.Must(t, err, "queue migrations")
		ring, _, err := secrets.LoadOrCreateFile(filepath.Join(t.TempDir(), "secret.key"))
		storetest.Must(t, err, "keys")
		conns := connections.New(st, connectors.Default, ring)
		client := ca.Client(t, "switchboard-client", "")
		_, err = conns.Create(ctx, connections.Input{Name: "partner", Connector: "http", Fields: map[string]string{
			tlsconf.FieldClientCert: client.CertPEM, tlsconf.FieldClientKey: client.KeyPEM, tlsconf.FieldCA: ca.PEM}})
		storetest.Must(t, err, "connection")
		// Half a pair is refused when saved, not at run time.
		if _, err := conns.Create(ctx, connections.Input{Name: "half", Connector: "http",
			Fields: map[string]string{tlsconf.FieldClientCert: client.CertPEM}}); err == nil {
			t.Fatal("a certificate without its key was saved")
		}
		policy, _ := netguard.ParseAllowList("127.0.0.1")
		b := startEngine(t, st, engine.Options{Queue: engine.QueueOptions{Workers: 2}, Registry: connectors.Default,
			Outbound: netguard.Options{Policy: policy}, Credentials: conns, Logger: slog.New(slog.DiscardHandler)})
		doc := func(connection string) string {
			return `{"schema":"switchboard/v1","name":"mtls","trigger":{"type":"webhook"},"steps":[
			 {"id":"call","type":"action","action":"http.request"` + connection + `,"input":{"method":"GET","url":"` + partner.URL + `/v1/ping"}}]}`
		}

		ok := b.waitFinal(t, b.trigger(t, doc(`,"connection":"partner"`), map[string]any{}))
		if ok.State != store.RunSucceeded {
			t.Fatalf("with the client certificate: %s %s", ok.State, ok.Error)
		}
		out := string(b.steps(t, ok.ID)["call/"].Output)
		if !strings.Contains(out, "switchboard-client") {
			t.Fatalf("the partner did not see our certificate: %s", out)
		}
		// Without the connection there is no certificate (and no trust in
		// the partner's CA): the call fails.
		bad := b.waitFinal(t, b.trigger(t, doc(``), map[string]any{}))
		if bad.State != store.RunFailed || !strings.Contains(bad.Error, "certificate") {
			t.Fatalf("without the certificate: %s %q", bad.State, bad.Error)
		}
	})
}
