package connectors_test

import (
	"testing"

	"github.com/switchboard-dev/switchboard/connectors"
)

type versioned struct {
	shout
	v string
}

func (c versioned) Spec() connectors.Spec {
	s := c.shout.Spec()
	s.Version = c.v
	return s
}

func TestRegistryReplaceSwapsAndRemoveDeletes(t *testing.T) {
	reg := connectors.NewRegistry()
	if err := reg.Replace(versioned{v: "1"}); err != nil {
		t.Fatal(err)
	}
	if err := reg.Replace(versioned{v: "2"}); err != nil {
		t.Fatal(err)
	}
	if c, _ := reg.Get("shout"); c.Spec().Version != "2" {
		t.Fatalf("version %s after Replace", c.Spec().Version)
	}
	if err := reg.Replace(badSpec{}); err == nil {
		t.Fatal("Replace accepted an invalid spec")
	}
	if !reg.Remove("shout") || reg.Remove("shout") {
		t.Fatal("Remove should report true once, then false")
	}
	if _, ok := reg.Get("shout"); ok {
		t.Fatal("removed connector still there")
	}
}
