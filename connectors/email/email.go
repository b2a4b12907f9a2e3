// Package email sends e-mail over SMTP (STARTTLS or implicit TLS, with
// AUTH PLAIN or LOGIN) using only the standard library.
//
// SMTP does not go through the instance's guarded HTTP client: the
// connector dials through the request's Dial, which applies the instance's
// network policy after DNS resolution, so private, loopback and other
// internal addresses are reachable only when the operator's outbound allow
// list (SWITCHBOARD_OUTBOUND_ALLOW) opens them. No connection field can.
package email

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"fmt"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net"
	"net/mail"
	"net/smtp"
	"net/textproto"
	"strconv"
	"strings"
	"time"

	"github.com/switchboard-dev/switchboard/connectors"
	"github.com/switchboard-dev/switchboard/internal/netguard"
)

func init() { connectors.Register(Connector{}) }

// Connector implements email.send.
type Connector struct {
	// Now is the clock for the Date header (tests); nil means time.Now.
	Now func() time.Time
}

const (
	securitySTARTTLS = "starttls"
	securityTLS      = "tls"
	securityNone     = "none"

	// sessionTimeout bounds a whole SMTP session when the step sets none.
	sessionTimeout = 2 * time.Minute
	dialTimeout    = 30 * time.Second
)

// Spec describes the connector.
func (Connector) Spec() connectors.Spec {
	return connectors.Spec{
		ID: "email", Name: "E-mail (SMTP)", Icon: "mail", Version: "1.0.0",
		Description: "Send e-mail through an SMTP server, with plain-text and HTML bodies.",
		Auth: connectors.AuthSpec{Kind: connectors.AuthCustom, Fields: []connectors.Field{
			{Key: "host", Label: "SMTP host", Type: connectors.TypeString, Required: true, Help: "e.g. smtp.example.com"},
			{Key: "port", Label: "Port", Type: connectors.TypeNumber, Help: "Default 587 for STARTTLS, 465 for TLS, 25 for none"},
			{Key: "security", Label: "Security", Type: connectors.TypeSelect, Default: securitySTARTTLS, Options: []connectors.Option{
				{Value: securitySTARTTLS, Label: "STARTTLS (port 587)"},
				{Value: securityTLS, Label: "TLS (implicit, port 465)"},
				{Value: securityNone, Label: "None (local relay only; no password allowed)"},
			}},
			{Key: "username", Label: "Username", Type: connectors.TypeString, Help: "Leave empty for a relay that needs no login"},
			{Key: "password", Label: "Password", Type: connectors.TypeString, Secret: true},
			{Key: "from", Label: "From", Type: connectors.TypeString, Required: true, Help: "Sender, e.g. Acme <alerts@acme.example>"},
			{Key: "ca_pem", Label: "Private CA certificate", Type: connectors.TypeText,
				Help: "PEM certificate(s) to trust besides the system roots, for a server with a private CA. Certificates are always verified."},
			{Key: "helo_name", Label: "EHLO name", Type: connectors.TypeString, Help: "Name this instance gives in EHLO; default localhost"},
		}, Test: "Connects to the SMTP server, says EHLO, starts TLS and logs in as configured, then sends NOOP and QUIT; no message is sent."},
		Actions: []connectors.ActionSpec{{
			ID: "send", Name: "Send an e-mail",
			Input: []connectors.Field{
				{Key: "to", Label: "To", Type: connectors.TypeAny, Required: true, Help: "Addresses: a list, or separated by commas"},
				{Key: "cc", Label: "Cc", Type: connectors.TypeAny, Help: "A list, or separated by commas"},
				{Key: "bcc", Label: "Bcc", Type: connectors.TypeAny, Help: "Receive the message without being listed in it"},
				{Key: "reply_to", Label: "Reply-To", Type: connectors.TypeString},
				{Key: "subject", Label: "Subject", Type: connectors.TypeString, Required: true},
				{Key: "text", Label: "Plain-text body", Type: connectors.TypeText},
				{Key: "html", Label: "HTML body", Type: connectors.TypeText, Help: "With a plain-text body too, both are sent as alternatives"},
			},
			SampleOutput: map[string]any{"message_id": "<sb_0123abcd@acme.example>", "from": "alerts@acme.example",
				"recipients": []any{"ada@example.com", "ops@example.com"}},
		}},
	}
}

// Execute sends the message.
func (c Connector) Execute(ctx context.Context, req connectors.Request) (connectors.Result, error) {
	if req.Action != "send" {
		return connectors.Result{}, connectors.BadInput(fmt.Errorf("unknown action %q", req.Action))
	}
	cfg, err := parseConfig(req.Credentials)
	if err != nil {
		return connectors.Result{}, err
	}
	// Everything about the message is checked before anything is dialled.
	msg, err := c.build(req.Input, cfg.from, req.IdempotencyKey)
	if err != nil {
		return connectors.Result{}, err
	}
	client, done, err := open(ctx, cfg, req.Dial)
	if err != nil {
		return connectors.Result{}, err
	}
	defer done()
	if err := client.Mail(cfg.from.Address); err != nil {
		return connectors.Result{}, cfg.replyError("MAIL FROM", err)
	}
	for _, rcpt := range msg.recipients {
		if err := client.Rcpt(rcpt); err != nil {
			return connectors.Result{}, cfg.replyError("RCPT TO "+rcpt, err)
		}
	}
	w, err := client.Data()
	if err != nil {
		return connectors.Result{}, cfg.replyError("DATA", err)
	}
	if _, err := w.Write(msg.data); err != nil {
		return connectors.Result{}, cfg.replyError("DATA", err)
	}
	if err := w.Close(); err != nil {
		return connectors.Result{}, cfg.replyError("the message", err)
	}
	// The server has taken the message; a failed QUIT changes nothing.
	_ = client.Quit()
	rcpts := make([]any, len(msg.recipients))
	for i, r := range msg.recipients {
		rcpts[i] = r
	}
	return connectors.Result{Output: map[string]any{"message_id": msg.id, "from": cfg.from.Address, "recipients": rcpts}}, nil
}

// TestConnection connects, secures the session and logs in, then quits
// without sending anything.
func (Connector) TestConnection(ctx context.Context, req connectors.Request) error {
	cfg, err := parseConfig(req.Credentials)
	if err != nil {
		return err
	}
	client, done, err := open(ctx, cfg, req.Dial)
	if err != nil {
		return err
	}
	defer done()
	if err := client.Noop(); err != nil {
		return cfg.replyError("NOOP", err)
	}
	if err := client.Quit(); err != nil {
		return cfg.replyError("QUIT", err)
	}
	return nil
}

// config is a parsed connection.
type config struct {
	host, addr string
	security   string
	username   string
	password   string
	helo       string
	from       *mail.Address
	tls        *tls.Config
}

func parseConfig(creds map[string]string) (*config, error) {
	bad := func(format string, args ...any) (*config, error) {
		return nil, connectors.BadInput(fmt.Errorf("e-mail connection: "+format, args...))
	}
	cfg := &config{
		host:     strings.TrimSpace(creds["host"]),
		security: strings.ToLower(strings.TrimSpace(creds["security"])),
		username: creds["username"],
		password: creds["password"],
		helo:     strings.TrimSpace(creds["helo_name"]),
	}
	if cfg.host == "" {
		return bad("host is required")
	}
	for k, v := range map[string]string{"host": cfg.host, "username": cfg.username, "password": cfg.password, "helo_name": cfg.helo} {
		if strings.ContainsAny(v, "\r\n\x00") {
			return bad("%s holds a line break", k)
		}
	}
	if cfg.helo == "" {
		cfg.helo = "localhost"
	}
	if cfg.security == "" {
		cfg.security = securitySTARTTLS
	}
	port := 0
	switch cfg.security {
	case securitySTARTTLS:
		port = 587
	case securityTLS:
		port = 465
	case securityNone:
		port = 25
		if cfg.username != "" || cfg.password != "" {
			return bad("security none sends everything in clear text, so it cannot carry a username or password; use starttls or tls")
		}
	default:
		return bad("security %q: want starttls, tls or none", cfg.security)
	}
	if p := strings.TrimSpace(creds["port"]); p != "" {
		n, err := strconv.Atoi(strings.TrimSuffix(p, ".0"))
		if err != nil || n < 1 || n > 65535 {
			return bad("port %q: want a number from 1 to 65535", p)
		}
		port = n
	}
	cfg.addr = net.JoinHostPort(cfg.host, strconv.Itoa(port))
	from := strings.TrimSpace(creds["from"])
	if from == "" {
		return bad("from is required")
	}
	if strings.ContainsAny(from, "\r\n") {
		return bad("from holds a line break")
	}
	addr, err := mail.ParseAddress(from)
	if err != nil {
		return bad("from %q: %v", from, err)
	}
	cfg.from = addr
	// allow_private (a field of earlier versions) is ignored: only the
	// operator's outbound allow list opens private ranges.
	roots, err := x509.SystemCertPool()
	if err != nil || roots == nil {
		roots = x509.NewCertPool()
	}
	if pemText := strings.TrimSpace(creds["ca_pem"]); pemText != "" {
		if !roots.AppendCertsFromPEM([]byte(pemText)) {
			return bad("ca_pem holds no PEM certificate")
		}
	}
	cfg.tls = &tls.Config{ServerName: cfg.host, RootCAs: roots, MinVersion: tls.VersionTLS12}
	return cfg, nil
}

// errPrivate is why a dial was refused; it is not netguard.ErrBlocked, whose
// remedy (the instance's outbound allow list) does not apply to SMTP.
var errPrivate = errors.New("the SMTP host resolves to a private, loopback or other internal address; for an internal relay the operator adds it to the instance's outbound allow list (SWITCHBOARD_OUTBOUND_ALLOW)")

// open dials, secures and authenticates a session. done closes it.
func open(ctx context.Context, cfg *config, dial func(ctx context.Context, network, addr string) (net.Conn, error)) (*smtp.Client, func(), error) {
	if dial == nil {
		// No instance policy given: public addresses only, checked on the
		// resolved address inside the dialer (DNS rebinding included).
		dial = netguard.NewDialer(netguard.Options{ConnectTimeout: dialTimeout})
	}
	dctx, cancel := context.WithTimeout(ctx, dialTimeout)
	conn, err := dial(dctx, "tcp", cfg.addr)
	cancel()
	if err != nil {
		if errors.Is(err, netguard.ErrBlocked) {
			return nil, nil, connectors.Permanent(fmt.Errorf("%s: %w", cfg.host, errPrivate))
		}
		return nil, nil, connectors.Retryable(fmt.Errorf("connecting to SMTP server %s: %w", cfg.addr, err))
	}
	deadline, ok := ctx.Deadline()
	if !ok {
		deadline = time.Now().Add(sessionTimeout)
	}
	_ = conn.SetDeadline(deadline)
	raw := conn
	stop := context.AfterFunc(ctx, func() { raw.Close() })
	fail := func(err error) (*smtp.Client, func(), error) {
		stop()
		raw.Close()
		return nil, nil, err
	}
	if cfg.security == securityTLS {
		tc := tls.Client(conn, cfg.tls)
		if err := tc.HandshakeContext(ctx); err != nil {
			return fail(cfg.tlsError(err))
		}
		conn = tc
	}
	client, err := smtp.NewClient(conn, cfg.host)
	if err != nil {
		return fail(cfg.replyError("the greeting", err))
	}
	done := func() {
		stop()
		client.Close()
	}
	failSession := func(err error) (*smtp.Client, func(), error) {
		done()
		return nil, nil, err
	}
	if err := client.Hello(cfg.helo); err != nil {
		return failSession(cfg.replyError("EHLO", err))
	}
	if cfg.security == securitySTARTTLS {
		if ok, _ := client.Extension("STARTTLS"); !ok {
			return failSession(connectors.Permanent(fmt.Errorf("SMTP server %s does not offer STARTTLS; refusing to continue in clear text (for implicit TLS on port 465, choose security tls)", cfg.addr)))
		}
		if err := client.StartTLS(cfg.tls); err != nil {
			return failSession(cfg.tlsError(err))
		}
	}
	if cfg.username != "" {
		ok, mechs := client.Extension("AUTH")
		if !ok {
			return failSession(connectors.Permanent(fmt.Errorf("SMTP server %s does not offer AUTH, but the connection has a username", cfg.addr)))
		}
		auth, err := cfg.auth(mechs)
		if err != nil {
			return failSession(err)
		}
		if err := client.Auth(auth); err != nil {
			return failSession(cfg.replyError("AUTH", err))
		}
	}
	return client, done, nil
}

// auth picks PLAIN, else LOGIN, among what the server offers.
func (cfg *config) auth(offered string) (smtp.Auth, error) {
	mechs := map[string]bool{}
	for _, m := range strings.Fields(strings.ToUpper(offered)) {
		mechs[m] = true
	}
	switch {
	case mechs["PLAIN"]:
		return smtp.PlainAuth("", cfg.username, cfg.password, cfg.host), nil
	case mechs["LOGIN"]:
		return &loginAuth{username: cfg.username, password: cfg.password}, nil
	default:
		return nil, connectors.Permanent(fmt.Errorf("SMTP server %s offers AUTH %s; this connector speaks PLAIN and LOGIN", cfg.addr, offered))
	}
}

// loginAuth is the LOGIN mechanism (username, then password, each asked
// for by the server), which net/smtp lacks. Like PlainAuth it refuses a
// connection without TLS.
type loginAuth struct {
	username, password string
	step               int
}

func (a *loginAuth) Start(server *smtp.ServerInfo) (string, []byte, error) {
	if !server.TLS {
		return "", nil, errors.New("refusing AUTH LOGIN over a connection without TLS")
	}
	return "LOGIN", nil, nil
}

func (a *loginAuth) Next(_ []byte, more bool) ([]byte, error) {
	if !more {
		return nil, nil
	}
	a.step++
	switch a.step {
	case 1:
		return []byte(a.username), nil
	case 2:
		return []byte(a.password), nil
	default:
		return nil, errors.New("unexpected AUTH LOGIN challenge")
	}
}

// replyError maps an SMTP failure: 4xx replies are transient, 5xx replies
// permanent (535, failed authentication, among them); network failures are
// retryable. The server's reply text is kept, the password never.
func (cfg *config) replyError(stage string, err error) error {
	var te *textproto.Error
	if errors.As(err, &te) {
		msg := strings.Join(strings.Fields(te.Msg), " ")
		msg = connectors.Redact(msg, cfg.password)
		if len(msg) > 300 {
			msg = msg[:300] + "…"
		}
		switch {
		case te.Code == 535 || te.Code == 534 || te.Code == 530:
			return connectors.Permanent(fmt.Errorf("SMTP authentication failed at %s: %d %s", cfg.addr, te.Code, msg))
		case te.Code >= 400 && te.Code < 500:
			return connectors.Retryable(fmt.Errorf("SMTP server deferred %s: %d %s", stage, te.Code, msg))
		default:
			return connectors.Permanent(fmt.Errorf("SMTP server refused %s: %d %s", stage, te.Code, msg))
		}
	}
	if isCertError(err) {
		return cfg.tlsError(err)
	}
	return connectors.Retryable(fmt.Errorf("SMTP %s with %s: %w", stage, cfg.addr, err))
}

// tlsError: a certificate that does not verify will not verify on a retry.
func (cfg *config) tlsError(err error) error {
	if isCertError(err) {
		return connectors.Permanent(fmt.Errorf("TLS with SMTP server %s: the certificate does not verify (for a private CA, set ca_pem on the connection): %w", cfg.addr, err))
	}
	var te *textproto.Error
	if errors.As(err, &te) {
		return cfg.replyError("STARTTLS", err)
	}
	return connectors.Retryable(fmt.Errorf("TLS with SMTP server %s: %w", cfg.addr, err))
}

func isCertError(err error) bool {
	var (
		verify   *tls.CertificateVerificationError
		unknown  x509.UnknownAuthorityError
		hostname x509.HostnameError
		invalid  x509.CertificateInvalidError
	)
	return errors.As(err, &verify) || errors.As(err, &unknown) || errors.As(err, &hostname) || errors.As(err, &invalid)
}

// message is a built RFC 5322 message and its envelope recipients.
type message struct {
	id         string
	recipients []string
	data       []byte
}

func (c Connector) build(in map[string]any, from *mail.Address, key string) (*message, error) {
	to, err := addressList("to", in["to"])
	if err != nil {
		return nil, err
	}
	if len(to) == 0 {
		return nil, connectors.BadInput(errors.New("to: at least one address is required"))
	}
	cc, err := addressList("cc", in["cc"])
	if err != nil {
		return nil, err
	}
	bcc, err := addressList("bcc", in["bcc"])
	if err != nil {
		return nil, err
	}
	replyTo, err := addressList("reply_to", in["reply_to"])
	if err != nil {
		return nil, err
	}
	subject, _ := in["subject"].(string)
	if strings.ContainsAny(subject, "\r\n") {
		return nil, connectors.BadInput(errors.New("subject holds a line break (refused: it could inject headers)"))
	}
	text, _ := in["text"].(string)
	html, _ := in["html"].(string)
	if text == "" && html == "" {
		return nil, connectors.BadInput(errors.New("text or html is required"))
	}

	now := time.Now
	if c.Now != nil {
		now = c.Now
	}
	id := messageID(key, from.Address)
	var b bytes.Buffer
	header := func(name, value string) { b.WriteString(fold(name + ": " + value)) }
	header("Date", now().Format(time.RFC1123Z))
	header("From", from.String())
	header("To", joinAddresses(to))
	if len(cc) > 0 {
		header("Cc", joinAddresses(cc))
	}
	if len(replyTo) > 0 {
		header("Reply-To", joinAddresses(replyTo))
	}
	header("Subject", mime.QEncoding.Encode("utf-8", subject))
	header("Message-ID", id)
	header("MIME-Version", "1.0")
	switch {
	case text != "" && html != "":
		// The writer writes nothing until the first part, so the headers
		// can name its boundary first.
		mw := multipart.NewWriter(&b)
		header("Content-Type", mime.FormatMediaType("multipart/alternative", map[string]string{"boundary": mw.Boundary()}))
		b.WriteString("\r\n")
		for _, part := range []struct{ mediaType, body string }{{"text/plain", text}, {"text/html", html}} {
			w, err := mw.CreatePart(textproto.MIMEHeader{
				"Content-Type":              {part.mediaType + "; charset=utf-8"},
				"Content-Transfer-Encoding": {"quoted-printable"},
			})
			if err != nil {
				return nil, err
			}
			if _, err := w.Write(quoted(part.body)); err != nil {
				return nil, err
			}
		}
		if err := mw.Close(); err != nil {
			return nil, err
		}
	default:
		mediaType, body := "text/plain", text
		if html != "" {
			mediaType, body = "text/html", html
		}
		header("Content-Type", mediaType+"; charset=utf-8")
		header("Content-Transfer-Encoding", "quoted-printable")
		b.WriteString("\r\n")
		b.Write(quoted(body))
		b.WriteString("\r\n")
	}
	return &message{id: id, recipients: envelope(to, cc, bcc), data: b.Bytes()}, nil
}

// addressList reads a list of addresses or a comma-separated string. A line
// break anywhere is refused: it could smuggle in headers.
func addressList(key string, v any) ([]*mail.Address, error) {
	var items []string
	switch x := v.(type) {
	case nil:
	case string:
		items = []string{x}
	case []string:
		items = x
	case []any:
		for i, it := range x {
			s, ok := it.(string)
			if !ok {
				return nil, connectors.BadInput(fmt.Errorf("%s[%d]: want an address, not %T", key, i, it))
			}
			items = append(items, s)
		}
	default:
		return nil, connectors.BadInput(fmt.Errorf("%s: want an address, a comma-separated list or a list, not %T", key, v))
	}
	var out []*mail.Address
	for _, s := range items {
		if strings.ContainsAny(s, "\r\n") {
			return nil, connectors.BadInput(fmt.Errorf("%s holds a line break (refused: it could inject headers)", key))
		}
		if strings.TrimSpace(s) == "" {
			continue
		}
		list, err := mail.ParseAddressList(s)
		if err != nil {
			return nil, connectors.BadInput(fmt.Errorf("%s: %q is not a valid address list: %v", key, s, err))
		}
		out = append(out, list...)
	}
	return out, nil
}

func joinAddresses(list []*mail.Address) string {
	parts := make([]string, len(list))
	for i, a := range list {
		parts[i] = a.String()
	}
	return strings.Join(parts, ", ")
}

// envelope lists every recipient once, To first, then Cc, then Bcc.
func envelope(lists ...[]*mail.Address) []string {
	seen := map[string]bool{}
	var out []string
	for _, list := range lists {
		for _, a := range list {
			k := strings.ToLower(a.Address)
			if !seen[k] {
				seen[k] = true
				out = append(out, a.Address)
			}
		}
	}
	return out
}

// messageID derives the id from the idempotency key, so every retry of one
// step sends the same Message-ID and receivers can drop the duplicate.
func messageID(key, from string) string {
	local := strings.Map(func(r rune) rune {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '_', r == '-', r == '.':
			return r
		}
		return '-'
	}, strings.Trim(key, "."))
	if local == "" {
		var rnd [16]byte
		_, _ = rand.Read(rnd[:])
		local = hex.EncodeToString(rnd[:])
	}
	domain := ""
	if at := strings.LastIndex(from, "@"); at >= 0 {
		domain = strings.Map(func(r rune) rune {
			if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '.' {
				return r
			}
			return -1
		}, from[at+1:])
	}
	domain = strings.Trim(domain, ".")
	if domain == "" {
		domain = "switchboard.invalid"
	}
	return "<" + local + "@" + domain + ">"
}

// quoted encodes a body as quoted-printable with CRLF line ends.
func quoted(s string) []byte {
	var b bytes.Buffer
	w := quotedprintable.NewWriter(&b)
	_, _ = w.Write([]byte(s))
	_ = w.Close()
	return b.Bytes()
}

// fold ends a header line with CRLF, folding it at spaces so lines stay
// within 78 characters where the value allows (RFC 5322 section 2.2.3).
func fold(line string) string {
	const limit = 78
	if len(line) <= limit {
		return line + "\r\n"
	}
	var b strings.Builder
	cur := 0
	for i, word := range strings.Split(line, " ") {
		switch {
		case i == 0:
		case cur+1+len(word) > limit:
			b.WriteString("\r\n")
			cur = 0
			fallthrough
		default:
			b.WriteByte(' ')
			cur++
		}
		b.WriteString(word)
		cur += len(word)
	}
	b.WriteString("\r\n")
	return b.String()
}
