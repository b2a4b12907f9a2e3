package email

import (
	"context"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net"
	"net/mail"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/switchboard-dev/switchboard/connectors"
	"github.com/switchboard-dev/switchboard/connectors/connectortest"
	"github.com/switchboard-dev/switchboard/internal/netguard"
)

// loopbackDial is the instance policy of these tests: the operator's
// allow list opens 127.0.0.1 and localhost, where the test SMTP server runs.
var loopbackDial = func() func(context.Context, string, string) (net.Conn, error) {
	p, err := netguard.ParseAllowList("127.0.0.1,localhost")
	if err != nil {
		panic(err)
	}
	return netguard.NewDialer(netguard.Options{Policy: p})
}()

var fixedNow = func() time.Time { return time.Date(2024, 5, 1, 12, 30, 0, 0, time.UTC) }

func send(t *testing.T, creds map[string]string, input map[string]any) (map[string]any, error) {
	t.Helper()
	c := Connector{Now: fixedNow}
	a, _ := c.Spec().Action("send")
	if problems := connectors.CheckInput(a, input); len(problems) > 0 {
		return nil, connectors.BadInput(fmt.Errorf("input: %v", problems))
	}
	res, err := c.Execute(context.Background(), connectors.Request{Action: "send", Input: input, Credentials: creds,
		Dial: loopbackDial, IdempotencyKey: "test-key"})
	if err != nil {
		return nil, err
	}
	return res.Output.(map[string]any), nil
}

func TestSpecIsComplete(t *testing.T) {
	connectortest.CheckSpec(t, Connector{})
	for _, f := range (Connector{}).Spec().Auth.Fields {
		if (f.Key == "password") != f.Secret {
			t.Errorf("field %s: secret = %v", f.Key, f.Secret)
		}
		if f.Key == "tls_insecure_skip_verify" {
			t.Error("certificate checks must not be switchable off")
		}
	}
}

func TestSendsMultipartOverSTARTTLSWithAuth(t *testing.T) {
	srv := newSMTPD(t, nil)
	subject := "Commande reçue — №42 ✓"
	text := "Hello Ada,\nyour order is in.\n.\n.a line that starts with a dot\nTrailing space \n" + strings.Repeat("long ", 30)
	html := "<p>Hello <b>Ada</b> — ✓</p>"
	out, err := send(t, srv.creds(), map[string]any{
		"to":       `ada@example.com, "Grace Hopper" <grace@example.com>`,
		"cc":       []any{"ops@example.com"},
		"bcc":      "audit@example.com, ADA@example.com",
		"reply_to": "Support <support@acme.example>",
		"subject":  subject, "text": text, "html": html,
	})
	if err != nil {
		t.Fatal(err)
	}
	s := srv.last(t)
	if !s.StartTLS || !s.TLS || s.AuthMech != "PLAIN" || s.AuthUser != "mailer" || s.EHLO != "switchboard.test" {
		t.Fatalf("session: STARTTLS %v, TLS at MAIL %v, auth %s as %q, EHLO %q", s.StartTLS, s.TLS, s.AuthMech, s.AuthUser, s.EHLO)
	}
	wantRcpts := []string{"ada@example.com", "grace@example.com", "ops@example.com", "audit@example.com"}
	if s.From != "alerts@acme.example" || !reflect.DeepEqual(s.Rcpts, wantRcpts) {
		t.Fatalf("envelope from %q to %v, want %v", s.From, s.Rcpts, wantRcpts)
	}
	if out["message_id"] != "<test-key@acme.example>" || len(out["recipients"].([]any)) != 4 {
		t.Fatalf("output %v", out)
	}

	// Every wire line ends in CRLF and stays within RFC 5322's limits.
	for i, line := range strings.SplitAfter(s.RawData, "\r\n") {
		if strings.Contains(strings.TrimSuffix(line, "\r\n"), "\n") || len(line) > 1000 {
			t.Fatalf("wire line %d is not a CRLF line within 998 octets: %q", i, line)
		}
	}
	if !strings.Contains(s.RawData, "\r\n..a line that starts with a dot") {
		t.Fatal("a body line starting with a dot was not dot-stuffed")
	}
	if strings.Contains(strings.ToLower(s.Data), "audit@") {
		t.Fatal("a Bcc address appears in the message")
	}
	msg, err := mail.ReadMessage(strings.NewReader(s.Data))
	if err != nil {
		t.Fatal(err)
	}
	h := msg.Header
	for k, want := range map[string]string{
		"From": `"Acme Alerts" <alerts@acme.example>`, "To": `<ada@example.com>, "Grace Hopper" <grace@example.com>`,
		"Cc": "<ops@example.com>", "Reply-To": `"Support" <support@acme.example>`, "Message-Id": "<test-key@acme.example>",
		"Mime-Version": "1.0", "Date": "Wed, 01 May 2024 12:30:00 +0000", "Bcc": "",
	} {
		if got := h.Get(k); got != want {
			t.Errorf("%s: %q, want %q", k, got, want)
		}
	}
	if raw := h.Get("Subject"); !strings.HasPrefix(raw, "=?utf-8?q?") {
		t.Errorf("Subject not Q-encoded: %q", raw)
	}
	if got, err := new(mime.WordDecoder).DecodeHeader(h.Get("Subject")); err != nil || got != subject {
		t.Errorf("Subject decodes to %q (%v), want %q", got, err, subject)
	}
	mediaType, params, err := mime.ParseMediaType(h.Get("Content-Type"))
	if err != nil || mediaType != "multipart/alternative" {
		t.Fatalf("Content-Type %q", h.Get("Content-Type"))
	}
	mr := multipart.NewReader(msg.Body, params["boundary"])
	for _, want := range []struct{ mediaType, body string }{{"text/plain; charset=utf-8", text}, {"text/html; charset=utf-8", html}} {
		p, err := mr.NextRawPart()
		if err != nil {
			t.Fatal(err)
		}
		if p.Header.Get("Content-Type") != want.mediaType || p.Header.Get("Content-Transfer-Encoding") != "quoted-printable" {
			t.Fatalf("part headers %v", p.Header)
		}
		body, err := io.ReadAll(quotedprintable.NewReader(p))
		if err != nil {
			t.Fatal(err)
		}
		if got := strings.ReplaceAll(string(body), "\r\n", "\n"); got != want.body {
			t.Fatalf("%s part\n got %q\nwant %q", want.mediaType, got, want.body)
		}
	}
	if _, err := mr.NextRawPart(); err != io.EOF {
		t.Fatalf("more than two parts: %v", err)
	}
}

func TestSendsOverImplicitTLSWithLogin(t *testing.T) {
	srv := newSMTPD(t, func(s *smtpd) { s.implicitTLS, s.mechs = true, "LOGIN" })
	if _, err := send(t, srv.creds(), map[string]any{"to": []any{"ada@example.com"}, "subject": "Plain", "text": "Only text"}); err != nil {
		t.Fatal(err)
	}
	s := srv.last(t)
	if !s.TLS || s.StartTLS || s.AuthMech != "LOGIN" || s.AuthUser != "mailer" {
		t.Fatalf("session %+v", s)
	}
	msg, err := mail.ReadMessage(strings.NewReader(s.Data))
	if err != nil {
		t.Fatal(err)
	}
	if msg.Header.Get("Content-Type") != "text/plain; charset=utf-8" || msg.Header.Get("Content-Transfer-Encoding") != "quoted-printable" ||
		msg.Header.Get("Subject") != "Plain" {
		t.Fatalf("headers %v", msg.Header)
	}
	body, _ := io.ReadAll(quotedprintable.NewReader(msg.Body))
	if strings.TrimRight(string(body), "\r\n") != "Only text" {
		t.Fatalf("body %q", body)
	}
}

func TestRetryKeepsTheMessageID(t *testing.T) {
	srv := newSMTPD(t, nil)
	ids := map[string]int{}
	for _, key := range []string{"sb_0a1b", "sb_0a1b", "sb_ffff"} {
		_, err := Connector{Now: fixedNow}.Execute(context.Background(), connectors.Request{Action: "send", IdempotencyKey: key, Dial: loopbackDial,
			Credentials: srv.creds(), Input: map[string]any{"to": "ada@example.com", "subject": "x", "html": "<p>x</p>"}})
		if err != nil {
			t.Fatal(err)
		}
		msg, _ := mail.ReadMessage(strings.NewReader(srv.last(t).Data))
		ids[msg.Header.Get("Message-Id")]++
	}
	if ids["<sb_0a1b@acme.example>"] != 2 || ids["<sb_ffff@acme.example>"] != 1 {
		t.Fatalf("message ids %v", ids)
	}
}

func TestSMTPRepliesMapToKinds(t *testing.T) {
	cases := []struct {
		name  string
		fail  map[string]string
		pass  string
		kind  connectors.ErrorKind
		quote string
	}{
		{"wrong password", nil, "wrong", connectors.KindPermanent, "535 5.7.8"},
		{"auth refused by policy", map[string]string{"AUTH": "535 5.7.8 Username and Password not accepted"}, "", connectors.KindPermanent, "535"},
		{"sender greylisted", map[string]string{"MAIL": "451 4.7.1 Greylisted, try again in 5 minutes"}, "", connectors.KindRetryable, "451 4.7.1 Greylisted"},
		{"one recipient unknown", map[string]string{"RCPT": "550 5.1.1 <grace@example.com>: Recipient address rejected: User unknown",
			"RCPT_ONLY": "grace@example.com"}, "", connectors.KindPermanent, "RCPT TO grace@example.com"},
		{"mailbox full for now", map[string]string{"RCPT": "452 4.2.2 Mailbox full"}, "", connectors.KindRetryable, "452"},
		{"message deferred", map[string]string{"DATA": "451 4.3.0 Error: queue file write error"}, "", connectors.KindRetryable, "451"},
		{"message refused as spam", map[string]string{"DATA": "554 5.7.1 Message rejected as spam"}, "", connectors.KindPermanent, "554 5.7.1"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			srv := newSMTPD(t, func(s *smtpd) {
				for k, v := range c.fail {
					s.fail[k] = v
				}
			})
			creds := srv.creds()
			if c.pass != "" {
				creds["password"] = c.pass
			}
			_, err := send(t, creds, map[string]any{"to": "ada@example.com, grace@example.com", "subject": "x", "text": "x"})
			if connectors.KindOf(err) != c.kind || !strings.Contains(err.Error(), c.quote) {
				t.Fatalf("err = %v (%s), want %s quoting %q", err, connectors.KindOf(err), c.kind, c.quote)
			}
			if strings.Contains(err.Error(), creds["password"]) {
				t.Fatalf("error %q leaks the password", err)
			}
		})
	}
}

func TestRefusesHeaderInjection(t *testing.T) {
	srv := newSMTPD(t, nil)
	base := func() map[string]any {
		return map[string]any{"to": "ada@example.com", "subject": "Hello", "text": "x"}
	}
	for key, value := range map[string]any{
		"subject":  "Hello\r\nBcc: victim@example.com",
		"to":       "ada@example.com\nBcc: victim@example.com",
		"cc":       []any{"ops@example.com", "x@example.com\r\nX-Injected: 1"},
		"bcc":      "a@example.com\r",
		"reply_to": "a@example.com\r\nSubject: spoofed",
	} {
		in := base()
		in[key] = value
		if _, err := send(t, srv.creds(), in); connectors.KindOf(err) != connectors.KindBadInput || !strings.Contains(err.Error(), key) {
			t.Errorf("%s with a line break: %v", key, err)
		}
	}
	creds := srv.creds()
	creds["from"] = "alerts@acme.example\r\nBcc: victim@example.com"
	if _, err := send(t, creds, base()); connectors.KindOf(err) != connectors.KindBadInput {
		t.Errorf("from with a line break: %v", err)
	}
	if n := srv.accepted.Load(); n != 0 {
		t.Fatalf("%d connections made for refused messages", n)
	}
}

// Only the operator's outbound allow list opens private ranges: a
// connection (which any editor can write) setting allow_private reaches
// nothing, whether the request carries the instance's strict policy or none.
func TestRefusesPrivateAddressUnlessTheInstanceAllowsIt(t *testing.T) {
	srv := newSMTPD(t, nil)
	strict := netguard.NewDialer(netguard.Options{})
	for _, host := range []string{"127.0.0.1", "localhost"} {
		creds := srv.creds()
		creds["allow_private"] = "true"
		creds["host"] = host
		_, err := Connector{}.Execute(context.Background(), connectors.Request{Action: "send", Credentials: creds, Dial: strict,
			Input: map[string]any{"to": "ada@example.com", "subject": "x", "text": "x"}})
		if connectors.KindOf(err) != connectors.KindPermanent || !strings.Contains(err.Error(), "outbound allow list") {
			t.Fatalf("%s: %v", host, err)
		}
		if err := (Connector{}).TestConnection(context.Background(), connectors.Request{Credentials: creds}); connectors.KindOf(err) != connectors.KindPermanent {
			t.Fatalf("%s test connection: %v", host, err)
		}
	}
	if n := srv.accepted.Load(); n != 0 {
		t.Fatalf("%d connections reached a loopback server", n)
	}
}

func TestNeverFallsBackToClearText(t *testing.T) {
	srv := newSMTPD(t, func(s *smtpd) { s.noStartTLS = true })
	_, err := send(t, srv.creds(), map[string]any{"to": "ada@example.com", "subject": "x", "text": "x"})
	if connectors.KindOf(err) != connectors.KindPermanent || !strings.Contains(err.Error(), "STARTTLS") {
		t.Fatalf("err %v", err)
	}
	if s := srv.last(t); s.AuthTried || s.From != "" {
		t.Fatalf("went on in clear text: %+v", s)
	}
}

func TestUntrustedCertificateIsPermanent(t *testing.T) {
	for _, implicit := range []bool{false, true} {
		srv := newSMTPD(t, func(s *smtpd) { s.implicitTLS = implicit })
		creds := srv.creds()
		delete(creds, "ca_pem")
		_, err := send(t, creds, map[string]any{"to": "ada@example.com", "subject": "x", "text": "x"})
		if connectors.KindOf(err) != connectors.KindPermanent || !strings.Contains(err.Error(), "ca_pem") {
			t.Fatalf("implicit TLS %v: %v", implicit, err)
		}
		if s := srv.last(t); s.AuthTried {
			t.Fatal("credentials sent to an unverified server")
		}
	}
}

func TestSecurityNoneIsForLocalRelaysWithoutPasswords(t *testing.T) {
	srv := newSMTPD(t, func(s *smtpd) { s.user, s.mechs = "", "" })
	creds := srv.creds()
	creds["security"] = "none"
	delete(creds, "username")
	delete(creds, "password")
	if _, err := send(t, creds, map[string]any{"to": "ada@example.com", "subject": "Relay", "text": "x"}); err != nil {
		t.Fatal(err)
	}
	if s := srv.last(t); s.TLS || s.From != "alerts@acme.example" || len(s.Rcpts) != 1 {
		t.Fatalf("session %+v", s)
	}
	creds["username"], creds["password"] = "mailer", "s3cret-pa55"
	if _, err := send(t, creds, map[string]any{"to": "ada@example.com", "subject": "x", "text": "x"}); connectors.KindOf(err) != connectors.KindBadInput {
		t.Fatalf("password over clear text: %v", err)
	}
}

func TestConnectionTestLogsInWithoutSending(t *testing.T) {
	srv := newSMTPD(t, nil)
	if err := (Connector{}).TestConnection(context.Background(), connectors.Request{Credentials: srv.creds(), Dial: loopbackDial}); err != nil {
		t.Fatal(err)
	}
	if s := srv.last(t); s.AuthUser != "mailer" || !s.StartTLS || s.From != "" {
		t.Fatalf("session %+v", s)
	}
	// The documented harmless sequence, and nothing that sends mail.
	if got := strings.Join(srv.last(t).Verbs, " "); got != "EHLO STARTTLS EHLO AUTH NOOP QUIT" {
		t.Fatalf("commands = %s, want EHLO STARTTLS EHLO AUTH NOOP QUIT", got)
	}
	creds := srv.creds()
	creds["password"] = "nope"
	if err := (Connector{}).TestConnection(context.Background(), connectors.Request{Credentials: creds, Dial: loopbackDial}); connectors.KindOf(err) != connectors.KindPermanent {
		t.Fatalf("wrong password: %v", err)
	}
}

func TestRefusesBadMessagesAndConnections(t *testing.T) {
	srv := newSMTPD(t, nil)
	for name, in := range map[string]map[string]any{
		"no body":         {"to": "ada@example.com", "subject": "x"},
		"bad address":     {"to": "not an address", "subject": "x", "text": "x"},
		"number as to":    {"to": 42.0, "subject": "x", "text": "x"},
		"empty recipient": {"to": " ", "subject": "x", "text": "x"},
	} {
		if _, err := send(t, srv.creds(), in); connectors.KindOf(err) != connectors.KindBadInput {
			t.Errorf("%s: %v", name, err)
		}
	}
	for name, change := range map[string]map[string]string{
		"no host":  {"host": ""},
		"bad port": {"port": "seventy"},
		"bad mode": {"security": "ssl3"},
		"bad ca":   {"ca_pem": "not a certificate"},
		"no from":  {"from": ""},
	} {
		creds := srv.creds()
		for k, v := range change {
			creds[k] = v
		}
		if _, err := send(t, creds, map[string]any{"to": "ada@example.com", "subject": "x", "text": "x"}); connectors.KindOf(err) != connectors.KindBadInput {
			t.Errorf("%s: %v", name, err)
		}
	}
	if n := srv.accepted.Load(); n != 0 {
		t.Fatalf("%d connections made for refused input", n)
	}
}

func TestFoldKeepsHeaderLinesShort(t *testing.T) {
	line := "Subject: " + mime.QEncoding.Encode("utf-8", strings.Repeat("Grüße aus Köln ", 12))
	folded := fold(line)
	for _, l := range strings.Split(strings.TrimSuffix(folded, "\r\n"), "\r\n") {
		if len(l) > 78 {
			t.Fatalf("line of %d: %q", len(l), l)
		}
	}
	if strings.ReplaceAll(folded, "\r\n", "") != line {
		t.Fatal("unfolding does not give the header back")
	}
}

func TestSilentServerGivesUpWhenTheStepTimesOut(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			defer conn.Close() // accept, then say nothing
		}
	}()
	_, port, _ := net.SplitHostPort(ln.Addr().String())
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err = Connector{}.Execute(ctx, connectors.Request{Action: "send", IdempotencyKey: "k", Dial: loopbackDial,
		Credentials: map[string]string{"host": "127.0.0.1", "port": port, "from": "a@acme.example"},
		Input:       map[string]any{"to": "ada@example.com", "subject": "x", "text": "x"}})
	if connectors.KindOf(err) != connectors.KindRetryable || time.Since(start) > 5*time.Second {
		t.Fatalf("err %v after %s", err, time.Since(start))
	}
}
