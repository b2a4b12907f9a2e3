package e2e

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/switchboard-dev/switchboard/internal/store/storetest"
	"github.com/switchboard-dev/switchboard/internal/tlsconf/tlstest"
	"github.com/switchboard-dev/switchboard/internal/waitfor"
)

func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// tlsClient trusts ca and presents cert (when not nil); no connection reuse,
// so every request is a new handshake.
func tlsClient(ca *tlstest.CA, cert *tlstest.Pair, t *testing.T) *http.Client {
	pool := x509.NewCertPool()
	pool.AddCert(ca.Cert)
	cfg := &tls.Config{RootCAs: pool}
	if cert != nil {
		cfg.Certificates = []tls.Certificate{cert.TLS(t)}
	}
	// Generous: password hashing on a loaded 2-core machine took over 10 s.
	return &http.Client{Timeout: 60 * time.Second, Transport: &http.Transport{TLSClientConfig: cfg, DisableKeepAlives: true},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

func TestHTTPSServingReloadRedirectAndWebhookClientCertificates(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, dialect string) {
		serverCA := tlstest.NewCA(t, "Server CA")
		dir := t.TempDir()
		certFile, keyFile := filepath.Join(dir, "tls.crt"), filepath.Join(dir, "tls.key")
		writePair := func(p tlstest.Pair) {
			// The key first: the reloader retries a pair that does not match.
			storetest.Must(t, os.WriteFile(keyFile, []byte(p.KeyPEM), 0o600), "key")
			storetest.Must(t, os.WriteFile(certFile, []byte(p.CertPEM), 0o600), "cert")
		}
		writePair(serverCA.Server(t, "first"))
		redirectAddr := freeAddr(t)
		in := newInstance(t, dialect, "SWITCHBOARD_TLS_CERT="+certFile, "SWITCHBOARD_TLS_KEY="+keyFile,
			"SWITCHBOARD_TLS_REDIRECT="+redirectAddr)
		in.https, in.client = true, tlsClient(serverCA, nil, t)
		in.start()

		// The API over HTTPS, with HSTS and Secure cookies.
		resp, err := in.client.Post(in.url("/api/v1/auth/setup"), "application/json",
			strings.NewReader(`{"email":"ada@example.com","password":"correct horse battery","name":"Ada"}`))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 201 || resp.Header.Get("Strict-Transport-Security") != "max-age=31536000" {
			t.Fatalf("setup over HTTPS: %d, HSTS %q", resp.StatusCode, resp.Header.Get("Strict-Transport-Security"))
		}
		cookies := resp.Cookies()
		if len(cookies) == 0 {
			t.Fatal("no session cookie")
		}
		for _, c := range cookies {
			if !c.Secure {
				t.Fatalf("cookie %s is not Secure", c.Name)
			}
		}
		if resp.TLS == nil || resp.TLS.PeerCertificates[0].Subject.CommonName != "first" {
			t.Fatal("not served with the configured certificate")
		}

		// Plain HTTP on the redirect address goes to HTTPS.
		plain := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
		resp, err = plain.Get("http://" + redirectAddr + "/api/v1/auth/status?x=1")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusPermanentRedirect || resp.Header.Get("Location") != in.url("/api/v1/auth/status?x=1") {
			t.Fatalf("redirect: %d %q", resp.StatusCode, resp.Header.Get("Location"))
		}

		// A renewed certificate is served without a restart.
		writePair(serverCA.Server(t, "renewed"))
		waitfor.Until(t, 20*time.Second, "the renewed certificate to be served", func() bool {
			resp, err := in.client.Get(in.url("/healthz"))
			if err != nil {
				return false
			}
			resp.Body.Close()
			return resp.TLS.PeerCertificates[0].Subject.CommonName == "renewed"
		})

		// A webhook that requires a client certificate from the partner's CA
		// with subject CN=acme-sender.
		partnerCA, otherCA := tlstest.NewCA(t, "Partner CA"), tlstest.NewCA(t, "Other CA")
		doc, _ := json.Marshal(map[string]any{"schema": "switchboard/v1", "name": "mTLS hook",
			"trigger": map[string]any{"type": "webhook", "webhook": map[string]any{
				"client_cert": map[string]any{"ca": partnerCA.PEM, "subjects": []string{"CN=acme-sender"}}}},
			"steps": []any{map[string]any{"id": "m", "type": "map", "fields": map[string]any{"x": "1"}}}})
		status, wf, raw := in.postJSONRaw(t, "/api/v1/workflows", string(doc))
		if status != 201 {
			t.Fatalf("create: %d %s", status, raw)
		}
		hook := wf["webhook_url"].(string)
		badDoc := strings.Replace(string(doc), `"ca":"`, `"ca":"not a PEM `, 1)
		if status, _, raw := in.postJSONRaw(t, "/api/v1/workflows", badDoc); status != 422 || !strings.Contains(raw, "trigger.webhook.client_cert.ca") {
			t.Fatalf("a CA that is not PEM: %d %s", status, raw)
		}
		good, wrongCA, wrongName := partnerCA.Client(t, "acme-sender", "Acme"), otherCA.Client(t, "acme-sender", ""), partnerCA.Client(t, "mallory", "")
		for _, tc := range []struct {
			name string
			cert *tlstest.Pair
			want int
		}{{"good", &good, 202}, {"none", nil, 401}, {"wrong CA", &wrongCA, 401}, {"wrong subject", &wrongName, 401}} {
			resp, err := tlsClient(serverCA, tc.cert, t).Post(hook, "application/json", strings.NewReader(`{"n":1}`))
			if err != nil {
				t.Fatalf("%s: %v", tc.name, err)
			}
			resp.Body.Close()
			if resp.StatusCode != tc.want {
				t.Fatalf("%s: %d, want %d", tc.name, resp.StatusCode, tc.want)
			}
		}
		var inbox struct {
			Items []struct {
				Verdict string `json:"verdict"`
				Reason  string `json:"reason"`
			} `json:"items"`
		}
		if in.getJSON(t, "/api/v1/workflows/"+wf["id"].(string)+"/inbox", &inbox) != 200 || len(inbox.Items) != 4 {
			t.Fatalf("inbox %+v", inbox)
		}
		reasons := map[string]string{}
		for _, it := range inbox.Items {
			reasons[it.Verdict] += it.Reason + " | "
		}
		for _, want := range []string{"none was presented", "not trusted by this endpoint's CA", "not in the endpoint's allowed list"} {
			if !strings.Contains(reasons["rejected"], want) {
				t.Errorf("no rejection saying %q in %q", want, reasons["rejected"])
			}
		}
		if _, ok := reasons["accepted"]; !ok || strings.Count(reasons["rejected"], "|") != 3 {
			t.Fatalf("verdicts %v", reasons)
		}
	})
}
