package store

import (
	"errors"
	"fmt"
	"testing"

	"github.com/jackc/pgx/v5/pgconn"
)

func TestCleanJSONReplacesOnlyRealNULEscapes(t *testing.T) {
	for in, want := range map[string]string{
		`{"a":"x\u0000y"}`:    `{"a":"x\ufffdy"}`,
		`{"a":"\\u0000"}`:     `{"a":"\\u0000"}`,
		`{"a":"\\\u0000"}`:    `{"a":"\\\ufffd"}`,
		`{"a\u0000":1}`:       `{"a\ufffd":1}`,
		"{\"a\":\"\xff\"}":    "{\"a\":\"\uFFFD\"}",
		`{"a":"\u00001"}`:     `{"a":"\ufffd1"}`,
		`{"a":"plain \n ok"}`: `{"a":"plain \n ok"}`,
	} {
		if got := string(cleanJSON([]byte(in))); got != want {
			t.Errorf("cleanJSON(%q) = %q, want %q", in, got, want)
		}
	}
}

// A full disk is an outage that passes (503 and retry), not the request's
// fault: SQLite's SQLITE_FULL and PostgreSQL's class 53 (53100 disk_full).
func TestFullDiskIsUnavailable(t *testing.T) {
	for _, err := range []error{
		errors.New("sqlite: database or disk is full (13)"),
		fmt.Errorf("creating run: %w", &pgconn.PgError{Code: "53100", Message: "could not extend file"}),
		&pgconn.PgError{Code: "53300", Message: "too many connections"},
	} {
		if !IsUnavailable(err) {
			t.Errorf("IsUnavailable(%v) = false", err)
		}
	}
	if IsUnavailable(&pgconn.PgError{Code: "23505"}) {
		t.Error("a unique violation counts as an outage")
	}
}
