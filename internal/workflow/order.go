package workflow

import (
	"bytes"
	"encoding/json"
	"fmt"
	"sort"
)

// A map step's fields keep the order their author gave them: Go maps have
// none, so Parse remembers the keys' order (Step.FieldOrder) and Step's
// MarshalJSON writes them in it; keys added later follow, sorted.

type keyOrder []string

// UnmarshalJSON keeps an object's top-level keys in document order.
func (k *keyOrder) UnmarshalJSON(b []byte) error {
	dec := json.NewDecoder(bytes.NewReader(b))
	tok, err := dec.Token()
	if err != nil {
		return err
	}
	if tok != json.Delim('{') {
		return nil // not an object: Parse reports it
	}
	for dec.More() {
		key, err := dec.Token()
		if err != nil {
			return err
		}
		*k = append(*k, fmt.Sprint(key))
		var skip json.RawMessage
		if err := dec.Decode(&skip); err != nil {
			return err
		}
	}
	return nil
}

type orderStep struct {
	Fields keyOrder    `json:"fields"`
	Steps  []orderStep `json:"steps"`
	Paths  []struct {
		Steps []orderStep `json:"steps"`
	} `json:"paths"`
}

// rememberFieldOrder records the key order of every map step's fields.
func rememberFieldOrder(data []byte, d *Document) {
	var o struct {
		Steps []orderStep `json:"steps"`
	}
	if json.Unmarshal(data, &o) != nil {
		return // the strict decode already accepted it; order is best effort
	}
	var walk func(steps []Step, order []orderStep)
	walk = func(steps []Step, order []orderStep) {
		for i := range steps {
			if i >= len(order) {
				return
			}
			if len(steps[i].Fields) > 0 {
				steps[i].FieldOrder = order[i].Fields
			}
			walk(steps[i].Steps, order[i].Steps)
			for j := range steps[i].Paths {
				if j < len(order[i].Paths) {
					walk(steps[i].Paths[j].Steps, order[i].Paths[j].Steps)
				}
			}
		}
	}
	walk(d.Steps, o.Steps)
}

// MarshalJSON writes the step with its map fields in FieldOrder.
func (s Step) MarshalJSON() ([]byte, error) {
	type plain Step
	if len(s.Fields) == 0 || len(s.FieldOrder) == 0 {
		return json.Marshal(plain(s))
	}
	p := plain(s)
	p.Fields = nil
	b, err := json.Marshal(p)
	if err != nil {
		return nil, err
	}
	seen := make(map[string]bool, len(s.Fields))
	keys := make([]string, 0, len(s.Fields))
	for _, k := range s.FieldOrder {
		if _, ok := s.Fields[k]; ok && !seen[k] {
			seen[k] = true
			keys = append(keys, k)
		}
	}
	var rest []string
	for k := range s.Fields {
		if !seen[k] {
			rest = append(rest, k)
		}
	}
	sort.Strings(rest)
	keys = append(keys, rest...)

	var buf bytes.Buffer
	buf.Write(b[:len(b)-1]) // without the closing brace
	buf.WriteString(`,"fields":{`)
	for i, k := range keys {
		if i > 0 {
			buf.WriteByte(',')
		}
		kb, err := json.Marshal(k)
		if err != nil {
			return nil, err
		}
		vb, err := json.Marshal(s.Fields[k])
		if err != nil {
			return nil, fmt.Errorf("fields.%s: %w", k, err)
		}
		buf.Write(kb)
		buf.WriteByte(':')
		buf.Write(vb)
	}
	buf.WriteString("}}")
	return buf.Bytes(), nil
}
