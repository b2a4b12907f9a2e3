package webhooksig

import (
	"errors"
	"fmt"
	"hash"
	"strings"
)

type segKind uint8

const (
	segLiteral segKind = iota
	segBody
	segTimestamp
	segID
)

type segment struct {
	kind segKind
	lit  string
}

var placeholders = map[string]segKind{"body": segBody, "timestamp": segTimestamp, "id": segID}

// parseTemplate splits a signed-content template into literal text and the
// placeholders {body}, {timestamp} and {id}. An empty template is "{body}".
// Braces that do not enclose a lower-case name are literal text.
func parseTemplate(t string) ([]segment, error) {
	if t == "" {
		return []segment{{kind: segBody}}, nil
	}
	var out []segment
	var lit strings.Builder
	hasBody := false
	for i := 0; i < len(t); {
		if t[i] == '{' {
			if end := strings.IndexByte(t[i+1:], '}'); end >= 0 {
				name := t[i+1 : i+1+end]
				if kind, ok := placeholders[name]; ok {
					if lit.Len() > 0 {
						out = append(out, segment{lit: lit.String()})
						lit.Reset()
					}
					out = append(out, segment{kind: kind})
					hasBody = hasBody || kind == segBody
					i += end + 2
					continue
				}
				if isPlaceholderName(name) {
					return nil, fmt.Errorf("unknown placeholder {%s}; use {body}, {timestamp} or {id}", name)
				}
			}
		}
		lit.WriteByte(t[i])
		i++
	}
	if lit.Len() > 0 {
		out = append(out, segment{lit: lit.String()})
	}
	if !hasBody {
		return nil, errors.New("must use {body}, or the body is not signed")
	}
	return out, nil
}

func isPlaceholderName(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if (s[i] < 'a' || s[i] > 'z') && s[i] != '_' {
			return false
		}
	}
	return true
}

// writeSigned feeds the signed content into h without copying the body.
func writeSigned(h hash.Hash, tmpl []segment, body []byte, timestamp, id string) {
	for _, s := range tmpl {
		switch s.kind {
		case segLiteral:
			h.Write([]byte(s.lit))
		case segBody:
			h.Write(body)
		case segTimestamp:
			h.Write([]byte(timestamp))
		case segID:
			h.Write([]byte(id))
		}
	}
}
