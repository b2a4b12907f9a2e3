package api

import (
	"encoding/json"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/switchboard-dev/switchboard/internal/trigger/schedule"
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
	info, err := describeSchedule(st.Cron, st.Timezone, time.Now())
	if err != nil {
		problem(c, http.StatusUnprocessableEntity, err.Error())
		return
	}
	misfire := st.Misfire
	if misfire == "" {
		misfire = "skip"
	}
	info["misfire"] = misfire
	info["active"] = v.Active
	c.JSON(http.StatusOK, info)
}

// describeCron answers for a schedule being edited, before it is saved: the
// same words and fire times the saved one gets, from the one describer.
func (s *server) describeCron(c *gin.Context) {
	cron := c.Query("cron")
	if cron == "" {
		problem(c, http.StatusBadRequest, "cron is required", &FieldError{Path: "cron", Message: "is required"})
		return
	}
	info, err := describeSchedule(cron, c.Query("timezone"), time.Now())
	if err != nil {
		problem(c, http.StatusUnprocessableEntity, err.Error(), &FieldError{Path: "cron", Message: err.Error()})
		return
	}
	c.JSON(http.StatusOK, info)
}

// describeSchedule is a cron spec in words with its next five fire times, in
// the schedule's own time zone (UTC when none is named).
func describeSchedule(cron, timezone string, now time.Time) (gin.H, error) {
	sched, err := schedule.Parse(cron, timezone)
	if err != nil {
		return nil, err
	}
	next := sched.NextN(now, 5)
	if timezone == "" {
		timezone = "UTC"
	}
	out := make([]string, len(next))
	for i, t := range next {
		out[i] = t.In(sched.Location()).Format(time.RFC3339)
	}
	return gin.H{"cron": cron, "timezone": timezone, "description": schedule.Describe(cron), "next": out}, nil
}
