package api

import (
	"encoding/json"
	"fmt"
	"net/http"
	"reflect"
	"sort"
	"strconv"

	"github.com/gin-gonic/gin"
)

// change is one difference between two documents, at a path such as
// "steps[1].fields.text".
type change struct {
	Path   string `json:"path"`
	Change string `json:"change"` // added, removed or changed
	Before any    `json:"before,omitempty"`
	After  any    `json:"after,omitempty"`
}

// diffDocs lists what changed from a to b, leaf by leaf, sorted by path.
func diffDocs(a, b any) []change {
	var out []change
	var walk func(path string, x, y any)
	walk = func(path string, x, y any) {
		xm, xIsMap := x.(map[string]any)
		ym, yIsMap := y.(map[string]any)
		if xIsMap && yIsMap {
			keys := map[string]bool{}
			for k := range xm {
				keys[k] = true
			}
			for k := range ym {
				keys[k] = true
			}
			for k := range keys {
				p := k
				if path != "" {
					p = path + "." + k
				}
				xv, inX := xm[k]
				yv, inY := ym[k]
				switch {
				case !inX:
					out = append(out, change{Path: p, Change: "added", After: yv})
				case !inY:
					out = append(out, change{Path: p, Change: "removed", Before: xv})
				default:
					walk(p, xv, yv)
				}
			}
			return
		}
		xl, xIsList := x.([]any)
		yl, yIsList := y.([]any)
		if xIsList && yIsList {
			for i := 0; i < max(len(xl), len(yl)); i++ {
				p := path + "[" + strconv.Itoa(i) + "]"
				switch {
				case i >= len(xl):
					out = append(out, change{Path: p, Change: "added", After: yl[i]})
				case i >= len(yl):
					out = append(out, change{Path: p, Change: "removed", Before: xl[i]})
				default:
					walk(p, xl[i], yl[i])
				}
			}
			return
		}
		if !reflect.DeepEqual(x, y) {
			out = append(out, change{Path: path, Change: "changed", Before: x, After: y})
		}
	}
	walk("", a, b)
	sort.Slice(out, func(i, j int) bool { return out[i].Path < out[j].Path })
	return out
}

// diffVersion compares a version with another (?against=N, default the one
// before it).
func (s *server) diffVersion(c *gin.Context) {
	n, ok := versionParam(c)
	if !ok {
		return
	}
	against := n - 1
	if v := c.Query("against"); v != "" {
		a, err := strconv.Atoi(v)
		if err != nil || a < 1 {
			problem(c, http.StatusBadRequest, "against must be a version number")
			return
		}
		against = a
	}
	if against < 1 {
		problem(c, http.StatusBadRequest, fmt.Sprintf("version %d has no earlier version; pass ?against=N", n))
		return
	}
	ctx := c.Request.Context()
	from, err := s.Store.GetVersionNumber(ctx, c.Param("id"), against)
	if err != nil {
		fail(c, err)
		return
	}
	to, err := s.Store.GetVersionNumber(ctx, c.Param("id"), n)
	if err != nil {
		fail(c, err)
		return
	}
	var a, b any
	if err := json.Unmarshal(from.Document, &a); err != nil {
		fail(c, err)
		return
	}
	if err := json.Unmarshal(to.Document, &b); err != nil {
		fail(c, err)
		return
	}
	changes := diffDocs(a, b)
	if changes == nil {
		changes = []change{}
	}
	c.JSON(http.StatusOK, versionDiff{From: against, To: n, Changes: changes})
}
