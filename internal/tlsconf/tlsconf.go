// Package tlsconf holds Switchboard's TLS pieces: the serving certificate
// reloaded from its files when they change, PEM parsing for certificates a
// user uploads, and the client-certificate checks of webhook endpoints.
package tlsconf

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"slices"
	"sync"
	"time"
)

// Reloader serves a certificate from files and reloads it when either file
// changes, without a restart: renewals (certbot, cert-manager) apply on
// the next handshake. A broken new pair is logged and the old one kept.
type Reloader struct {
	certFile, keyFile string
	log               *slog.Logger
	now               func() time.Time

	mu        sync.Mutex
	cert      *tls.Certificate
	stamp     string    // modification times and sizes of both files
	checkedAt time.Time // files are looked at most once a second
}

// NewReloader loads the pair once; an error here stops the start.
func NewReloader(certFile, keyFile string, log *slog.Logger) (*Reloader, error) {
	if log == nil {
		log = slog.Default()
	}
	r := &Reloader{certFile: certFile, keyFile: keyFile, log: log, now: time.Now}
	stamp, err := r.fileStamp()
	if err != nil {
		return nil, err
	}
	cert, err := tls.LoadX509KeyPair(certFile, keyFile)
	if err != nil {
		return nil, fmt.Errorf("loading TLS certificate %s and key %s: %w", certFile, keyFile, err)
	}
	r.cert, r.stamp, r.checkedAt = &cert, stamp, r.now()
	return r, nil
}

func (r *Reloader) fileStamp() (string, error) {
	var stamp string
	for _, f := range []string{r.certFile, r.keyFile} {
		fi, err := os.Stat(f)
		if err != nil {
			return "", fmt.Errorf("reading TLS file: %w", err)
		}
		stamp += fmt.Sprintf("%s:%d:%d;", f, fi.ModTime().UnixNano(), fi.Size())
	}
	return stamp, nil
}

// GetCertificate is for tls.Config.
func (r *Reloader) GetCertificate(*tls.ClientHelloInfo) (*tls.Certificate, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if now := r.now(); now.Sub(r.checkedAt) >= time.Second {
		r.checkedAt = now
		if stamp, err := r.fileStamp(); err == nil && stamp != r.stamp {
			cert, err := tls.LoadX509KeyPair(r.certFile, r.keyFile)
			if err != nil {
				// Often the two files are written one after the other: try
				// again on a later handshake.
				r.log.Warn("TLS certificate changed but does not load; keeping the previous one", "error", err)
			} else {
				r.cert, r.stamp = &cert, stamp
				r.log.Info("TLS certificate reloaded", "file", r.certFile)
			}
		}
	}
	return r.cert, nil
}

// ServerConfig is the HTTPS configuration: modern versions, the reloaded
// certificate, and client certificates requested (never required) so
// endpoints that demand one can check it themselves.
func (r *Reloader) ServerConfig() *tls.Config {
	return &tls.Config{
		MinVersion:     tls.VersionTLS12,
		GetCertificate: r.GetCertificate,
		ClientAuth:     tls.RequestClientCert,
		NextProtos:     []string{"h2", "http/1.1"},
	}
}

// ParseCertificates reads every CERTIFICATE block of a PEM text.
func ParseCertificates(pemText string) ([]*x509.Certificate, error) {
	var out []*x509.Certificate
	rest := []byte(pemText)
	for {
		var b *pem.Block
		b, rest = pem.Decode(rest)
		if b == nil {
			break
		}
		if b.Type != "CERTIFICATE" {
			continue
		}
		c, err := x509.ParseCertificate(b.Bytes)
		if err != nil {
			return nil, fmt.Errorf("parsing certificate: %w", err)
		}
		out = append(out, c)
	}
	if len(out) == 0 {
		return nil, errors.New("no PEM CERTIFICATE block found")
	}
	return out, nil
}

// Pool builds a certificate pool from PEM.
func Pool(pemText string) (*x509.CertPool, error) {
	certs, err := ParseCertificates(pemText)
	if err != nil {
		return nil, err
	}
	pool := x509.NewCertPool()
	for _, c := range certs {
		pool.AddCert(c)
	}
	return pool, nil
}

// ClientCertError says why a client certificate was refused.
type ClientCertError struct{ Reason string }

func (e *ClientCertError) Error() string { return e.Reason }

// CheckClient verifies the certificates a client presented against the
// endpoint's CA (PEM) and, when subjects is not empty, that the leaf's
// subject is one of them: either the whole subject as Go prints it
// ("CN=partner,O=Acme") or "CN=<common name>".
func CheckClient(peer []*x509.Certificate, caPEM string, subjects []string, now time.Time) error {
	if len(peer) == 0 {
		return &ClientCertError{Reason: "client certificate required: none was presented"}
	}
	pool, err := Pool(caPEM)
	if err != nil {
		return fmt.Errorf("the endpoint's CA: %w", err)
	}
	inter := x509.NewCertPool()
	for _, c := range peer[1:] {
		inter.AddCert(c)
	}
	leaf := peer[0]
	if _, err := leaf.Verify(x509.VerifyOptions{Roots: pool, Intermediates: inter, CurrentTime: now,
		KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}); err != nil {
		return &ClientCertError{Reason: fmt.Sprintf("client certificate %q is not trusted by this endpoint's CA: %v", leaf.Subject.String(), err)}
	}
	if len(subjects) > 0 && !slices.Contains(subjects, leaf.Subject.String()) && !slices.Contains(subjects, "CN="+leaf.Subject.CommonName) {
		return &ClientCertError{Reason: fmt.Sprintf("client certificate subject %q is not in the endpoint's allowed list", leaf.Subject.String())}
	}
	return nil
}

// ClientConfig is the outbound TLS configuration of a connection: a client
// certificate and key (PEM) and a custom CA (PEM); each part may be empty.
// With all three empty it is the default client configuration.
func ClientConfig(certPEM, keyPEM, caPEM string) (*tls.Config, error) {
	cfg := &tls.Config{MinVersion: tls.VersionTLS12}
	if certPEM != "" || keyPEM != "" {
		if certPEM == "" || keyPEM == "" {
			return nil, errors.New("a client certificate needs both the certificate and its private key")
		}
		pair, err := tls.X509KeyPair([]byte(certPEM), []byte(keyPEM))
		if err != nil {
			return nil, fmt.Errorf("client certificate and key: %w", err)
		}
		cfg.Certificates = []tls.Certificate{pair}
	}
	if caPEM != "" {
		pool, err := Pool(caPEM)
		if err != nil {
			return nil, fmt.Errorf("CA: %w", err)
		}
		cfg.RootCAs = pool
	}
	return cfg, nil
}

// Connection fields every connection may hold for mutual TLS towards its
// service (the key is sealed like every secret).
const (
	FieldClientCert = "tls_client_cert"
	FieldClientKey  = "tls_client_key"
	FieldCA         = "tls_ca"
)

// FromCredentials builds the client TLS configuration from a connection's
// opened fields; ok is false when the connection sets none of them.
func FromCredentials(creds map[string]string) (cfg *tls.Config, ok bool, err error) {
	cert, key, ca := creds[FieldClientCert], creds[FieldClientKey], creds[FieldCA]
	if cert == "" && key == "" && ca == "" {
		return nil, false, nil
	}
	cfg, err = ClientConfig(cert, key, ca)
	return cfg, err == nil, err
}
