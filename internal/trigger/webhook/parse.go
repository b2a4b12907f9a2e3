package webhook

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/switchboard-dev/switchboard/internal/fielderr"
	"github.com/switchboard-dev/switchboard/internal/store"
)

// parseBody turns the raw body into data for expressions, by Content-Type.
func parseBody(contentType string, raw []byte) (any, error) {
	if len(raw) == 0 {
		return nil, nil
	}
	mt, params, _ := mime.ParseMediaType(contentType)
	switch {
	case mt == "application/json" || strings.HasSuffix(mt, "+json"):
		// Go's decoder would turn invalid UTF-8 into U+FFFD silently; JSON
		// must be UTF-8 (RFC 8259), so say so instead of running on altered text.
		if fe := fielderr.CheckUTF8(raw); fe != nil {
			return nil, fmt.Errorf("%s although Content-Type says %s", fe.Message, mt)
		}
		var v any
		if err := json.Unmarshal(raw, &v); err != nil {
			return nil, fmt.Errorf("body is not valid JSON although Content-Type says %s: %v", mt, err)
		}
		return v, nil
	case mt == "application/x-www-form-urlencoded":
		vals, err := url.ParseQuery(string(raw))
		if err != nil {
			return nil, fmt.Errorf("body is not valid form data: %v", err)
		}
		return flatten(vals), nil
	case mt == "multipart/form-data":
		return parseMultipart(raw, params["boundary"])
	case mt == "application/xml" || mt == "text/xml" || strings.HasSuffix(mt, "+xml"):
		v, err := parseXML(raw)
		if err != nil {
			return nil, fmt.Errorf("body is not valid XML although Content-Type says %s: %v", mt, err)
		}
		return v, nil
	default:
		return rawText(raw), nil
	}
}

// parseMultipart keeps form fields; for files it keeps name, type and size,
// not the content.
func parseMultipart(raw []byte, boundary string) (any, error) {
	if boundary == "" {
		return nil, errors.New("multipart body without a boundary")
	}
	mr := multipart.NewReader(bytes.NewReader(raw), boundary)
	out := map[string]any{}
	for {
		p, err := mr.NextPart()
		if err == io.EOF {
			return out, nil
		}
		if err != nil {
			return nil, fmt.Errorf("body is not valid multipart data: %v", err)
		}
		data, err := io.ReadAll(p)
		if err != nil {
			return nil, fmt.Errorf("reading multipart field %q: %v", p.FormName(), err)
		}
		var v any = string(data)
		if p.FileName() != "" {
			v = map[string]any{"filename": p.FileName(), "content_type": p.Header.Get("Content-Type"), "size": len(data)}
		}
		name := p.FormName()
		if prev, ok := out[name]; ok {
			if l, isList := prev.([]any); isList {
				out[name] = append(l, v)
			} else {
				out[name] = []any{prev, v}
			}
		} else {
			out[name] = v
		}
	}
}

// parseXML maps elements to keys: text-only elements become strings,
// repeated elements lists, attributes "@name" keys, mixed text "#text".
func parseXML(raw []byte) (any, error) {
	dec := xml.NewDecoder(bytes.NewReader(raw))
	dec.Strict = true
	type frame struct {
		name string
		m    map[string]any
		text strings.Builder
	}
	var stack []*frame
	var root map[string]any
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, err
		}
		switch t := tok.(type) {
		case xml.StartElement:
			if len(stack) > 64 {
				return nil, errors.New("XML nested deeper than 64 levels")
			}
			f := &frame{name: t.Name.Local, m: map[string]any{}}
			for _, a := range t.Attr {
				f.m["@"+a.Name.Local] = a.Value
			}
			stack = append(stack, f)
		case xml.CharData:
			if len(stack) > 0 {
				stack[len(stack)-1].text.Write(t)
			}
		case xml.EndElement:
			f := stack[len(stack)-1]
			stack = stack[:len(stack)-1]
			var v any = f.m
			text := strings.TrimSpace(f.text.String())
			if len(f.m) == 0 {
				v = text
			} else if text != "" {
				f.m["#text"] = text
			}
			if len(stack) == 0 {
				root = map[string]any{f.name: v}
				continue
			}
			parent := stack[len(stack)-1].m
			if prev, ok := parent[f.name]; ok {
				if l, isList := prev.([]any); isList {
					parent[f.name] = append(l, v)
				} else {
					parent[f.name] = []any{prev, v}
				}
			} else {
				parent[f.name] = v
			}
		}
	}
	if root == nil {
		return nil, errors.New("no root element")
	}
	return root, nil
}

// rawText is the body as expressions see it (trigger.raw): text, with NUL
// and invalid UTF-8 as U+FFFD on both databases.
func rawText(raw []byte) string { return store.CleanText(string(raw)) }

// flatten maps single values to strings and repeated ones to lists; header
// names are lower-cased so expressions need not guess the case.
func flatten[M ~map[string][]string](m M) map[string]any {
	out := make(map[string]any, len(m))
	_, isHeader := any(m).(http.Header)
	for k, vs := range m {
		if isHeader {
			k = strings.ToLower(k)
		}
		if len(vs) == 1 {
			out[k] = vs[0]
		} else {
			l := make([]any, len(vs))
			for i, v := range vs {
				l[i] = v
			}
			out[k] = l
		}
	}
	return out
}

var secretHeaders = []string{"authorization", "cookie", "proxy-authorization", "x-api-key"}

// redactHeaders hides credentials: the usual secret headers plus the ones
// the endpoint's verification reads.
func redactHeaders(extra []string) func(http.Header) map[string]any {
	return func(h http.Header) map[string]any {
		out := flatten(h)
		for k := range out {
			if slices.Contains(secretHeaders, k) || strings.Contains(k, "token") || strings.Contains(k, "secret") ||
				slices.ContainsFunc(extra, func(e string) bool { return strings.EqualFold(e, k) }) {
				out[k] = "[redacted]"
			}
		}
		return out
	}
}

func redactQuery(q url.Values, secret []string) map[string]any {
	out := flatten(q)
	for _, k := range secret {
		if _, ok := out[k]; ok {
			out[k] = "[redacted]"
		}
	}
	return out
}

func peerIP(remoteAddr string) string {
	host, _, err := net.SplitHostPort(remoteAddr)
	if err != nil {
		return remoteAddr
	}
	return host
}

func capString(b []byte) string {
	if len(b) > inboundBodyCap {
		b = b[:inboundBodyCap]
	}
	return store.CleanText(string(b))
}

// capBytes is the inbox's byte-for-byte copy of the body (nil when empty).
func capBytes(b []byte) []byte {
	if len(b) == 0 {
		return nil
	}
	return bytes.Clone(b[:min(len(b), inboundBodyCap)])
}
