package api

import (
	"encoding/json"
	"net/http"
	"strings"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/switchboard-dev/switchboard/internal/cronspec"
	"github.com/switchboard-dev/switchboard/internal/workflow"
)

func (s *server) scheduleInfo(c *gin.Context) {
	v, err := s.Flows.Get(c.Request.Context(), c.Param("id"))
	if err != nil {
		fail(c, err)
		return
	}
	var doc workflow.Document
	if err := json.Unmarshal(v.Document, &doc); err != nil {
		fail(c, err)
		return
	}
	st := doc.Trigger.Schedule
	if doc.Trigger.Type != "schedule" || st == nil {
		problem(c, http.StatusConflict, "this workflow is not started by a schedule")
		return
	}
	sched, err := cronspec.Parse(st.Cron, st.Timezone)
	if err != nil {
		problem(c, http.StatusUnprocessableEntity, err.Error())
		return
	}
	misfire := st.Misfire
	if misfire == "" {
		misfire = "skip"
	}
	d := describe(sched, st.Cron, st.Timezone)
	c.JSON(http.StatusOK, scheduleView{Cron: st.Cron, Timezone: d.Timezone, Misfire: misfire, Description: d.Description,
		Active: v.Active, Next: d.Next})
}

// describeSchedule describes a spec being edited, with the same describer
// and fire times as a saved schedule; a bad spec or zone is a 422 naming
// the query parameter.
func (s *server) describeSchedule(c *gin.Context) {
	spec, tz := c.Query("cron"), c.Query("timezone")
	if spec == "" {
		problem(c, http.StatusUnprocessableEntity, "cron is required", &FieldError{Path: "cron", Message: "is required"})
		return
	}
	sched, err := cronspec.Parse(spec, tz)
	if err != nil {
		field := "cron"
		if strings.Contains(err.Error(), "timezone") { // as workflow validation tells them apart
			field = "timezone"
		}
		problem(c, http.StatusUnprocessableEntity, err.Error(), &FieldError{Path: field, Message: err.Error()})
		return
	}
	c.JSON(http.StatusOK, describe(sched, spec, tz))
}

// describe is a parsed spec in words with its next five fire times, in the
// schedule's zone.
func describe(sched *cronspec.Schedule, spec, tz string) scheduleDescription {
	if tz == "" {
		tz = "UTC"
	}
	next := sched.NextN(time.Now(), 5)
	out := make([]string, len(next))
	for i, t := range next {
		out[i] = t.In(sched.Location()).Format(time.RFC3339)
	}
	return scheduleDescription{Cron: spec, Timezone: tz, Description: cronspec.Describe(spec), Next: out}
}
