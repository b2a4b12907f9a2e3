package all

import (
	"testing"

	"github.com/switchboard-dev/switchboard/connectors"
)

func TestEveryRegisteredSpecIsComplete(t *testing.T) {
	specs := connectors.Default.Specs()
	if len(specs) < 3 {
		t.Fatalf("%d connectors registered, want the built-ins", len(specs))
	}
	for _, s := range specs {
		if err := s.Validate(); err != nil {
			t.Errorf("%s: %v", s.ID, err)
		}
		if s.Icon == "" || s.Version == "" || s.Description == "" || len(s.Actions) == 0 {
			t.Errorf("%s: icon, version, description and at least one action are required", s.ID)
		}
		for _, a := range s.Actions {
			if a.Name == "" || a.SampleOutput == nil {
				t.Errorf("%s.%s: needs a name and a sample output (the editor offers its fields)", s.ID, a.ID)
			}
			for _, f := range a.Input {
				if f.Label == "" {
					t.Errorf("%s.%s: field %s has no label", s.ID, a.ID, f.Key)
				}
			}
		}
		for _, f := range s.Auth.Fields {
			if f.Label == "" {
				t.Errorf("%s auth field %s has no label", s.ID, f.Key)
			}
		}
	}
}
