package email

import (
	"bufio"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/pem"
	"math/big"
	"net"
	"net/textproto"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/switchboard-dev/switchboard/internal/waitfor"
)

// selfSigned makes a certificate for 127.0.0.1 and localhost, and its PEM
// for the connection's ca_pem.
func selfSigned(t *testing.T) (tls.Certificate, string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(time.Now().UnixNano()),
		Subject:      pkix.Name{CommonName: "mx.test"},
		NotBefore:    time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true, IsCA: true,
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)}, DNSNames: []string{"localhost"},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key},
		string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}))
}

// session is what the server saw on one connection.
type session struct {
	EHLO      string
	StartTLS  bool   // upgraded with STARTTLS
	TLS       bool   // the connection was encrypted when MAIL FROM came
	AuthMech  string // PLAIN or LOGIN, when authenticated
	AuthUser  string
	AuthTried bool
	From      string
	Rcpts     []string
	Data      string   // as sent on the wire, CRLF and dot-stuffing undone
	RawData   string   // as sent on the wire
	Verbs     []string // every command's verb, in order
}

// smtpd is a small ESMTP server: EHLO advertising STARTTLS (before TLS)
// and AUTH PLAIN/LOGIN (after), STARTTLS, AUTH, MAIL, RCPT, DATA, RSET,
// NOOP, QUIT. Fail answers a stage (AUTH, MAIL, RCPT, DATA) with a reply
// such as "451 4.7.1 Try again later".
type smtpd struct {
	t           *testing.T
	addr        string
	port        string
	cert        tls.Certificate
	pem         string
	implicitTLS bool
	noStartTLS  bool
	mechs       string
	user, pass  string
	fail        map[string]string
	accepted    atomic.Int32

	mu       sync.Mutex
	sessions []*session
}

func newSMTPD(t *testing.T, configure func(*smtpd)) *smtpd {
	t.Helper()
	cert, pemText := selfSigned(t)
	s := &smtpd{t: t, cert: cert, pem: pemText, mechs: "PLAIN LOGIN", user: "mailer", pass: "s3cret-pa55", fail: map[string]string{}}
	if configure != nil {
		configure(s)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	s.addr = ln.Addr().String()
	_, s.port, _ = net.SplitHostPort(s.addr)
	go func() {
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			s.accepted.Add(1)
			go s.serve(conn)
		}
	}()
	return s
}

// creds is a connection to this server over its TLS mode.
func (s *smtpd) creds() map[string]string {
	security := "starttls"
	if s.implicitTLS {
		security = "tls"
	}
	return map[string]string{"host": "127.0.0.1", "port": s.port, "security": security, "username": s.user, "password": s.pass,
		"from": "Acme Alerts <alerts@acme.example>", "ca_pem": s.pem, "allow_private": "true", "helo_name": "switchboard.test"}
}

// last waits for the newest finished session.
func (s *smtpd) last(t *testing.T) *session {
	t.Helper()
	var n int
	waitfor.Until(t, 5*time.Second, "an SMTP session to finish", func() bool {
		s.mu.Lock()
		n = len(s.sessions)
		s.mu.Unlock()
		return n > 0 && int32(n) == s.accepted.Load()
	})
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.sessions[n-1]
}

func (s *smtpd) serve(conn net.Conn) {
	sess := &session{}
	defer func() {
		conn.Close()
		s.mu.Lock()
		s.sessions = append(s.sessions, sess)
		s.mu.Unlock()
	}()
	_ = conn.SetDeadline(time.Now().Add(10 * time.Second))
	secure := false
	if s.implicitTLS {
		tc := tls.Server(conn, &tls.Config{Certificates: []tls.Certificate{s.cert}})
		if tc.Handshake() != nil {
			return
		}
		conn, secure = tc, true
	}
	tp := textproto.NewConn(conn)
	reply := func(line string) { _ = tp.PrintfLine("%s", line) }
	reply("220 mx.test ESMTP ready")
	authed := false
	for {
		line, err := tp.ReadLine()
		if err != nil {
			return
		}
		verb, arg, _ := strings.Cut(line, " ")
		sess.Verbs = append(sess.Verbs, strings.ToUpper(verb))
		switch strings.ToUpper(verb) {
		case "EHLO":
			sess.EHLO = arg
			lines := []string{"mx.test greets " + arg, "PIPELINING", "SIZE 10240000", "8BITMIME"}
			if !secure && !s.noStartTLS {
				lines = append(lines, "STARTTLS")
			}
			if secure && s.mechs != "" {
				lines = append(lines, "AUTH "+s.mechs)
			}
			for i, l := range lines {
				sep := "-"
				if i == len(lines)-1 {
					sep = " "
				}
				reply("250" + sep + l)
			}
		case "HELO":
			reply("250 mx.test")
		case "STARTTLS":
			if secure || s.noStartTLS {
				reply("503 5.5.1 STARTTLS not available")
				continue
			}
			reply("220 2.0.0 Ready to start TLS")
			tc := tls.Server(conn, &tls.Config{Certificates: []tls.Certificate{s.cert}})
			if tc.Handshake() != nil {
				return
			}
			conn, secure, sess.StartTLS = tc, true, true
			tp = textproto.NewConn(tc)
			sess.EHLO = "" // the client must greet again
		case "AUTH":
			sess.AuthTried = true
			if !secure {
				reply("530 5.7.0 Must issue a STARTTLS command first")
				continue
			}
			mech, initial, _ := strings.Cut(arg, " ")
			var user, pass string
			switch strings.ToUpper(mech) {
			case "PLAIN":
				if initial == "" {
					reply("334 ")
					initial, _ = tp.ReadLine()
				}
				raw, _ := base64.StdEncoding.DecodeString(initial)
				parts := strings.Split(string(raw), "\x00")
				if len(parts) == 3 {
					user, pass = parts[1], parts[2]
				}
			case "LOGIN":
				reply("334 VXNlcm5hbWU6")
				l, _ := tp.ReadLine()
				u, _ := base64.StdEncoding.DecodeString(l)
				reply("334 UGFzc3dvcmQ6")
				l, _ = tp.ReadLine()
				p, _ := base64.StdEncoding.DecodeString(l)
				user, pass = string(u), string(p)
			default:
				reply("504 5.5.4 Unrecognized authentication type")
				continue
			}
			if f := s.fail["AUTH"]; f != "" {
				reply(f)
				continue
			}
			if user != s.user || pass != s.pass {
				reply("535 5.7.8 Error: authentication failed: authentication failure")
				continue
			}
			authed, sess.AuthMech, sess.AuthUser = true, strings.ToUpper(mech), user
			reply("235 2.7.0 Authentication successful")
		case "MAIL":
			if s.user != "" && !authed {
				reply("530 5.7.0 Authentication required")
				continue
			}
			if f := s.fail["MAIL"]; f != "" {
				reply(f)
				continue
			}
			sess.TLS = secure
			sess.From = envelopeAddr(arg, "FROM:")
			reply("250 2.1.0 Ok")
		case "RCPT":
			rcpt := envelopeAddr(arg, "TO:")
			if f := s.fail["RCPT"]; f != "" && (s.fail["RCPT_ONLY"] == "" || s.fail["RCPT_ONLY"] == rcpt) {
				reply(f)
				continue
			}
			sess.Rcpts = append(sess.Rcpts, rcpt)
			reply("250 2.1.5 Ok")
		case "DATA":
			if len(sess.Rcpts) == 0 {
				reply("554 5.5.1 Error: no valid recipients")
				continue
			}
			reply("354 End data with <CR><LF>.<CR><LF>")
			raw, data, ok := readData(tp.R)
			if !ok {
				return
			}
			sess.RawData, sess.Data = raw, data
			if f := s.fail["DATA"]; f != "" {
				reply(f)
				continue
			}
			reply("250 2.0.0 Ok: queued as 4BQ2Xs3kQnz")
		case "RSET":
			sess.From, sess.Rcpts = "", nil
			reply("250 2.0.0 Ok")
		case "NOOP":
			reply("250 2.0.0 Ok")
		case "QUIT":
			reply("221 2.0.0 Bye")
			return
		default:
			reply("502 5.5.2 Error: command not recognized")
		}
	}
}

// envelopeAddr reads "FROM:<a@b> BODY=8BITMIME" → a@b.
func envelopeAddr(arg, prefix string) string {
	if len(arg) < len(prefix) || !strings.EqualFold(arg[:len(prefix)], prefix) {
		return ""
	}
	a := strings.TrimSpace(arg[len(prefix):])
	if i := strings.IndexByte(a, '>'); strings.HasPrefix(a, "<") && i > 0 {
		return a[1:i]
	}
	return a
}

// readData reads DATA up to the lone dot, returning the raw wire text and the
// text with dot-stuffing undone.
func readData(r *bufio.Reader) (raw, data string, ok bool) {
	var rawB, dataB strings.Builder
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			return "", "", false
		}
		if line == ".\r\n" {
			return rawB.String(), dataB.String(), true
		}
		rawB.WriteString(line)
		dataB.WriteString(strings.TrimPrefix(line, "."))
	}
}
