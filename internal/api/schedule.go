package api

import (
	"encoding/json"
	"net/http"
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
	next := sched.NextN(time.Now(), 5)
	tz := st.Timezone
	if tz == "" {
		tz = "UTC"
	}
	out := make([]string, len(next))
	for i, t := range next {
		out[i] = t.In(sched.Location()).Format(time.RFC3339)
	}
	misfire := st.Misfire
	if misfire == "" {
		misfire = "skip"
	}
	c.JSON(http.StatusOK, scheduleView{Cron: st.Cron, Timezone: tz, Misfire: misfire, Description: cronspec.Describe(st.Cron),
		Active: v.Active, Next: out})
}
