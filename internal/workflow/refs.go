package workflow

// ConnectionRef is one place a document names a connection.
type ConnectionRef struct {
	Connection string `json:"connection"`
	// Step is the step's id ("" for the trigger's verification).
	Step string `json:"step,omitempty"`
}

// ConnectionRefs lists every connection the document names, in document
// order: the trigger's verification secret, then each action step at any
// depth.
func ConnectionRefs(d *Document) []ConnectionRef {
	var out []ConnectionRef
	if d.Trigger.Webhook != nil && d.Trigger.Webhook.Verify != nil && d.Trigger.Webhook.Verify.Connection != "" {
		out = append(out, ConnectionRef{Connection: d.Trigger.Webhook.Verify.Connection})
	}
	var walk func(steps []Step)
	walk = func(steps []Step) {
		for i := range steps {
			st := &steps[i]
			if st.Connection != "" {
				out = append(out, ConnectionRef{Connection: st.Connection, Step: st.ID})
			}
			walk(st.Steps)
			for _, p := range st.Paths {
				walk(p.Steps)
			}
		}
	}
	walk(d.Steps)
	return out
}
